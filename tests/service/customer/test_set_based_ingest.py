"""The set-based ingest against what posting one transaction at a time would do."""

import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from contracts.customer import TransactionPosted
from services.customer.config import Settings
from shared.db import create_engine
from tests.service.conftest import scalar
from tests.service.customer.factories import create_customer, open_account, transaction

SEED = 20261206


@pytest.fixture
def customer_settings(migrated_database: str) -> Settings:
    """The service's own batch limit, a thousand (the package's fixture lowers it to 50)."""
    return Settings(database_url=migrated_database, relay_poll_interval_seconds=0.05)


async def _rows(settings: Settings, sql: str, **params: object) -> list[Any]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def _posted_events(settings: Settings, customer_id: str) -> list[dict[str, Any]]:
    rows = await _rows(
        settings,
        "SELECT CAST(payload AS text) AS payload FROM outbox"
        " WHERE message_key = :k AND event_type = :t ORDER BY seq",
        k=customer_id,
        t=TransactionPosted.event_type,
    )
    return [json.loads(row.payload) for row in rows]


@dataclass
class _Books:
    """The straightforward computation: each transaction posted on its own, in order."""

    zone: ZoneInfo
    balances: dict[str, Decimal]
    loans: set[str]
    posted: set[str] = field(default_factory=set)
    flows: dict[tuple[str, str], list[Decimal]] = field(
        default_factory=lambda: defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    )
    events: list[tuple[str, Decimal]] = field(default_factory=list)

    def post(self, batch: list[dict[str, Any]]) -> tuple[int, int]:
        posted = 0
        for t in batch:
            if t["transaction_id"] in self.posted:
                continue
            self.posted.add(t["transaction_id"])
            amount = Decimal(t["amount"])
            change = amount if t["direction"] == "credit" else -amount
            number = t["account_number"]
            self.balances[number] += -change if number in self.loans else change
            month = datetime.fromisoformat(t["booked_at"]).astimezone(self.zone).strftime("%Y-%m")
            figures = self.flows[(month, t["currency"])]
            figures[0 if t["direction"] == "credit" else 1] += amount
            figures[2] += 1
            self.events.append((t["transaction_id"], self.balances[number]))
            posted += 1
        return posted, len(batch) - posted


class TestSetBasedIngest:
    async def test_random_batches_give_the_balances_figures_and_events_of_one_at_a_time(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        draw = random.Random(SEED)
        created = await create_customer(client)
        current = (await open_account(client, created["id"], opening_balance="100.00"))[
            "full_number"
        ]
        loan = (
            await open_account(
                client,
                created["id"],
                product_type="loan",
                product_code="MORTGAGE",
                opening_balance="90000.00",
                payoff_date="2044-01-15",
            )
        )["full_number"]
        books = _Books(
            zone=ZoneInfo(customer_settings.bank_time_zone),
            balances={current: Decimal("100.00"), loan: Decimal("90000.00")},
            loans={loan},
        )
        # Around midnight of a month's end in the bank's zone, written with several offsets.
        midnight = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
        offsets = [timedelta(0), timedelta(hours=8), timedelta(hours=-5)]
        sent: list[dict[str, Any]] = []
        for _ in range(12):
            batch = []
            for _ in range(draw.randrange(1, 40)):
                if sent and draw.random() < 0.2:
                    batch.append(draw.choice(sent))  # an id posted before: a duplicate
                    continue
                at = midnight + timedelta(minutes=draw.randrange(-90, 90))
                batch.append(
                    transaction(
                        draw.choice([current, loan]),
                        direction=draw.choice(["credit", "debit"]),
                        amount=f"{draw.randrange(1, 10**6) / 100:.2f}",
                        booked_at=at.astimezone(timezone(draw.choice(offsets))).isoformat(),
                    )
                )
            batch = list({t["transaction_id"]: t for t in batch}.values())
            expected = books.post(batch)

            answer = await client.post("/v1/transactions", json={"transactions": batch})

            assert answer.status_code == 200, f"seed {SEED}: {answer.text}"
            assert (answer.json()["posted"], answer.json()["duplicates"]) == expected
            sent.extend(batch)

        balances = {
            row.account_number: row.balance
            for row in await _rows(
                customer_settings,
                "SELECT account_number, balance FROM accounts WHERE customer_id = CAST(:c AS uuid)",
                c=created["id"],
            )
        }
        assert balances == books.balances, f"seed {SEED}"
        flows = {
            (row.month.strftime("%Y-%m"), row.currency): [
                row.money_in,
                row.money_out,
                Decimal(row.transaction_count),
            ]
            for row in await _rows(
                customer_settings,
                "SELECT month, currency, money_in, money_out, transaction_count"
                " FROM monthly_flows WHERE customer_id = CAST(:c AS uuid)",
                c=created["id"],
            )
        }
        assert flows == dict(books.flows), f"seed {SEED}"
        events = [
            (e["transaction_id"], Decimal(e["balance_after"]))
            for e in await _posted_events(customer_settings, created["id"])
        ]
        assert events == books.events, f"seed {SEED}"

    async def test_an_event_written_by_the_database_is_the_one_the_model_writes(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        sent = transaction(
            account,
            amount="1234.5",
            direction="debit",
            kind="payment",
            channel="web",
            counterparty_bank="中国银行",
            booked_at="2026-11-30T23:59:59.250+08:00",
        )

        await client.post("/v1/transactions", json={"transactions": [sent]})

        (written,) = await _posted_events(customer_settings, created["id"])
        by_model = json.loads(
            TransactionPosted(
                customer_id=uuid.UUID(created["id"]),
                transaction_id=sent["transaction_id"],
                account_number=account,
                product_type="current",
                direction="debit",
                amount=Decimal("1234.5"),
                currency="CNY",
                balance_after=Decimal("-1234.50"),
                kind="payment",
                channel="web",
                counterparty_bank="中国银行",
                booked_at=datetime.fromisoformat(sent["booked_at"]),
            ).model_dump_json()
        )
        assert written.keys() == by_model.keys()
        for name in by_model:
            # The same value in the type a consumer reads (1234.5 and 1234.50 are one amount;
            # the database writes the time in UTC).
            assert (
                TransactionPosted.model_validate(written).__dict__[name]
                == (TransactionPosted.model_validate(by_model).__dict__[name])
            ), name

    async def test_a_closed_account_refuses_the_whole_batch(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        open_one = (await open_account(client, created["id"]))["full_number"]
        closed = (await open_account(client, created["id"]))["full_number"]
        shut = await client.post(f"/v1/accounts/{closed}/close", json={"closed_on": "2026-01-01"})
        assert shut.status_code == 200, shut.text
        good = transaction(open_one)

        answer = await client.post(
            "/v1/transactions", json={"transactions": [good, transaction(closed)]}
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "transactions[1].account_number"
        assert "closed" in answer.json()["detail"]
        count = await scalar(
            customer_settings,
            "SELECT count(*) FROM transactions WHERE transaction_id = :t",
            t=good["transaction_id"],
        )
        assert count == 0

    async def test_a_thousand_mixing_posted_and_duplicates_answers_each_in_order(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        earlier = [transaction(account, amount="1.00") for _ in range(400)]
        await client.post("/v1/transactions", json={"transactions": earlier})
        fresh = [transaction(account, amount="2.00") for _ in range(600)]
        mixed = [t for pair in zip(earlier, fresh[:400], strict=True) for t in pair] + fresh[400:]

        full = await client.post("/v1/transactions", json={"transactions": mixed})
        compact = await client.post(
            "/v1/transactions", params={"answer": "compact"}, json={"transactions": mixed}
        )

        assert full.status_code == 200
        assert (full.json()["posted"], full.json()["duplicates"]) == (600, 400)
        assert [r["transaction_id"] for r in full.json()["results"]] == [
            t["transaction_id"] for t in mixed
        ]
        assert [r["status"] for r in full.json()["results"][:4]] == [
            "duplicate",
            "posted",
            "duplicate",
            "posted",
        ]
        assert compact.json() == {
            "posted": 0,
            "duplicates": 1000,
            "duplicate_ids": [t["transaction_id"] for t in mixed],
            "reversed": 0,
            "reversal_duplicates": 0,
            "duplicate_reversal_ids": [],
        }
        balance = await scalar(
            customer_settings, "SELECT balance FROM accounts WHERE account_number = :a", a=account
        )
        assert balance == Decimal("1600.00")

    async def test_a_body_that_is_not_json_is_a_problem_naming_the_body(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.post(
            "/v1/transactions",
            content=b'{"transactions": [',
            headers={"content-type": "application/json"},
        )

        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"].startswith("body")
