"""The outbound call list: opportunities the contact centre owns become entries, ordered by
the events service's next-best-action ranking (by priority and due time what it does not
rank, or when it cannot be had), and every calling rule keeps a customer off the list and
refuses a dial: consent, do-not-call, calling hours, attempts, the retry interval, expiry."""

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.opportunities import OpportunityClosed, OpportunityCreated
from crm.infra.kafka import free_port
from services.contact_center.app import create_app
from services.contact_center.config import Settings
from services.events.config import Settings as EventsSettings
from services.events.models import Opportunity as DetectorOpportunity
from shared.db import create_engine
from tests.service.conftest import publish, scalar, serving
from tests.service.contact_center.conftest import Floor, new_mobile
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("floor")

NOW = datetime.now(UTC)


@pytest.fixture
def cc_settings(contact_database: str) -> Settings:
    """Calling hours all day: the tests run at any hour; one test closes them on purpose."""
    return Settings(
        database_url=contact_database,
        relay_poll_interval_seconds=0.05,
        calling_hours_start=time(0, 0),
        calling_hours_end=time(23, 59, 59, 999999),
    )


async def opportunity(
    floor: Floor, customer_id: uuid.UUID, *, owner: str = "contact_center", **changes: Any
) -> uuid.UUID:
    values: dict[str, Any] = {
        "opportunity_id": uuid.uuid4(), "customer_id": customer_id, "rule_id": "salary_credit",
        "rule_version": 1, "action": "cross_sell", "product": "payroll_package", "priority": 50,
        "owner": owner, "owner_id": None, "channel": "phone", "due_at": NOW + timedelta(hours=1),
        "expires_at": NOW + timedelta(days=3), "facts": {"amount": "12000.00"},
    }  # fmt: skip
    values.update(changes)
    await publish(floor.settings, OpportunityCreated(**values), source="/crm/events")
    return uuid.UUID(str(values["opportunity_id"]))


async def entry_of(floor: Floor, opportunity_id: uuid.UUID) -> dict[str, Any]:
    async def listed() -> bool:
        found = await scalar(
            floor.settings,
            "SELECT count(*) FROM contact_center.outbound_entries WHERE opportunity_id = :id",
            id=opportunity_id,
        )
        return found == 1

    await wait_until(listed, timeout=20)
    entries = (await floor.client.get("/v1/outbound/entries", params={"limit": 500})).json()
    found: dict[str, Any] = next(e for e in entries if e["opportunity_id"] == str(opportunity_id))
    return found


async def call_list(floor: Floor) -> list[str]:
    answer = (await floor.client.get("/v1/outbound/call-list")).json()
    return [item["opportunity_id"] for item in answer["items"]]


async def dial(floor: Floor, entry_id: str, result: str, **extra: Any) -> httpx.Response:
    return await floor.client.post(
        f"/v1/outbound/entries/{entry_id}/attempts",
        json={"agent_id": "A-1", "result": result, **extra},
    )


async def test_entries_the_ranking_does_not_know_go_by_priority_then_due_time(
    floor: Floor,
) -> None:
    customers = [await floor.known_customer(phone=new_mobile()) for _ in range(3)]
    later = await opportunity(floor, customers[0], priority=50, due_at=NOW + timedelta(hours=5))
    urgent = await opportunity(floor, customers[1], priority=90)
    sooner = await opportunity(floor, customers[2], priority=50, due_at=NOW + timedelta(hours=1))
    managers = await opportunity(floor, customers[2], owner="manager", priority=99)
    for made in (later, urgent, sooner):
        await entry_of(floor, made)

    assert await call_list(floor) == [str(urgent), str(sooner), str(later)]
    entry = await entry_of(floor, urgent)
    assert entry["script"] == floor.settings.script_for("cross_sell", "payroll_package")
    assert entry["blocked_by"] is None
    assert str(managers) not in str(
        (await floor.client.get("/v1/outbound/entries", params={"limit": 500})).json()
    )


async def test_without_phone_consent_nobody_is_called(floor: Floor) -> None:
    customer = await floor.known_customer(phone=new_mobile(), consent={"phone": False})
    entry = await entry_of(floor, await opportunity(floor, customer))

    assert entry["blocked_by"] == "no_consent"
    assert await call_list(floor) == []
    refused = await dial(floor, entry["id"], "reached")
    assert refused.status_code == 409
    assert refused.json()["rule"] == "no_consent"


async def test_the_do_not_call_register_is_honoured_until_removed(floor: Floor) -> None:
    customer = await floor.known_customer(phone=new_mobile())
    made = await opportunity(floor, customer)
    entry = await entry_of(floor, made)

    listed = await floor.client.put(
        f"/v1/outbound/do-not-call/{customer}", json={"reason": "asked on a call"}
    )
    assert listed.status_code == 200
    assert await call_list(floor) == []
    assert (await entry_of(floor, made))["blocked_by"] == "do_not_call"
    assert (await dial(floor, entry["id"], "reached")).json()["rule"] == "do_not_call"

    removed = await floor.client.delete(f"/v1/outbound/do-not-call/{customer}")
    assert removed.status_code == 204
    assert await call_list(floor) == [str(made)]


async def test_outside_calling_hours_the_list_is_empty_and_a_dial_is_refused(
    floor: Floor, contact_database: str
) -> None:
    customer = await floor.known_customer(phone=new_mobile())
    entry = await entry_of(floor, await opportunity(floor, customer))
    local = datetime.now(UTC).astimezone(floor.settings.calling_zone)
    # A one-hour window that excludes the present hour, on the same day.
    start = (local + timedelta(hours=1)) if local.hour < 21 else (local - timedelta(hours=3))
    closed = Settings(
        database_url=contact_database,
        calling_hours_start=time(start.hour, 0),
        calling_hours_end=time(start.hour + 1, 0),
    )

    async with serving(create_app(closed)) as client:
        listing = (await client.get("/v1/outbound/call-list")).json()
        refused = await client.post(
            f"/v1/outbound/entries/{entry['id']}/attempts",
            json={"agent_id": "A-1", "result": "no_answer"},
        )

    assert listing["items"] == []
    assert listing["within_calling_hours"] is False
    assert refused.status_code == 409
    assert refused.json()["rule"] == "outside_calling_hours"


async def test_no_answer_is_retried_later_until_the_attempts_run_out(floor: Floor) -> None:
    customer = await floor.known_customer(phone=new_mobile())
    made = await opportunity(floor, customer)
    entry = await entry_of(floor, made)

    first = await dial(floor, entry["id"], "no_answer")
    assert first.status_code == 200
    assert first.json()["blocked_by"] == "retry_later"
    assert await call_list(floor) == []
    too_soon = await dial(floor, entry["id"], "no_answer")
    assert too_soon.json()["rule"] == "retry_later"

    # As if the retry interval had passed.
    await scalar(
        floor.settings,
        "UPDATE contact_center.outbound_entries SET next_attempt_at = :t WHERE id = :id "
        "RETURNING id",
        t=datetime.now(UTC) - timedelta(seconds=1),
        id=uuid.UUID(entry["id"]),
    )  # fmt: skip
    assert await call_list(floor) == [str(made)]
    for _ in range(floor.settings.max_call_attempts - 1):
        await scalar(
            floor.settings,
            "UPDATE contact_center.outbound_entries SET next_attempt_at = NULL WHERE id = :id "
            "RETURNING id",
            id=uuid.UUID(entry["id"]),
        )
        last = await dial(floor, entry["id"], "no_answer")

    assert last.json()["status"] == "exhausted"
    assert last.json()["attempts"] == floor.settings.max_call_attempts
    assert (await dial(floor, entry["id"], "reached")).json()["rule"] == "exhausted"


async def test_a_final_result_is_published_and_settles_the_entry(floor: Floor) -> None:
    customer = await floor.known_customer(phone=new_mobile())
    made = await opportunity(floor, customer)
    entry = await entry_of(floor, made)

    accepted = await dial(floor, entry["id"], "accepted")

    assert accepted.json()["status"] == "done"
    event = await scalar(
        floor.settings,
        "SELECT payload FROM contact_center.outbox WHERE event_type = 'crm.outbound.attempted.v1' "
        "AND payload->>'opportunity_id' = :id",
        id=str(made),
    )
    assert isinstance(event, dict)
    assert event["result"] == "accepted"
    assert event["attempt"] == 1
    spoken = await scalar(
        floor.settings,
        "SELECT count(*) FROM contact_center.outbox WHERE event_type = "
        "'crm.interaction.recorded.v1' AND payload->>'customer_id' = :id",
        id=str(customer),
    )
    assert spoken == 1


async def test_an_opportunity_closed_elsewhere_leaves_the_list(floor: Floor) -> None:
    customer = await floor.known_customer(phone=new_mobile())
    made = await opportunity(floor, customer)
    entry = await entry_of(floor, made)

    closed = OpportunityClosed(
        opportunity_id=made, customer_id=customer, status="accepted", outcome="at the branch",
        closed_at=datetime.now(UTC),
    )  # fmt: skip
    await publish(floor.settings, closed, source="/crm/events")

    async def withdrawn() -> bool:
        now = (await floor.client.get(f"/v1/outbound/entries/{entry['id']}")).json()
        return bool(now["status"] == "withdrawn")

    await wait_until(withdrawn, timeout=20)
    assert await call_list(floor) == []
    now = (await floor.client.get(f"/v1/outbound/entries/{entry['id']}")).json()
    assert now["withdrawn_reason"] == "at the branch"


async def test_an_opportunity_withdrawn_for_a_complaint_leaves_the_list_with_the_reason(
    floor: Floor,
) -> None:
    customer = await floor.known_customer(phone=new_mobile())
    made = await opportunity(floor, customer)
    kept = await opportunity(floor, customer, action="service_recovery", product=None)
    entry = await entry_of(floor, made)
    await entry_of(floor, kept)
    assert set(await call_list(floor)) == {str(made), str(kept)}

    # As the events service withdraws an open offer when the customer complains.
    complaint_id = uuid.uuid4()
    withdrawn = OpportunityClosed(
        opportunity_id=made,
        customer_id=customer,
        status="withdrawn",
        outcome=f"complaint_received:{complaint_id}",
        closed_at=datetime.now(UTC),
    )
    await publish(floor.settings, withdrawn, source="/crm/events")

    async def taken_off() -> bool:
        now = (await floor.client.get(f"/v1/outbound/entries/{entry['id']}")).json()
        return bool(now["status"] == "withdrawn")

    await wait_until(taken_off, timeout=20)
    now = (await floor.client.get(f"/v1/outbound/entries/{entry['id']}")).json()
    assert now["withdrawn_reason"] == f"complaint_received:{complaint_id}"
    assert now["blocked_by"] == "withdrawn"
    assert await call_list(floor) == [str(kept)]  # service recovery stays


async def test_an_expired_entry_is_not_called(floor: Floor) -> None:
    customer = await floor.known_customer(phone=new_mobile())
    entry = await entry_of(
        floor, await opportunity(floor, customer, expires_at=NOW - timedelta(minutes=1))
    )

    assert entry["blocked_by"] == "expired"
    assert await call_list(floor) == []


async def known_to_both(floor: Floor) -> uuid.UUID:
    """A customer with phone consent, known to the contact centre and to the detector."""
    customer_id = await floor.known_customer(phone=new_mobile())
    path = f"/v1/customers/{customer_id}/next-best-actions"

    async def at_the_detector() -> bool:
        return (await floor.events.get(path)).status_code == 200

    await wait_until(at_the_detector, timeout=20)
    return customer_id


async def detector_opened(
    floor: Floor, customer_id: uuid.UUID, action: str, product: str | None, priority: int
) -> uuid.UUID:
    """An opportunity as the detector opens one: its row at the events service, and its
    ``opportunity.created`` on the bus, which puts it on the call list."""
    opportunity_id = uuid.uuid4()
    engine = create_engine(EventsSettings(database_url=floor.settings.database_url))
    row = DetectorOpportunity(
        id=opportunity_id,
        dedupe_key=str(opportunity_id),
        customer_id=customer_id,
        rule_id="call_list_test",
        rule_version=1,
        action=action,
        product=product,
        priority=priority,
        owner="contact_center",
        owner_id=None,
        channel="phone",
        due_at=NOW + timedelta(hours=1),
        expires_at=NOW + timedelta(days=3),
        status="open",
        outcome=None,
        control_group=False,
        facts={},
        lineage={},
        created_at=NOW,
        updated_at=NOW,
        converted_at=None,
    )
    try:
        async with AsyncSession(engine) as session, session.begin():
            session.add(row)
    finally:
        await engine.dispose()
    await opportunity(
        floor,
        customer_id,
        opportunity_id=opportunity_id,
        action=action,
        product=product,
        priority=priority,
        rule_id="call_list_test",
    )
    await entry_of(floor, opportunity_id)
    return opportunity_id


async def three_ranked_apart_from_their_priority(floor: Floor) -> list[uuid.UUID]:
    """Opportunities of three customers, highest priority first: a payroll package (expected
    value 0.08 × 600 = 48), a retention call (0.05 × 2000 = 100), service recovery."""
    payroll, retention, recovery = [await known_to_both(floor) for _ in range(3)]
    return [
        await detector_opened(floor, payroll, "cross_sell", "payroll_package", 90),
        await detector_opened(floor, retention, "retention_call", None, 30),
        await detector_opened(floor, recovery, "service_recovery", None, 10),
    ]


async def test_the_call_list_follows_the_next_best_action_ranking(floor: Floor) -> None:
    payroll, retention, recovery = await three_ranked_apart_from_their_priority(floor)

    answer = (await floor.client.get("/v1/outbound/call-list")).json()

    assert (answer["ordered_by"], answer["degraded"]) == ("next_best_action", [])
    listed = [(i["opportunity_id"], float(i["expected_value"])) for i in answer["items"]]
    # Service recovery first, as in the ranking, then by expected value, not by priority.
    assert listed == [(str(recovery), 0), (str(retention), 100), (str(payroll), 48)]


async def test_without_the_ranking_the_call_list_falls_back_to_priority(
    cc_settings: Settings, floor: Floor
) -> None:
    made = await three_ranked_apart_from_their_priority(floor)
    away = cc_settings.model_copy(update={"events_service_url": f"http://127.0.0.1:{free_port()}"})

    async with serving(create_app(away, customer_transport=floor.customer_transport)) as client:
        answer = (await client.get("/v1/outbound/call-list")).json()

    assert (answer["ordered_by"], answer["degraded"]) == ("priority", ["events_service"])
    assert [i["opportunity_id"] for i in answer["items"]] == [str(m) for m in made]
    assert {i["expected_value"] for i in answer["items"]} == {None}
