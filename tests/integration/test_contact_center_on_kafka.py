"""The contact centre on the real Kafka broker: it learns customers and opportunities from
Kafka, takes an entry off the call list when the opportunity is withdrawn, and a handled call
and an outbound attempt reach ``crm.contact.v1`` and ``crm.interactions.v1`` keyed by the
customer, in order, in CloudEvents binary mode."""

import json
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from contracts.catalogue import Topic
from contracts.customer import CustomerRegistered, CustomerSegmentChanged, IdentifierDigest
from contracts.identifiers import identifier_digest
from contracts.opportunities import OpportunityClosed, OpportunityCreated
from services.contact_center.app import create_app
from services.contact_center.config import Settings
from shared.envelope import EventEnvelope
from tests.integration.mechanics import read_for_keys
from tests.service.conftest import publish, scalar, serving
from tests.service.contact_center.conftest import KEY_POLICY, at, clear_floor, new_mobile
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka


async def test_calls_and_outbound_attempts_are_published_on_kafka(
    contact_database: str, kafka_bootstrap: str
) -> None:
    settings = Settings(
        database_url=contact_database, bus="kafka", kafka_bootstrap_servers=kafka_bootstrap,
        relay_poll_interval_seconds=0.05, customer_service_timeout_seconds=0.2,
        events_service_timeout_seconds=0.2,
        # Calling hours all day: the test runs at any hour; the hours have their own tests.
        calling_hours_start=time(0, 0), calling_hours_end=time(23, 59, 59, 999999),
    )  # fmt: skip
    await clear_floor(settings)
    customer_id, phone = uuid.uuid4(), new_mobile()
    digest = identifier_digest(
        "phone", phone, key=settings.identifier_key.get_secret_value().encode()
    )
    now = datetime.now(UTC)
    learned = [
        CustomerRegistered(
            customer_id=customer_id, kind="individual", branch_code="SH002", value_tier="key",
            identifiers=[IdentifierDigest(kind="phone", digest=digest)],
            consent={"phone": True}, preferred_channel="phone", birth_month_day=None,
        ),
        CustomerSegmentChanged(
            customer_id=customer_id, dimension="value_tier", previous=None, current="key",
            direction="initial", reason="test", policy=KEY_POLICY, effective_at=now,
        ),
    ]  # fmt: skip
    opportunity = OpportunityCreated(
        opportunity_id=uuid.uuid4(), customer_id=customer_id, rule_id="salary_credit",
        rule_version=1, action="cross_sell", product="payroll_package", priority=60,
        owner="contact_center", owner_id=None, channel="phone", due_at=now,
        expires_at=now + timedelta(days=3), facts={},
    )  # fmt: skip
    async with serving(create_app(settings)) as client:
        await publish(settings, *learned, source="/crm/customer")
        await publish(settings, opportunity, source="/crm/events")

        async def projected() -> bool:
            found = await scalar(
                settings,
                "SELECT count(*) FROM contact_center.outbound_entries o JOIN "
                "contact_center.known_customers k USING (customer_id) "
                "WHERE o.customer_id = :id AND k.queue_priority = 1",
                id=customer_id,
            )
            return found == 1

        await wait_until(projected, timeout=60)
        await client.post(
            "/v1/agents", json={"id": "K-1", "name": "K", "skills": ["general"], "at": at(-60)}
        )
        await client.put("/v1/agents/K-1/state", json={"state": "available", "at": at(-30)})
        arrived = await client.post(
            "/v1/calls", json={"dialled_number": "95588", "caller_number": phone, "at": at(0)}
        )
        call = arrived.json()["call"]
        assert call["customer_id"] == str(customer_id)
        assert call["priority"] == 1
        await client.post(f"/v1/calls/{call['id']}/answer", json={"agent_id": "K-1", "at": at(2)})
        await client.post(
            f"/v1/calls/{call['id']}/wrap-up", json={"wrap_up_code": "fee_query", "at": at(90)}
        )
        entry = (
            await client.get("/v1/outbound/entries", params={"customer_id": str(customer_id)})
        ).json()[0]
        tried = await client.post(
            f"/v1/outbound/entries/{entry['id']}/attempts",
            json={"agent_id": "K-1", "result": "accepted"},
        )
        assert tried.status_code == 200, tried.text
        contact = await read_for_keys(
            kafka_bootstrap, Topic.CONTACT, {str(customer_id)}, expected=3
        )
        interactions = await read_for_keys(
            kafka_bootstrap, Topic.INTERACTIONS, {str(customer_id)}, expected=1
        )

    envelopes = [EventEnvelope.from_headers(m.headers) for m in contact]
    types = [e.type for e in envelopes]
    assert types == ["crm.call.started.v1", "crm.call.ended.v1", "crm.outbound.attempted.v1"]
    assert json.loads(contact[2].value)["opportunity_id"] == str(opportunity.opportunity_id)
    assert {e.source for e in envelopes} == {"/crm/contact_center"}
    assert len({m.partition for m in contact}) == 1
    ended = json.loads(contact[1].value)
    assert ended["call_id"] == call["id"]
    assert ended["wrap_up_code"] == "fee_query"
    assert ended["handle_seconds"] == 88
    assert phone not in contact[0].value.decode() + contact[1].value.decode()
    recorded = json.loads(interactions[0].value)
    assert recorded["interaction_id"] == call["id"]
    assert recorded["kind"] == "inbound_call:fee_query"


async def test_an_opportunity_withdrawn_on_kafka_leaves_the_call_list(
    contact_database: str, kafka_bootstrap: str
) -> None:
    settings = Settings(
        database_url=contact_database,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        relay_poll_interval_seconds=0.05,
        calling_hours_start=time(0, 0),
        calling_hours_end=time(23, 59, 59, 999999),
    )
    await clear_floor(settings)
    customer_id, now = uuid.uuid4(), datetime.now(UTC)
    registered = CustomerRegistered(
        customer_id=customer_id,
        kind="individual",
        branch_code="SH002",
        value_tier="key",
        identifiers=[],
        consent={"phone": True},
        preferred_channel="phone",
        birth_month_day=None,
    )
    opportunity = OpportunityCreated(
        opportunity_id=uuid.uuid4(),
        customer_id=customer_id,
        rule_id="salary_credit",
        rule_version=1,
        action="cross_sell",
        product="payroll_package",
        priority=60,
        owner="contact_center",
        owner_id=None,
        channel="phone",
        due_at=now,
        expires_at=now + timedelta(days=3),
        facts={},
    )
    # What the events service publishes when the transaction behind the offer is reversed.
    reason = f"transaction_reversed:duplicate_posting:{uuid.uuid4()}"
    withdrawn = OpportunityClosed(
        opportunity_id=opportunity.opportunity_id,
        customer_id=customer_id,
        status="withdrawn",
        outcome=reason,
        closed_at=now,
    )
    async with serving(create_app(settings)) as client:
        await publish(settings, registered, source="/crm/customer")
        await publish(settings, opportunity, source="/crm/events")

        async def entry() -> dict[str, object] | None:
            found = await client.get(
                "/v1/outbound/entries", params={"customer_id": str(customer_id)}
            )
            entries: list[dict[str, object]] = found.json()
            return entries[0] if entries else None

        async def listed() -> bool:
            return await entry() is not None

        await wait_until(listed, timeout=60)
        await publish(settings, withdrawn, source="/crm/events")

        async def taken_off() -> bool:
            found = await entry()
            return found is not None and found["status"] == "withdrawn"

        await wait_until(taken_off, timeout=60)
        assert (await entry() or {})["withdrawn_reason"] == reason
        on_list = (await client.get("/v1/outbound/call-list")).json()["items"]
        assert str(opportunity.opportunity_id) not in {i["opportunity_id"] for i in on_list}
