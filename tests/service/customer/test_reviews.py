"""The tier policy's reviews: scheduled from review_every_days, due and overdue by the clock
(injected), rescheduled by a tier change, recorded when done; and the fee discount the view
publishes for channels to apply."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.customer.app import create_app
from services.customer.config import Settings
from services.customer.dependencies import current_time
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import scalar, serving
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until

SUPERVISOR = development_bearer(Role.SUPERVISOR, subject="supervisor-1")


@dataclass
class Clock:
    now: datetime


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


async def _schedule(client: httpx.AsyncClient, customer_id: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/customers/{customer_id}/review")
    assert answer.status_code == 200, answer.text
    schedule: dict[str, Any] = answer.json()
    return schedule


def _day(moment: datetime) -> date:
    """The bank's date of a moment (Asia/Shanghai, the default zone)."""
    return (moment + timedelta(hours=8)).date()


class TestSchedule:
    async def test_a_review_falls_due_then_overdue_by_the_clock_and_a_tier_change_reschedules_it(
        self, desk_client: httpx.AsyncClient, clock: Clock
    ) -> None:
        customer = await create_customer(desk_client)
        registered = _day(clock.now)
        ordinary = await _schedule(desk_client, customer["id"])
        clock.now += timedelta(days=360)
        due = await _schedule(desk_client, customer["id"])
        clock.now += timedelta(days=6)
        overdue = await _schedule(desk_client, customer["id"])

        assert (ordinary["value_tier"], ordinary["review_every_days"]) == ("ordinary", 365)
        assert ordinary["due_on"] == str(registered + timedelta(days=365))
        assert ordinary["status"] == "scheduled"
        assert due["status"] == "due"
        assert overdue["status"] == "overdue"

        # Back to 40 days after registration: the ordinary review is far off ...
        clock.now = datetime.now(UTC) + timedelta(days=40)
        assert (await _schedule(desk_client, customer["id"]))["status"] == "scheduled"
        account = (await open_account(desk_client, customer["id"]))["full_number"]
        upgraded_on = _day(datetime.now(UTC))
        await desk_client.post(
            "/v1/transactions",
            json={"transactions": [transaction(account, amount="3000000.00")]},
        )

        async def premium() -> bool:
            schedule = await _schedule(desk_client, customer["id"])
            return bool(schedule["value_tier"] == "premium")

        await wait_until(premium, timeout=20)
        # ... and the upgrade brings it to the premium tier's 30 days, already past.
        rescheduled = await _schedule(desk_client, customer["id"])
        assert rescheduled["review_every_days"] == 30
        assert rescheduled["due_on"] == str(upgraded_on + timedelta(days=30))
        assert rescheduled["status"] == "overdue"


class TestRecording:
    async def test_a_review_done_records_who_how_notes_and_the_next_date(
        self, desk_client: httpx.AsyncClient, clock: Clock
    ) -> None:
        customer = await create_customer(desk_client)
        manager = await desk_client.post(
            "/v1/managers",
            json={
                "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
                "name": "陈静",
                "branch_code": "BJ001",
                "capacity": 50,
            },
        )
        manager_id = manager.json()["id"]
        await desk_client.put(
            f"/v1/customers/{customer['id']}/manager", json={"manager_id": manager_id}
        )
        clock.now += timedelta(days=100)
        today = _day(clock.now)
        desk_client.headers.update(
            development_bearer(Role.CUSTOMER_MANAGER, subject="m-chen", manager_id=manager_id)
        )

        recorded = await desk_client.post(
            f"/v1/customers/{customer['id']}/reviews",
            json={"form": "visit", "notes": "wants a term deposit in March"},
        )
        clock.now += timedelta(hours=1)
        agreed = await desk_client.post(
            f"/v1/customers/{customer['id']}/reviews",
            json={"form": "call", "next_review_on": str(today + timedelta(days=14))},
        )
        schedule = await _schedule(desk_client, customer["id"])
        listed = (await desk_client.get(f"/v1/customers/{customer['id']}/reviews")).json()

        assert recorded.status_code == 201, recorded.text
        review = recorded.json()
        assert (review["reviewed_by"], review["manager_id"]) == ("m-chen", manager_id)
        assert (review["form"], review["notes"]) == ("visit", "wants a term deposit in March")
        assert review["next_review_on"] == str(today + timedelta(days=365))
        assert agreed.status_code == 201, agreed.text
        assert schedule["due_on"] == str(today + timedelta(days=14))
        assert schedule["status"] == "scheduled"
        assert schedule["last_review"]["form"] == "call"
        assert [r["form"] for r in listed] == ["call", "visit"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"form": "visit", "next_review_on": "2099-01-01"}, "next_review_on"),
            ({"form": "visit", "reviewed_at": "2099-01-01T09:00:00+08:00"}, "reviewed_at"),
        ],
    )
    async def test_a_next_date_beyond_the_interval_or_a_review_in_the_future_is_a_422(
        self, desk_client: httpx.AsyncClient, body: dict[str, str], field: str
    ) -> None:
        customer = await create_customer(desk_client)

        answer = await desk_client.post(f"/v1/customers/{customer['id']}/reviews", json=body)

        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == [field]
        assert (await desk_client.get(f"/v1/customers/{customer['id']}/reviews")).json() == []


class TestFeeDiscount:
    @pytest.mark.parametrize(("tier", "discount"), [("premium", 50), ("key", 20), ("ordinary", 0)])
    async def test_the_view_publishes_the_discount_of_the_customers_tier(
        self, client: httpx.AsyncClient, customer_settings: Settings, tier: str, discount: int
    ) -> None:
        customer = await create_customer(client)
        await scalar(
            customer_settings,
            "UPDATE customer.customers SET value_tier = :tier WHERE id = :id RETURNING id",
            id=uuid.UUID(customer["id"]),
            tier=tier,
        )

        view = (await client.get(f"/v1/customers/{customer['id']}/view")).json()

        assert float(view["fee_discount_percent"]) == discount
