"""The contact centre on the real PostgreSQL, in a database of its own, with the customer and
events services beside it (reached in-process through ASGI, as the screen pop, the lookup and
the call list reach them over HTTP in production). Each test starts with an empty floor:
routing picks among every agent and every waiting call, so one test's agents must not take
another's calls. The database (``contact_database``) is the session's, in tests/conftest.py."""

import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from contracts.customer import (
    CustomerRegistered,
    CustomerSegmentChanged,
    IdentifierDigest,
)
from contracts.identifiers import identifier_digest
from services.contact_center.app import create_app
from services.contact_center.config import Settings
from services.customer.app import create_app as create_customer_app
from services.customer.config import Settings as CustomerSettings
from services.events.app import create_app as create_events_app
from services.events.config import Settings as EventsSettings
from shared.db import create_engine
from tests.service.conftest import publish, scalar, serving
from tests.service.customer.factories import account_number, individual
from tests.waiting import wait_until

# Calls are reported with times in the past (the switch's clock), counted from here.
T0 = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
FLOOR_TABLES = (
    "agents", "agent_state_spells", "calls", "call_legs", "callbacks", "outbound_entries",
    "do_not_call", "known_customers", "customer_identifiers",
)  # fmt: skip
PREMIUM_POLICY = {"queue_priority": 0, "route_to_vip_queue": True}
KEY_POLICY = {"queue_priority": 1, "route_to_vip_queue": False}
ORDINARY_POLICY = {"queue_priority": 5, "route_to_vip_queue": False}
_numbers = itertools.count(10_000_000)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def new_mobile() -> str:
    return f"137{next(_numbers):08d}"


@pytest.fixture
def cc_settings(contact_database: str) -> Settings:
    return Settings(
        database_url=contact_database,
        relay_poll_interval_seconds=0.05,
        live_metrics_interval_seconds=0.2,
    )


@dataclass
class Floor:
    client: httpx.AsyncClient
    customers: httpx.AsyncClient
    settings: Settings
    # The services in this process, for an app of a test's own and to ask them directly.
    customer_transport: httpx.AsyncBaseTransport
    events_transport: httpx.AsyncBaseTransport
    events: httpx.AsyncClient

    async def add_agent(self, agent_id: str, skills: list[str], *, joined: float = -60) -> None:
        body = {"id": agent_id, "name": f"Agent {agent_id}", "skills": skills, "at": at(joined)}
        answer = await self.client.post("/v1/agents", json=body)
        assert answer.status_code == 201, answer.text

    async def available(self, agent_id: str, when: float) -> dict[str, Any]:
        answer = await self.client.put(
            f"/v1/agents/{agent_id}/state", json={"state": "available", "at": at(when)}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def arrive(self, when: float, **body: Any) -> dict[str, Any]:
        payload = {"dialled_number": "95588", "at": at(when), **body}
        answer = await self.client.post("/v1/calls", json=payload)
        assert answer.status_code == 201, answer.text
        arrived: dict[str, Any] = answer.json()
        return arrived

    async def act(self, call_id: str, action: str, when: float, **body: Any) -> dict[str, Any]:
        answer = await self.client.post(
            f"/v1/calls/{call_id}/{action}", json={"at": at(when), **body}
        )
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def handle(
        self, call_id: str, agent_id: str, answered: float, wrapped: float, **wrap: Any
    ) -> dict[str, Any]:
        await self.act(call_id, "answer", answered, agent_id=agent_id)
        return await self.act(
            call_id, "wrap-up", wrapped, **{"wrap_up_code": "balance_enquiry", **wrap}
        )

    async def registered(self) -> dict[str, Any]:
        """A customer with a current account, registered at the customer service, known to
        the contact centre through the customer service's events."""
        phone = new_mobile()
        body = individual()
        body["profile"]["phones"] = [phone]
        created = await self.customers.post("/v1/customers", json=body)
        assert created.status_code == 201, created.text
        customer: dict[str, Any] = created.json()
        number = account_number()
        opened = await self.customers.post(
            "/v1/accounts",
            json={
                "account_number": number, "customer_id": customer["id"],
                "product_type": "current", "product_code": "CUR-STD", "currency": "CNY",
                "opened_on": "2024-01-15",
            },
        )  # fmt: skip
        assert opened.status_code == 201, opened.text
        await self.wait_known(uuid.UUID(customer["id"]))
        return {
            **customer, "phone": phone, "id_number": body["profile"]["id_number"],
            "account_number": number,
        }  # fmt: skip

    async def known_customer(
        self,
        *,
        phone: str | None = None,
        id_number: str | None = None,
        tier: str = "ordinary",
        policy: dict[str, Any] | None = None,
        consent: dict[str, bool] | None = None,
    ) -> uuid.UUID:
        """A customer as the customer service's events describe them, in our projection."""
        customer_id = uuid.uuid4()
        key = self.settings.identifier_key.get_secret_value().encode()
        identifiers = [
            IdentifierDigest(kind=kind, digest=identifier_digest(kind, value, key=key))
            for kind, value in (("phone", phone), ("resident_id", id_number))
            if value
        ]
        events = [
            CustomerRegistered(
                customer_id=customer_id, kind="individual", branch_code="BJ001",
                value_tier=tier, identifiers=identifiers,
                consent=consent if consent is not None else {"phone": True},
                preferred_channel="phone", birth_month_day=None,
            ),
            CustomerSegmentChanged(
                customer_id=customer_id, dimension="value_tier", previous=None, current=tier,
                direction="initial", reason="test", policy=policy or ORDINARY_POLICY,
                effective_at=datetime.now(UTC),
            ),
        ]  # fmt: skip
        await publish(self.settings, *events, source="/crm/customer")
        await self.wait_known(customer_id)
        return customer_id

    async def wait_known(self, customer_id: uuid.UUID) -> None:
        async def has_policy() -> bool:
            found = await scalar(
                self.settings,
                "SELECT queue_priority IS NOT NULL FROM contact_center.known_customers "
                "WHERE customer_id = :id",
                id=customer_id,
            )
            return bool(found)

        await wait_until(has_policy, timeout=20)


async def clear_floor(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(f"contact_center.{t}" for t in FLOOR_TABLES)
            await conn.execute(text(f"TRUNCATE {tables}"))
    finally:
        await engine.dispose()


@pytest.fixture
async def floor(cc_settings: Settings, contact_database: str) -> AsyncIterator[Floor]:
    await clear_floor(cc_settings)
    customer_app = create_customer_app(
        CustomerSettings(database_url=contact_database, relay_poll_interval_seconds=0.05)
    )
    events_app = create_events_app(
        EventsSettings(
            database_url=contact_database,
            relay_poll_interval_seconds=0.05,
            schedule_interval_seconds=3600,
            rule_cache_seconds=0,
            # Rankings by the models' estimates only, so that two of them agree.
            nba_exploration=0.0,
        )
    )
    async with serving(customer_app) as customers, serving(events_app) as events:
        customer_transport = httpx.ASGITransport(app=customer_app)
        events_transport = httpx.ASGITransport(app=events_app)
        app = create_app(
            cc_settings, customer_transport=customer_transport, events_transport=events_transport
        )
        async with serving(app) as client:
            yield Floor(
                client, customers, cc_settings, customer_transport, events_transport, events
            )
