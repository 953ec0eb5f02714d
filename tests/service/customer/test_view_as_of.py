"""The 360 view as of a past moment, against the real PostgreSQL: the view then is the live view
taken then, the changes since are listed, erasure reaches the history."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from services.customer.app import create_app
from services.customer.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from shared.migrations import upgrade
from tests.service.conftest import scalar, serving
from tests.service.customer.factories import (
    account_number,
    create_customer,
    open_account,
    transaction,
)
from tests.waiting import wait_until

# The parts of the view that can be read as of a moment.
AS_OF_PARTS = (
    "customer",
    "accounts",
    "total_balance_cny",
    "fee_discount_percent",
    "relationships",
    "group",
)
SUPERVISOR = development_bearer(Role.SUPERVISOR, subject="sup-wang")


async def _view(client: httpx.AsyncClient, customer_id: str, **params: Any) -> dict[str, Any]:
    answer = await client.get(f"/v1/customers/{customer_id}/view", params=params)
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


async def _live_then_moment(
    client: httpx.AsyncClient, customer_id: str
) -> tuple[dict[str, Any], str]:
    """The live view and a moment right after it, before anything else changes."""
    live = await _view(client, customer_id)
    moment = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    return live, moment


async def _post(client: httpx.AsyncClient, *rows: dict[str, Any]) -> None:
    answer = await client.post("/v1/transactions", json={"transactions": list(rows)})
    assert answer.status_code == 200, answer.text


class TestTheViewThenIsTheLiveViewThen:
    async def test_before_and_after_a_posting_and_a_tier_change(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        customer_id = created["id"]
        account = (await open_account(client, customer_id))["full_number"]
        await _post(client, transaction(account, amount="2500.00"))

        async def valued() -> bool:
            view = await _view(client, customer_id)
            return view["customer"]["segments"]["loyalty"] is not None

        await wait_until(valued, timeout=20)
        first, at_first = await _live_then_moment(client, customer_id)

        await _post(client, transaction(account, amount="1200000.00"))

        async def upgraded() -> bool:
            view = await _view(client, customer_id)
            return bool(view["customer"]["segments"]["value_tier"] == "premium")

        await wait_until(upgraded, timeout=20)
        second, at_second = await _live_then_moment(client, customer_id)
        await _post(client, transaction(account, amount="300.00", direction="debit"))

        then_first = await _view(client, customer_id, as_of=at_first)
        then_second = await _view(client, customer_id, as_of=at_second)

        for then, live in ((then_first, first), (then_second, second)):
            for part in AS_OF_PARTS:
                assert then[part] == live[part], part
            assert then["history_complete"] is True
        assert then_first["total_balance_cny"] == "2500.00"
        assert then_first["customer"]["segments"]["value_tier"] == "ordinary"
        assert then_second["total_balance_cny"] == "1202500.00"
        assert then_second["customer"]["segments"]["value_tier"] == "premium"
        tier = [c for c in then_first["changed_since"] if c["field"].endswith("value_tier")]
        assert [(c["old"], c["new"]) for c in tier] == [("ordinary", "premium")]

    async def test_a_manager_and_a_profile_change_are_seen_in_what_changed_since(
        self, client: httpx.AsyncClient
    ) -> None:
        branch = f"B{uuid.uuid4().hex[:8].upper()}"
        manager = (
            await client.post(
                "/v1/managers",
                json={
                    "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
                    "name": "陈静",
                    "branch_code": branch,
                },
            )
        ).json()
        created = await create_customer(client, branch_code=branch)
        live, moment = await _live_then_moment(client, created["id"])

        assigned = await client.put(
            f"/v1/customers/{created['id']}/manager", json={"manager_id": manager["id"]}
        )
        assert assigned.status_code == 200, assigned.text
        renamed = await client.patch(
            f"/v1/customers/{created['id']}",
            json={"version": assigned.json()["version"], "name": "张三丰"},
        )
        assert renamed.status_code == 200, renamed.text

        then = await _view(client, created["id"], as_of=moment)

        assert then["customer"] == live["customer"]
        changes = {c["field"]: (c["old"], c["new"]) for c in then["changed_since"]}
        assert changes["customer.manager_id"] == (None, manager["id"])
        assert changes["customer.name"] == (created["name"], "张三丰")
        assert all(c["at"] > moment for c in then["changed_since"])

    async def test_a_household_and_a_tie_made_since_are_not_in_the_view_then(
        self, client: httpx.AsyncClient
    ) -> None:
        head, spouse = await create_customer(client), await create_customer(client)
        live, moment = await _live_then_moment(client, spouse["id"])

        household = (
            await client.post("/v1/customer-groups", json={"kind": "household", "name": "周家"})
        ).json()
        for member, role in ((head, "head"), (spouse, "spouse")):
            joined = await client.put(
                f"/v1/customer-groups/{household['id']}/members/{member['id']}",
                json={"role": role, "since": "2026-01-01"},
            )
            assert joined.status_code in (200, 201), joined.text
        tied = await client.post(
            f"/v1/customers/{head['id']}/relationships",
            json={"related_customer_id": spouse["id"], "kind": "household", "since": "2026-01-01"},
        )
        assert tied.status_code == 201, tied.text

        then = await _view(client, spouse["id"], as_of=moment)
        now = await _view(client, spouse["id"])

        for part in AS_OF_PARTS:
            assert then[part] == live[part], part
        assert then["group"] is None
        assert now["group"]["group_id"] == household["id"]
        changes = {c["field"]: (c["old"], c["new"]) for c in then["changed_since"]}
        assert changes["group.group_id"] == (None, household["id"])
        assert changes["group.role"] == (None, "spouse")
        assert changes[f"relationships.{head['id']}:household.since"] == (None, "2026-01-01")


class TestTheMomentAsked:
    async def test_a_moment_without_an_offset_is_a_422_naming_as_of(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)

        answer = await client.get(
            f"/v1/customers/{created['id']}/view", params={"as_of": "2026-03-03T10:00:00"}
        )

        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in answer.json()["errors"]] == ["as_of"]

    async def test_a_moment_before_the_customer_was_taken_on_is_a_422_naming_as_of(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)

        answer = await client.get(
            f"/v1/customers/{created['id']}/view", params={"as_of": "2020-01-01"}
        )

        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["as_of"]

    async def test_a_moment_in_the_future_is_read_as_now(self, client: httpx.AsyncClient) -> None:
        created = await create_customer(client)
        live = await _view(client, created["id"])
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()

        then = await _view(client, created["id"], as_of=tomorrow)

        assert then["as_of"] < tomorrow
        assert then["changed_since"] == []
        for part in AS_OF_PARTS:
            assert then[part] == live[part], part


class TestErasureReachesTheHistory:
    async def test_no_past_state_keeps_the_name_or_the_profile(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        full = (
            await client.get(f"/v1/customers/{created['id']}?reveal=true", headers=SUPERVISOR)
        ).json()
        renamed = await client.patch(
            f"/v1/customers/{created['id']}", json={"version": 1, "name": "张三丰"}
        )
        closed = await client.post(
            f"/v1/customers/{created['id']}/close",
            json={"version": renamed.json()["version"], "reason": "moved abroad"},
        )
        assert closed.status_code == 200, closed.text
        history = (
            "SELECT string_agg(snapshot::text, ' ') FROM customer_history WHERE customer_id = :c"
        )
        before = str(await scalar(customer_settings, history, c=uuid.UUID(created["id"])))
        assert "张三丰" in before
        assert full["profile"]["phones"][0] in before

        erased = await client.post(
            f"/v1/customers/{created['id']}/erasure",
            json={"version": closed.json()["version"], "reference": "DSR-2026-0100"},
            headers=SUPERVISOR,
        )

        assert erased.status_code == 200, erased.text
        after = str(await scalar(customer_settings, history, c=uuid.UUID(created["id"])))
        rows = "SELECT count(*) FROM customer_history WHERE customer_id = :c AND facet = 'customer'"
        assert int(str(await scalar(customer_settings, rows, c=uuid.UUID(created["id"])))) >= 4
        for personal in (created["name"], "张三丰", full["profile"]["phones"][0]):
            assert personal not in after
        assert full["profile"]["id_number"] not in after
        export = await client.get(f"/v1/customers/{created['id']}/export", headers=SUPERVISOR)
        states = [h["snapshot"] for h in export.json()["history"] if h["facet"] == "customer"]
        assert [state["status"] for state in states][-2:] == ["closed", "erased"]
        assert {state["name"] for state in states} == {"(erased)"}


class TestTheHistoryGap:
    async def test_a_customer_from_before_the_history_is_known_as_then_and_flagged(
        self, postgres_server: EmbeddedPostgres
    ) -> None:
        """A customer and an account made before migration 0018: the backfill makes their
        state known from the customer's dates, and a moment before the history began is
        answered with it, flagged incomplete, without the account not yet opened."""
        postgres_server.ensure_database("crm_customer_history_gap_test")
        settings = Settings(database_url=postgres_server.url("crm_customer_history_gap_test"))
        migrations = SERVICES["customer"].migrations
        await upgrade(settings, migrations, "0017")
        customer_id, account = uuid.uuid4(), account_number()
        await scalar(
            settings,
            "INSERT INTO customers (id, kind, name, status, version, profile, consent,"
            " value_tier, created_at, updated_at) VALUES (:id, 'individual', '周敏', 'active',"
            " 1, '{}', '{}', 'ordinary', '2026-01-05T10:00:00+08:00',"
            " '2026-01-05T10:00:00+08:00') RETURNING id",
            id=customer_id,
        )
        await scalar(
            settings,
            "INSERT INTO accounts (account_number, customer_id, product_type, product_code,"
            " currency, balance, opening_balance, status, opened_on) VALUES (:number, :id,"
            " 'current', 'CUR-STD', 'CNY', 800.00, 800.00, 'open', '2026-02-10')"
            " RETURNING account_number",
            number=account,
            id=customer_id,
        )
        await upgrade(settings, migrations)

        async with serving(create_app(settings)) as client:
            live = await _view(client, str(customer_id))
            in_february = await _view(client, str(customer_id), as_of="2026-02-20")
            in_january = await _view(client, str(customer_id), as_of="2026-01-20")
            now = await _view(client, str(customer_id), as_of=datetime.now(UTC).isoformat())

        assert in_february["history_complete"] is False
        assert in_february["history_complete_from"] > "2026-12"
        assert in_february["customer"]["name"] == "周敏"
        assert [(a["account_number"][-4:], a["balance"]) for a in in_february["accounts"]] == [
            (account[-4:], "800.00")
        ]
        assert in_january["accounts"] == []
        assert now["history_complete"] is True
        for part in AS_OF_PARTS:
            assert now[part] == live[part], part
