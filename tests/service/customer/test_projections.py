"""The 360 view shows open complaints and opportunities, kept from other services' events."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from contracts.complaints import ComplaintClosed, ComplaintReceived, ComplaintStepCompleted
from contracts.opportunities import OpportunityCreated, OpportunityUpdated
from services.customer.config import Settings
from tests.service.conftest import publish
from tests.service.customer.factories import create_customer
from tests.waiting import wait_until


async def _view(client: httpx.AsyncClient, customer_id: str) -> dict[str, Any]:
    view: dict[str, Any] = (await client.get(f"/v1/customers/{customer_id}/view")).json()
    return view


class TestOpenComplaints:
    async def test_a_complaint_appears_moves_and_leaves_with_its_events(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)
        customer_id = uuid.UUID(customer["id"])
        complaint_id = uuid.uuid4()
        now = datetime.now(UTC)
        await publish(
            customer_settings,
            ComplaintReceived(
                complaint_id=complaint_id,
                customer_id=customer_id,
                channel="phone",
                category="fees",
                priority="high",
                received_at=now,
                due_at=now + timedelta(days=5),
            ),
            ComplaintStepCompleted(
                complaint_id=complaint_id,
                customer_id=customer_id,
                step="record",
                next_step="validity",
                completed_at=now,
                due_at=now + timedelta(days=1),
            ),
            source="/crm/complaints",
        )

        async def shown_at_validity() -> bool:
            complaints = (await _view(client, customer["id"]))["open_complaints"]
            return [c["step"] for c in complaints] == ["validity"]

        await wait_until(shown_at_validity, timeout=20)
        await publish(
            customer_settings,
            ComplaintClosed(
                complaint_id=complaint_id,
                customer_id=customer_id,
                outcome="resolved",
                closed_at=now,
            ),
            source="/crm/complaints",
        )

        async def gone() -> bool:
            return not (await _view(client, customer["id"]))["open_complaints"]

        await wait_until(gone, timeout=20)


class TestOpenOpportunities:
    async def test_an_opportunity_shows_until_the_customer_answers(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)
        customer_id = uuid.UUID(customer["id"])
        opportunity_id = uuid.uuid4()
        now = datetime.now(UTC)
        await publish(
            customer_settings,
            OpportunityCreated(
                opportunity_id=opportunity_id,
                customer_id=customer_id,
                rule_id="large-deposit",
                rule_version=1,
                action="cross_sell",
                product="wealth-12m",
                priority=1,
                owner="manager",
                owner_id=None,
                channel="phone",
                due_at=now + timedelta(hours=4),
                expires_at=now + timedelta(days=7),
                facts={"amount": "500000.00"},
            ),
            source="/crm/events",
        )

        async def shown() -> bool:
            opportunities = (await _view(client, customer["id"]))["open_opportunities"]
            return [o["product"] for o in opportunities] == ["wealth-12m"]

        await wait_until(shown, timeout=20)
        await publish(
            customer_settings,
            OpportunityUpdated(
                opportunity_id=opportunity_id,
                customer_id=customer_id,
                status="accepted",
                outcome="bought",
                updated_at=now,
            ),
            source="/crm/events",
        )

        async def answered() -> bool:
            return not (await _view(client, customer["id"]))["open_opportunities"]

        await wait_until(answered, timeout=20)
