"""A customer erased on their request, through the detector's consumer: the state forgets who
they are and how to reach them, what was offered them and still open expires, the kept history
loses their identifier digests and birthday, and no rule reaches them any more."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.customer import CustomerRegistered, IdentifierDigest
from services.events import service
from services.events.app import create_app
from services.events.config import Settings
from shared.db import transaction
from shared.envelope import EventEnvelope
from tests.service.conftest import publish, scalar, serving
from tests.service.customer.factories import erasure_of
from tests.service.events.conftest import posted, wait_observed
from tests.waiting import wait_until

CUSTOMER_SOURCE = "/crm/customer"
THRESHOLD = 73_000  # payments no other test makes, so only this test's rule fires on them


@pytest.fixture
async def client(events_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(events_settings)) as client:
        yield client


def _recovery_rule() -> dict[str, Any]:
    """Service recovery: it needs no consent, so only the erasure can keep it from firing."""
    return {
        "name": f"Payment of {THRESHOLD} or more",
        "trigger": {"events": ["transaction.posted"]},
        "conditions": [
            {"kind": "event_field", "field": "kind", "op": "==", "value": "payment"},
            {"kind": "event_field", "field": "amount", "op": ">=", "value": THRESHOLD},
        ],
        "action": {"kind": "service_recovery", "owner": "contact_center"},
        "cooldown_days": 0,
        "holdout_share": "0",
    }


def _identified(customer_id: uuid.UUID) -> CustomerRegistered:
    """A key customer with what identifies them: a phone's digest and a birthday."""
    return CustomerRegistered(
        customer_id=customer_id, kind="individual", branch_code="0101", value_tier="key",
        identifiers=[IdentifierDigest(kind="phone", digest="ab" * 32)],
        consent={"phone": True}, preferred_channel="phone", birth_month_day="05-14",
    )  # fmt: skip


def _payment(customer_id: uuid.UUID) -> Any:
    return posted(customer_id, THRESHOLD, direction="debit", kind="payment")


async def _profile(settings: Settings, customer_id: uuid.UUID) -> Any:
    return await scalar(
        settings,
        "SELECT jsonb_build_object('consent', consent, 'preferred_channel', preferred_channel, "
        "'birth_month_day', birth_month_day, 'status', status) "
        "FROM customer_profiles WHERE customer_id = :c",
        c=customer_id,
    )


async def _registered_payload(settings: Settings, customer_id: uuid.UUID) -> Any:
    return await scalar(
        settings,
        "SELECT payload FROM observed_events "
        "WHERE customer_id = :c AND event_name = 'customer.registered'",
        c=customer_id,
    )


async def _closed_events(settings: Settings, opportunity_id: str) -> list[Any]:
    found = await scalar(
        settings,
        "SELECT coalesce(jsonb_agg(payload), '[]') FROM outbox "
        "WHERE event_type = 'crm.opportunity.closed.v1' AND payload->>'opportunity_id' = :id",
        id=opportunity_id,
    )
    assert isinstance(found, list)
    return found


async def test_an_erased_customer_is_forgotten_and_reached_by_no_rule(
    client: httpx.AsyncClient, events_settings: Settings
) -> None:
    rule_id = f"test_{uuid.uuid4().hex[:10]}"
    created = await client.post(
        "/v1/rules",
        json={"rule_id": rule_id, "definition": _recovery_rule(), "status": "active"},
    )
    assert created.status_code == 201, created.text
    customer_id = uuid.uuid4()
    registered = _identified(customer_id)
    await publish(events_settings, registered, source=CUSTOMER_SOURCE)
    await wait_observed(events_settings, [customer_id], 1)
    await publish(events_settings, _payment(customer_id), source=CUSTOMER_SOURCE)
    await wait_observed(events_settings, [customer_id], 2)
    (offered,) = (
        await client.get("/v1/opportunities", params={"customer_id": str(customer_id)})
    ).json()["items"]
    assert offered["status"] == "open"

    erased = erasure_of(customer_id)
    await publish(events_settings, erased, source=CUSTOMER_SOURCE)
    await wait_observed(events_settings, [customer_id], 3)

    forgotten = await _profile(events_settings, customer_id)
    assert forgotten == {
        "consent": {}, "preferred_channel": None, "birth_month_day": None, "status": "erased",
    }  # fmt: skip
    kept = await _registered_payload(events_settings, customer_id)
    assert (kept["identifiers"], kept["birth_month_day"]) == ([], None)
    assert kept["value_tier"] == "key"  # the rest of the history stays for backtests
    closed = (await client.get(f"/v1/opportunities/{offered['id']}")).json()
    assert (closed["status"], closed["outcome"]) == ("expired", "customer erased")
    (published,) = await _closed_events(events_settings, offered["id"])
    assert (published["status"], published["outcome"]) == ("expired", "customer erased")

    # A second delivery (another event id, the same erasure) changes nothing more.
    await publish(events_settings, erased, source=CUSTOMER_SOURCE)
    await wait_observed(events_settings, [customer_id], 4)
    assert (await client.get(f"/v1/opportunities/{offered['id']}")).json() == closed
    assert len(await _closed_events(events_settings, offered["id"])) == 1
    assert await _profile(events_settings, customer_id) == forgotten
    assert await _registered_payload(events_settings, customer_id) == kept

    # Service recovery needs no consent; the erasure still keeps the rule from them.
    await publish(events_settings, _payment(customer_id), source=CUSTOMER_SOURCE)
    await wait_observed(events_settings, [customer_id], 5)

    async def judged() -> bool:
        stats = (await client.get(f"/v1/rules/{rule_id}/stats")).json()
        decisions = {v["version"]: v["decisions"] for v in stats["versions"]}
        return decisions == {1: {"created": 1, "suppressed:customer_erased": 1}}

    await wait_until(judged, timeout=20)
    listed = await client.get("/v1/opportunities", params={"customer_id": str(customer_id)})
    assert [o["id"] for o in listed.json()["items"]] == [offered["id"]]
    await client.post(f"/v1/rules/{rule_id}/disable")


async def test_the_erasure_of_a_customer_never_seen_is_harmless(
    client: httpx.AsyncClient, events_settings: Settings
) -> None:
    stranger = uuid.uuid4()
    await publish(events_settings, erasure_of(stranger), source=CUSTOMER_SOURCE)
    await wait_observed(events_settings, [stranger], 1)
    assert (await _profile(events_settings, stranger))["status"] == "erased"
    listed = await client.get("/v1/opportunities", params={"customer_id": str(stranger)})
    assert listed.json()["items"] == []


async def test_an_erasure_in_the_run_that_registered_the_customer_leaves_no_identifier(
    sessions: async_sessionmaker[AsyncSession], events_settings: Settings
) -> None:
    """A poll's events are one run, and the run's history is written at its end: already
    without what identified a customer the same run erased."""
    customer_id = uuid.uuid4()
    registered = _identified(customer_id)
    run = [
        (event, EventEnvelope(id=str(uuid.uuid4()), source=CUSTOMER_SOURCE, type=event.event_type,
                              subject=event.subject, time=datetime.now(UTC)))
        for event in (registered, erasure_of(customer_id))
    ]  # fmt: skip
    async with transaction(sessions) as session:
        await service.handle_events(session, run, rules=[], settings=events_settings)
    kept = await _registered_payload(events_settings, customer_id)
    assert (kept["identifiers"], kept["birth_month_day"]) == ([], None)
    assert kept["value_tier"] == "key"
