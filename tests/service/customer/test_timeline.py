"""A customer's timeline: interactions, postings, complaints and opportunities in time order,
read a page at a time through a keyset cursor, filtered, and limited as the 360 view is."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from contracts.complaints import ComplaintClosed, ComplaintReceived
from contracts.opportunities import OpportunityCreated
from services.customer.app import create_app
from services.customer.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import publish, serving
from tests.service.customer.factories import (
    create_customer,
    open_account,
    record_contact,
    transaction,
)
from tests.waiting import wait_until

NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


async def _post(client: httpx.AsyncClient, account: str, at: datetime, **changes: Any) -> str:
    body = transaction(account, booked_at=at.isoformat(), **changes)
    answer = await client.post("/v1/transactions", json={"transactions": [body]})
    assert answer.status_code == 200, answer.text
    return str(body["transaction_id"])


async def _walk(client: httpx.AsyncClient, customer_id: str, **params: Any) -> list[str]:
    """Every entry's id, following the cursor page after page."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await client.get(f"/v1/customers/{customer_id}/timeline", params=query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        ids += [entry["id"] for entry in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


class TestPaging:
    async def test_a_page_boundary_between_entries_of_one_moment_neither_skips_nor_repeats(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        account = (await open_account(client, customer["id"]))["full_number"]
        earlier = await record_contact(client, customer["id"], NOON - timedelta(hours=1))
        same = [
            await record_contact(client, customer["id"], NOON),
            await record_contact(client, customer["id"], NOON),
            await _post(client, account, NOON),
            await _post(client, account, NOON),
        ]
        later = await _post(client, account, NOON + timedelta(hours=1))

        whole = await _walk(client, customer["id"], limit=200)
        for size in (1, 2, 3):
            paged = await _walk(client, customer["id"], limit=size)
            assert paged == whole, f"pages of {size}"

        assert len(whole) == 6
        assert whole[0] == later
        assert whole[-1] == earlier
        assert set(whole[1:5]) == set(same)

    async def test_a_cursor_not_given_by_the_service_is_a_422_naming_it(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        answer = await client.get(
            f"/v1/customers/{customer['id']}/timeline", params={"cursor": "bm90LWEtY3Vyc29y"}
        )
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["cursor"]


class TestFilters:
    async def test_kind_channel_and_time_range_each_narrow_the_timeline(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        account = (await open_account(client, customer["id"]))["full_number"]
        call = await record_contact(client, customer["id"], NOON - timedelta(days=2))
        visit = await record_contact(client, customer["id"], NOON, channel="branch")
        salary = await _post(client, account, NOON - timedelta(days=1), channel="core")
        path = f"/v1/customers/{customer['id']}/timeline"

        async def ids(**params: Any) -> list[str]:
            answer = await client.get(path, params=params)
            assert answer.status_code == 200, answer.text
            return [entry["id"] for entry in answer.json()["entries"]]

        assert await ids() == [visit, salary, call]
        assert await ids(kind="transaction") == [salary]
        assert await ids(kind="interaction") == [visit, call]
        assert await ids(channel="branch") == [visit]
        assert await ids(since=(NOON - timedelta(days=1)).isoformat()) == [visit, salary]
        assert await ids(until=NOON.isoformat()) == [salary, call]
        assert await ids(kind="complaint") == []

    async def test_a_posting_shows_its_amount_and_its_reversal(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        account = (await open_account(client, customer["id"]))["full_number"]
        await _post(client, account, NOON, amount="8000.00", kind="salary")

        page = (await client.get(f"/v1/customers/{customer['id']}/timeline")).json()

        (entry,) = page["entries"]
        assert entry["kind"] == "transaction"
        assert (entry["subject"], entry["direction"]) == ("salary", "credit")
        assert (float(entry["amount"]), entry["currency"]) == (8000.0, "CNY")
        assert entry["status"] is None


class TestCases:
    async def test_a_complaint_stays_on_the_timeline_once_closed_beside_an_opportunity(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)
        customer_id = uuid.UUID(customer["id"])
        complaint_id, opportunity_id = uuid.uuid4(), uuid.uuid4()
        await publish(
            customer_settings,
            ComplaintReceived(
                complaint_id=complaint_id,
                customer_id=customer_id,
                channel="phone",
                category="fees",
                priority="high",
                received_at=NOON,
                due_at=NOON + timedelta(days=5),
            ),
            ComplaintClosed(
                complaint_id=complaint_id,
                customer_id=customer_id,
                outcome="resolved",
                closed_at=NOON + timedelta(days=1),
            ),
            source="/crm/complaints",
        )
        await publish(
            customer_settings,
            OpportunityCreated(
                opportunity_id=opportunity_id,
                customer_id=customer_id,
                rule_id="r-retain",
                rule_version=1,
                action="retention_call",
                product=None,
                priority=1,
                owner="manager",
                owner_id=None,
                channel="phone",
                due_at=datetime.now(UTC) + timedelta(days=2),
                expires_at=datetime.now(UTC) + timedelta(days=9),
                facts={},
            ),
            source="/crm/events",
        )
        path = f"/v1/customers/{customer['id']}/timeline"

        async def both_shown() -> bool:
            entries = (await client.get(path)).json()["entries"]
            statuses = {e["id"]: (e["kind"], e["status"]) for e in entries}
            return statuses == {
                str(complaint_id): ("complaint", "resolved"),
                str(opportunity_id): ("opportunity", "open"),
            }

        await wait_until(both_shown, timeout=20)
        complaints = (await client.get(path, params={"kind": "complaint"})).json()["entries"]
        assert [(c["subject"], c["summary"], c["at"]) for c in complaints] == [
            ("fees", "high", NOON.isoformat().replace("+00:00", "Z"))
        ]


class TestReach:
    async def test_staff_reach_the_timeline_of_their_own_customers_only(
        self, customer_settings: Settings
    ) -> None:
        async with serving(create_app(customer_settings)) as client:
            ours = await create_customer(client, branch_code="BJ001")
            theirs = await create_customer(client, branch_code="SH002")
            client.headers.update(development_bearer(Role.BRANCH_STAFF, branch="BJ001"))

            own = await client.get(f"/v1/customers/{ours['id']}/timeline")
            other = await client.get(f"/v1/customers/{theirs['id']}/timeline")
            nobody = await client.get(f"/v1/customers/{uuid.uuid4()}/timeline")

        assert own.status_code == 200
        assert other.status_code == nobody.status_code == 404
