"""Share of wallet by tier, retention rate by tier and cohort, products per customer: each
over a small set of customers planted at a branch of their own, its figures worked out by hand
here. The past a retention period needs (when customers joined, their tier then, when they
closed) is written straight to the tables; everything else goes through the API."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.customer.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import scalar
from tests.service.customer.factories import (
    card_number,
    create_customer,
    open_account,
    transaction,
)
from tests.waiting import wait_until


def _branch() -> str:
    return f"R{uuid.uuid4().hex[:8].upper()}"


async def _tier(client: httpx.AsyncClient, customer_id: str, tier: str) -> None:
    async def reached() -> bool:
        found = (await client.get(f"/v1/customers/{customer_id}")).json()
        return bool(found["segments"]["value_tier"] == tier)

    await wait_until(reached, timeout=20)


async def _post(client: httpx.AsyncClient, *postings: dict[str, Any]) -> None:
    answer = await client.post("/v1/transactions", json={"transactions": list(postings)})
    assert answer.status_code == 200, answer.text


async def _declare(client: httpx.AsyncClient, customer_id: str, amount: str) -> None:
    answer = await client.post(
        f"/v1/customers/{customer_id}/external-holdings",
        json={
            "institution_kind": "bank",
            "product_type": "deposit",
            "amount_cny": amount,
            "declared_on": str(datetime.now(UTC).date() - timedelta(days=1)),
        },
    )
    assert answer.status_code == 201, answer.text


def _shares(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (
        entry["customers"],
        entry["known"],
        Decimal(entry["bank_assets_cny"]),
        Decimal(entry["declared_elsewhere_cny"]),
        entry["share"] and Decimal(entry["share"]),
        entry["mean_share"] and Decimal(entry["mean_share"]),
        [band["customers"] for band in entry["bands"]],
        Decimal(entry["outflows_to_other_banks_cny"]),
        entry["customers_with_outflows"],
    )


class TestShareOfWalletByTier:
    async def test_the_distribution_counts_the_undeclared_as_customers_not_as_a_share(
        self, client: httpx.AsyncClient
    ) -> None:
        branch = _branch()
        out = {"direction": "debit", "kind": "transfer_out", "channel": "mobile"}
        accounts = {}
        for name, deposit in [
            ("w1", "300000.00"),
            ("w2", "50000.00"),
            ("w3", "20000.00"),
            ("w4", "10000.00"),
        ]:
            customer = await create_customer(client, branch_code=branch)
            account = (await open_account(client, customer["id"]))["full_number"]
            await _post(client, transaction(account, amount=deposit))
            accounts[name] = (customer["id"], account)
        await _post(
            client,
            transaction(accounts["w3"][1], amount="5000.00", counterparty_bank="ICBC", **out),
            transaction(accounts["w4"][1], amount="2000.00", counterparty_bank="CCB", **out),
        )
        await _declare(client, accounts["w1"][0], "100000.00")
        await _declare(client, accounts["w2"][0], "150000.00")
        await _declare(client, accounts["w4"][0], "90000.00")
        await _tier(client, accounts["w1"][0], "key")

        answer = await client.get("/v1/analytics/share-of-wallet", params={"branch_code": branch})

        assert answer.status_code == 200, answer.text
        tiers = {t["tier"]: t for t in answer.json()["tiers"]}
        assert list(tiers) == ["key", "ordinary"]
        # w1: 300,000 of 400,000. w2: 50,000 of 200,000; w4: 8,000 of 98,000; w3 undeclared.
        assert _shares(tiers["key"]) == (
            1,
            1,
            Decimal("300000.00"),
            Decimal("100000.00"),
            Decimal("0.7500"),
            Decimal("0.7500"),
            [0, 0, 0, 1],
            Decimal("0.00"),
            0,
        )
        # 58,000 / 298,000 = 0.19463; (0.25 + 0.081633) / 2 = 0.16582.
        assert _shares(tiers["ordinary"]) == (
            3,
            2,
            Decimal("58000.00"),
            Decimal("240000.00"),
            Decimal("0.1946"),
            Decimal("0.1658"),
            [1, 1, 0, 0],
            Decimal("7000.00"),
            2,
        )
        # 358,000 / 698,000 = 0.51289; (0.75 + 0.25 + 0.081633) / 3 = 0.36054.
        assert _shares(answer.json()["total"]) == (
            4,
            3,
            Decimal("358000.00"),
            Decimal("340000.00"),
            Decimal("0.5129"),
            Decimal("0.3605"),
            [1, 1, 0, 1],
            Decimal("7000.00"),
            2,
        )


async def _planted(
    client: httpx.AsyncClient,
    settings: Settings,
    branch: str,
    *,
    joined: str,
    tier: str,
    booked: tuple[str, ...] = (),
    contacted: tuple[str, ...] = (),
    closed: str | None = None,
    status: str = "closed",
) -> str:
    """A customer who joined on ``joined`` in ``tier``, with postings and interactions on the
    given days, closed (or erased) on ``closed``; every day at noon in Shanghai."""
    customer = (await create_customer(client, branch_code=branch))["id"]
    account = (await open_account(client, customer, opened_on="2023-01-02"))["full_number"]
    if booked:
        await _post(
            client, *(transaction(account, booked_at=f"{day}T12:00:00+08:00") for day in booked)
        )
    for day in contacted:
        answer = await client.post(
            "/v1/interactions",
            json={
                "external_id": f"I-{uuid.uuid4().hex[:12]}",
                "customer_id": customer,
                "channel": "phone",
                "kind": "balance_enquiry",
                "occurred_at": f"{day}T12:00:00+08:00",
            },
        )
        assert answer.status_code in (200, 201), answer.text
    moment = datetime.fromisoformat(f"{joined}T12:00:00+08:00")
    await scalar(
        settings,
        "UPDATE customer.customers SET created_at = CAST(:at AS timestamptz),"
        " status = CASE WHEN CAST(:closed AS timestamptz) IS NULL THEN status ELSE :status END,"
        " closed_at = CAST(:closed AS timestamptz) WHERE id = :id RETURNING id",
        at=moment,
        closed=closed and datetime.fromisoformat(f"{closed}T12:00:00+08:00"),
        status=status,
        id=uuid.UUID(customer),
    )
    await scalar(
        settings,
        "INSERT INTO customer.segment_changes"
        " (customer_id, dimension, previous, current, reason, facts, effective_at)"
        " VALUES (:id, 'value_tier', NULL, :tier, 'planted', '{}', CAST(:at AS timestamptz))"
        " RETURNING id",
        id=uuid.UUID(customer),
        tier=tier,
        at=moment,
    )
    return str(customer)


def _groups(answer: httpx.Response) -> dict[str, tuple[int, int, int, int, Decimal]]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {
        g["group"]: (
            g["active_at_start"],
            g["retained"],
            g["closed"],
            g["lapsed"],
            Decimal(g["retention_rate"]),
        )
        for g in [*body["groups"], body["total"]]
    }


class TestRetention:
    @pytest.fixture
    async def branch(self, client: httpx.AsyncClient, customer_settings: Settings) -> str:
        """2025-Q1 starts 2025-01-01 in Shanghai; active then means a posting or an
        interaction after 2024-07-05 (180 days), and still active at its end one after
        2024-10-03."""
        branch = _branch()

        async def plant(**facts: Any) -> str:
            return await _planted(client, customer_settings, branch, **facts)

        # Premium, joined 2024-Q2: one stays, one closes in February.
        await plant(joined="2024-06-01", tier="premium", booked=("2024-12-15", "2025-03-20"))
        await plant(
            joined="2024-06-01", tier="premium", booked=("2024-12-15",), closed="2025-02-10"
        )
        # Key, joined 2024-Q1: one lapses (nothing after August), one stays by calling in.
        await plant(joined="2024-03-01", tier="key", booked=("2024-08-01",))
        await plant(joined="2024-03-01", tier="key", contacted=("2024-11-01", "2025-02-01"))
        # Ordinary, joined 2024-Q4: two stay, one is erased in March.
        await plant(joined="2024-10-15", tier="ordinary", booked=("2024-11-01", "2025-03-01"))
        await plant(joined="2024-10-20", tier="ordinary", booked=("2024-12-01", "2025-03-30"))
        await plant(
            joined="2024-10-15",
            tier="ordinary",
            booked=("2024-11-01",),
            closed="2025-03-05",
            status="erased",
        )
        # Not active at the start: idle since May, joined in the period, closed before it.
        await plant(joined="2024-01-10", tier="ordinary", booked=("2024-05-01",))
        await plant(joined="2025-02-01", tier="ordinary", booked=("2025-02-02",))
        await plant(
            joined="2024-09-01",
            tier="ordinary",
            booked=("2024-12-01", "2025-01-15"),
            closed="2024-12-20",
        )
        return branch

    async def test_by_tier_at_the_start(self, client: httpx.AsyncClient, branch: str) -> None:
        answer = await client.get(
            "/v1/analytics/retention", params={"period": "2025-Q1", "branch_code": branch}
        )

        assert [g["group"] for g in answer.json()["groups"]] == ["premium", "key", "ordinary"]
        assert _groups(answer) == {
            "premium": (2, 1, 1, 0, Decimal("0.5000")),
            "key": (2, 1, 0, 1, Decimal("0.5000")),
            "ordinary": (3, 2, 1, 0, Decimal("0.6667")),
            "all": (7, 4, 2, 1, Decimal("0.5714")),
        }
        body = answer.json()
        assert (body["complete"], body["lapse_after_days"], body["cohort"]) == (True, 180, None)
        assert body["start"].startswith("2024-12-31T16:00:00")

    async def test_by_cohort_of_joining(self, client: httpx.AsyncClient, branch: str) -> None:
        by_quarter = await client.get(
            "/v1/analytics/retention",
            params={"period": "2025-Q1", "by": "cohort", "branch_code": branch},
        )
        by_month = await client.get(
            "/v1/analytics/retention",
            params={"period": "2025-Q1", "by": "cohort", "cohort": "month", "branch_code": branch},
        )

        assert _groups(by_quarter) == {
            "2024-Q1": (2, 1, 0, 1, Decimal("0.5000")),
            "2024-Q2": (2, 1, 1, 0, Decimal("0.5000")),
            "2024-Q4": (3, 2, 1, 0, Decimal("0.6667")),
            "all": (7, 4, 2, 1, Decimal("0.5714")),
        }
        assert [g["group"] for g in by_month.json()["groups"]] == ["2024-03", "2024-06", "2024-10"]
        # March alone: the one who joined in February is in, the February closure and the
        # August idler are not; of six, the erasure is the one lost.
        march = await client.get(
            "/v1/analytics/retention", params={"period": "2025-03", "branch_code": branch}
        )
        assert _groups(march)["all"][:4] == (6, 5, 1, 0)


class TestRetentionPeriods:
    @pytest.mark.parametrize("period", ["2025-13", "2025-Q5", "25", "2025-3", "2999"])
    async def test_a_period_that_is_not_one_or_has_not_begun_is_refused(
        self, client: httpx.AsyncClient, period: str
    ) -> None:
        answer = await client.get("/v1/analytics/retention", params={"period": period})

        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "period"

    async def test_a_running_period_ends_now(self, client: httpx.AsyncClient) -> None:
        year = str(datetime.now(UTC).year)

        body = (await client.get("/v1/analytics/retention", params={"period": year})).json()

        assert body["complete"] is False
        assert datetime.fromisoformat(body["end"]) <= datetime.now(UTC)


class TestProductsPerCustomer:
    async def test_the_kinds_of_product_held_by_tier(self, client: httpx.AsyncClient) -> None:
        branch = _branch()
        rich = (await create_customer(client, branch_code=branch))["id"]
        current = (await open_account(client, rich))["full_number"]
        await open_account(client, rich)  # a second current account is no second product
        await open_account(
            client, rich, product_type="card", product_code="CARD", card_number=card_number()
        )
        await open_account(
            client, rich, product_type="term_deposit", product_code="TD", maturity_date="2030-01-15"
        )
        await _post(client, transaction(current, amount="300000.00"))
        single = (await create_customer(client, branch_code=branch))["id"]
        await open_account(client, single)
        await create_customer(client, branch_code=branch)  # holds nothing yet
        double = (await create_customer(client, branch_code=branch))["id"]
        await open_account(client, double)
        await open_account(client, double, product_type="wealth", product_code="WM")
        gone = (await create_customer(client, branch_code=branch))["id"]
        closed = await client.post(
            f"/v1/customers/{gone}/close", json={"version": 1, "reason": "moved abroad"}
        )
        assert closed.status_code == 200, closed.text
        await _tier(client, rich, "key")

        answer = await client.get(
            "/v1/analytics/products-per-customer", params={"branch_code": branch}
        )

        assert answer.status_code == 200, answer.text
        body = answer.json()
        depth = {
            t["tier"]: (
                t["customers"],
                Decimal(t["mean_products"]),
                {d["products"]: d["customers"] for d in t["distribution"]},
            )
            for t in [*body["tiers"], body["total"]]
        }
        assert depth == {
            "key": (1, Decimal("3.00"), {3: 1}),
            "ordinary": (3, Decimal("1.00"), {0: 1, 1: 1, 2: 1}),
            "all": (4, Decimal("1.50"), {0: 1, 1: 1, 2: 1, 3: 1}),
        }
        assert body["product_kinds"] == ["current", "term_deposit", "loan", "card", "wealth"]


class TestAccess:
    @pytest.mark.parametrize(
        "path",
        [
            "/v1/analytics/share-of-wallet",
            "/v1/analytics/retention?period=2025",
            "/v1/analytics/products-per-customer",
        ],
    )
    async def test_as_the_other_analytics_supervisors_read_them_and_managers_do_not(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        manager = development_bearer(
            Role.CUSTOMER_MANAGER, subject="m-li", manager_id=str(uuid.uuid4())
        )
        branch_staff = development_bearer(Role.BRANCH_STAFF, subject="b-wu", branch="BJ001")
        supervisor = development_bearer(Role.SUPERVISOR, subject="s-1")

        assert (await client.get(path, headers=manager)).status_code == 403
        assert (await client.get(path, headers=branch_staff)).status_code == 403
        assert (await client.get(path, headers=supervisor)).status_code == 200
