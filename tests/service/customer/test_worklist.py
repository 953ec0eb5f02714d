"""A manager's worklist: reviews due and overdue, the opportunities they own and the visits
to their potential customers, in one prioritised list with keyset pages, on the real database
through the API, with the clock injected."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contracts.opportunities import OpportunityCreated
from services.customer.app import create_app
from services.customer.config import Settings
from services.customer.dependencies import current_time
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import publish_and_wait_applied, serving
from tests.service.customer.factories import create_customer

# A year and a day on: an ordinary customer registered today (every 365 days) is overdue.
LATER = timedelta(days=366)


@dataclass
class Clock:
    now: datetime


@dataclass
class Desk:
    """One manager's portfolio, leads and opportunities, and the ids of what the list should
    show of them."""

    manager_id: str
    expected: list[str]
    hidden: list[str]


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
async def desk_client(
    customer_settings: Settings, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(customer_settings)
    app.dependency_overrides[current_time] = lambda: clock.now
    async with serving(app) as client:
        yield client


async def _created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post(path, json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def _manager(client: httpx.AsyncClient, branch: str = "BJ001") -> str:
    manager = await _created(
        client,
        "/v1/managers",
        {
            "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
            "name": "陈静",
            "branch_code": branch,
            "capacity": 50,
        },
    )
    return str(manager["id"])


async def _assigned_customer(client: httpx.AsyncClient, manager_id: str) -> str:
    customer = await create_customer(client, branch_code="BJ001")
    assigned = await client.put(
        f"/v1/customers/{customer['id']}/manager", json={"manager_id": manager_id}
    )
    assert assigned.status_code == 200, assigned.text
    return str(customer["id"])


async def _opportunity(
    settings: Settings, customer_id: str, owner_id: str | None, due_at: datetime, priority: int
) -> str:
    opportunity_id = uuid.uuid4()
    await publish_and_wait_applied(
        settings,
        OpportunityCreated(
            opportunity_id=opportunity_id,
            customer_id=uuid.UUID(customer_id),
            rule_id="large_withdrawal",
            rule_version=1,
            action="retention_call",
            product=None,
            priority=priority,
            owner="manager",
            owner_id=uuid.UUID(owner_id) if owner_id else None,
            channel="phone",
            due_at=due_at,
            expires_at=due_at + timedelta(days=30),
            facts={},
        ),
        source="/crm/events",
    )
    return str(opportunity_id)


async def _visit(client: httpx.AsyncClient, manager_id: str, planned_at: datetime) -> str:
    lead = await _created(
        client,
        "/v1/leads",
        {
            "name": "周敏",
            "source": "walk_in",
            "manager_id": manager_id,
            "branch_code": "BJ001",
            "estimated_value": {"amount": "5000000", "currency": "CNY"},
        },
    )
    visit = await _created(
        client,
        f"/v1/leads/{lead['id']}/visits",
        {"planned_at": planned_at.isoformat(), "purpose": "wealth review"},
    )
    return f"{lead['id']}/visits/{visit['id']}"


async def _desk(client: httpx.AsyncClient, settings: Settings, clock: Clock) -> Desk:
    """At ``clock.now + LATER``: an overdue review (A), a recent review that keeps B off the
    list, an opportunity due in two days on A, one a month off on B kept without an owner id,
    a colleague's on A, a visit three days overdue and one three weeks off."""
    manager_id, colleague = await _manager(client), await _manager(client)
    a = await _assigned_customer(client, manager_id)
    b = await _assigned_customer(client, manager_id)
    clock.now += LATER
    reviewed = await client.post(
        f"/v1/customers/{b}/reviews",
        json={"form": "call", "reviewed_at": (clock.now - timedelta(days=1)).isoformat()},
    )
    assert reviewed.status_code == 201, reviewed.text
    due_soon = await _opportunity(settings, a, manager_id, clock.now + timedelta(days=2), 80)
    month_off = await _opportunity(settings, b, None, clock.now + timedelta(days=30), 10)
    theirs = await _opportunity(settings, a, colleague, clock.now, 99)
    overdue_visit = await _visit(client, manager_id, clock.now - timedelta(days=3))
    far_visit = await _visit(client, manager_id, clock.now + timedelta(days=21))
    return Desk(
        manager_id,
        expected=[overdue_visit.split("/")[-1], a, due_soon, month_off],
        hidden=[b, theirs, far_visit.split("/")[-1]],
    )


async def _worklist(client: httpx.AsyncClient, manager_id: str, **params: Any) -> httpx.Response:
    return await client.get(f"/v1/managers/{manager_id}/worklist", params=params)


class TestPriority:
    async def test_overdue_first_then_due_then_scheduled_each_saying_why_and_since_when(
        self, desk_client: httpx.AsyncClient, customer_settings: Settings, clock: Clock
    ) -> None:
        desk = await _desk(desk_client, customer_settings, clock)

        answer = await _worklist(desk_client, desk.manager_id, limit=200)

        assert answer.status_code == 200, answer.text
        page = answer.json()
        entries = {e["id"]: e for e in page["entries"]}
        # A manager registered takes unserved customers of other tests: only ours are compared.
        ours = [e["id"] for e in page["entries"] if e["id"] in desk.expected]
        assert ours == desk.expected
        assert set(entries).isdisjoint(desk.hidden)
        visit, review, due_soon, month_off = (entries[i] for i in desk.expected)
        assert (visit["kind"], visit["status"], visit["overdue_days"]) == ("visit", "overdue", 3)
        assert (visit["lead_grade"], visit["weight"]) == ("A", 300)
        assert "wealth review" in visit["reason"]
        assert (review["kind"], review["status"], review["overdue_days"]) == (
            "review",
            "overdue",
            1,
        )
        assert "a review every 365 days" in review["reason"]
        assert review["since"] is not None
        assert (due_soon["kind"], due_soon["status"], due_soon["weight"]) == (
            "opportunity",
            "due",
            180,
        )
        assert due_soon["since"] is not None
        assert (month_off["status"], month_off["overdue_days"]) == ("scheduled", 0)
        assert page["overdue"] >= 2
        assert page["due"] >= 1

    async def test_a_visit_leaves_the_list_once_its_outcome_is_recorded(
        self, desk_client: httpx.AsyncClient, clock: Clock
    ) -> None:
        manager_id = await _manager(desk_client)
        visit = await _visit(desk_client, manager_id, clock.now)
        before = (await _worklist(desk_client, manager_id)).json()["entries"]
        recorded = await desk_client.post(f"/v1/leads/{visit}/outcome", json={"outcome": "met"})
        after = (await _worklist(desk_client, manager_id)).json()["entries"]

        assert recorded.status_code == 200, recorded.text
        visit_id = visit.split("/")[-1]
        assert visit_id in {e["id"] for e in before}
        assert visit_id not in {e["id"] for e in after}


class TestPaging:
    async def test_pages_of_one_neither_skip_nor_repeat(
        self, desk_client: httpx.AsyncClient, customer_settings: Settings, clock: Clock
    ) -> None:
        desk = await _desk(desk_client, customer_settings, clock)
        whole = (await _worklist(desk_client, desk.manager_id, limit=200)).json()["entries"]
        paged: list[str] = []
        cursor = None
        for _ in range(len(whole) + 1):
            params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            page = (await _worklist(desk_client, desk.manager_id, **params)).json()
            paged += [e["id"] for e in page["entries"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert paged == [e["id"] for e in whole]
        assert len(paged) >= len(desk.expected)

    @pytest.mark.parametrize(
        ("params", "field"), [({"cursor": "not-a-cursor"}, "cursor"), ({"limit": 0}, "limit")]
    )
    async def test_bad_input_is_a_422_naming_the_parameter(
        self, desk_client: httpx.AsyncClient, params: dict[str, Any], field: str
    ) -> None:
        manager_id = await _manager(desk_client)

        answer = await _worklist(desk_client, manager_id, **params)

        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"] == field


class TestAccess:
    async def test_a_manager_reads_their_own_list_and_branch_staff_their_branchs(
        self, desk_client: httpx.AsyncClient, clock: Clock
    ) -> None:
        mine, colleague = await _manager(desk_client), await _manager(desk_client, "SH002")
        await _visit(desk_client, mine, clock.now)
        as_manager = development_bearer(Role.CUSTOMER_MANAGER, subject="m", manager_id=mine)
        own = await desk_client.get(f"/v1/managers/{mine}/worklist", headers=as_manager)
        other = await desk_client.get(f"/v1/managers/{colleague}/worklist", headers=as_manager)
        ours = development_bearer(Role.BRANCH_STAFF, subject="t", branch="BJ001")
        branch_own = await desk_client.get(f"/v1/managers/{mine}/worklist", headers=ours)
        branch_other = await desk_client.get(f"/v1/managers/{colleague}/worklist", headers=ours)
        nobody = await desk_client.get(f"/v1/managers/{uuid.uuid4()}/worklist")
        agent = development_bearer(Role.CONTACT_CENTRE_AGENT, subject="a")
        forbidden = await desk_client.get(f"/v1/managers/{mine}/worklist", headers=agent)

        assert own.status_code == 200, own.text
        assert len(own.json()["entries"]) >= 1
        assert (other.status_code, other.headers["content-type"]) == (
            404,
            "application/problem+json",
        )
        assert branch_own.status_code == 200
        assert branch_own.json()["entries"] == own.json()["entries"]
        assert branch_other.status_code == 404
        assert nobody.status_code == 404
        assert forbidden.status_code == 403
