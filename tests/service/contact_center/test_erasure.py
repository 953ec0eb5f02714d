"""A customer erased on their request, through the contact centre's consumer: a caller can no
longer be recognised as them, nobody calls them again, and the numbers on their calls and
callbacks are gone while the calls and callbacks themselves stay."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.opportunities import OpportunityCreated
from tests.service.conftest import publish, publish_and_wait_applied, scalar
from tests.service.contact_center.conftest import Floor, new_mobile
from tests.service.customer.factories import erasure_of
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("floor")

CUSTOMER_SOURCE = "/crm/customer"

ERASED_NUMBER = "*" * 11


async def _call_list_entry(floor: Floor, customer_id: uuid.UUID) -> dict[str, Any]:
    now = datetime.now(UTC)
    made = OpportunityCreated(
        opportunity_id=uuid.uuid4(), customer_id=customer_id, rule_id="salary_credit",
        rule_version=1, action="cross_sell", product="payroll_package", priority=50,
        owner="contact_center", owner_id=None, channel="phone", due_at=now,
        expires_at=now + timedelta(days=3), facts={"amount": "12000.00"},
    )  # fmt: skip
    await publish(floor.settings, made, source="/crm/events")
    found: list[dict[str, Any]] = []

    async def listed() -> bool:
        found[:] = (
            await floor.client.get("/v1/outbound/entries", params={"customer_id": str(customer_id)})
        ).json()
        return bool(found)

    await wait_until(listed, timeout=20)
    return found[0]


async def _records(floor: Floor, customer_id: uuid.UUID, ids: dict[str, str]) -> dict[str, Any]:
    """What the contact centre holds of the customer, as its API and its tables show it."""
    client = floor.client
    return {
        "call": (await client.get(f"/v1/calls/{ids['call']}")).json(),
        "scheduled": (await client.get(f"/v1/callbacks/{ids['scheduled']}")).json(),
        "completed": (await client.get(f"/v1/callbacks/{ids['completed']}")).json(),
        "entry": (await client.get(f"/v1/outbound/entries/{ids['entry']}")).json(),
        "stored": await scalar(
            floor.settings,
            "SELECT jsonb_build_object("
            " 'known', (SELECT to_jsonb(k) FROM contact_center.known_customers k"
            "           WHERE customer_id = :c),"
            " 'digests', (SELECT count(*) FROM contact_center.customer_identifiers"
            "             WHERE customer_id = :c),"
            " 'do_not_call', (SELECT to_jsonb(d) FROM contact_center.do_not_call d"
            "                 WHERE customer_id = :c),"
            " 'callback_numbers', (SELECT jsonb_agg(DISTINCT phone_number)"
            "                      FROM contact_center.callbacks WHERE customer_id = :c),"
            " 'caller_numbers', (SELECT count(caller_number_masked) FROM contact_center.calls"
            "                    WHERE customer_id = :c))",
            c=customer_id,
        ),
    }


async def test_an_erased_customer_is_no_longer_recognised_nor_called(floor: Floor) -> None:
    phone = new_mobile()
    customer_id = await floor.known_customer(phone=phone, id_number="110101199003074518")
    await floor.add_agent("A-1", ["general"])
    await floor.available("A-1", -5)
    call = (await floor.arrive(0, caller_number=phone))["call"]
    assert call["customer_id"] == str(customer_id)
    requested_for = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    wrapped = await floor.handle(
        call["id"], "A-1", 3, 60, callback={"requested_for": requested_for, "phone_number": phone}
    )
    asked = await floor.client.post(
        "/v1/callbacks",
        json={"customer_id": str(customer_id), "phone_number": phone,
              "requested_for": datetime.now(UTC).isoformat()},
    )  # fmt: skip
    attempts = f"/v1/callbacks/{asked.json()['id']}/attempts"
    completed = await floor.client.post(attempts, json={"agent_id": "A-1", "result": "reached"})
    assert completed.json()["status"] == "completed"
    entry = await _call_list_entry(floor, customer_id)
    ids = {
        "call": call["id"], "scheduled": wrapped["callback_id"], "completed": asked.json()["id"],
        "entry": entry["id"],
    }  # fmt: skip
    before = await _records(floor, customer_id, ids)
    assert before["stored"]["digests"] == 2
    assert before["call"]["caller_number"] is not None

    erased = erasure_of(customer_id)
    await publish_and_wait_applied(floor.settings, erased, source=CUSTOMER_SOURCE)

    after = await _records(floor, customer_id, ids)
    stored = after["stored"]
    assert stored["digests"] == 0
    assert (stored["known"]["consent"], stored["known"]["status"]) == ({}, "erased")
    assert stored["do_not_call"]["source"] == "erasure"
    assert stored["callback_numbers"] == [ERASED_NUMBER]
    assert stored["caller_numbers"] == 0
    assert after["entry"]["status"] == "withdrawn"
    assert after["entry"]["withdrawn_reason"] == "erasure"
    assert after["scheduled"]["status"] == "cancelled"
    # The records stay, but for the number: the call and the callbacks as they were.
    assert after["completed"] == {**before["completed"], "phone_number": ERASED_NUMBER}
    assert after["call"] == {**before["call"], "caller_number": None}
    assert after["scheduled"]["customer_id"] == str(customer_id)
    # The same number calling again is nobody the contact centre knows.
    again = (await floor.arrive(120, caller_number=phone))["call"]
    assert again["customer_id"] is None

    await publish_and_wait_applied(floor.settings, erased, source=CUSTOMER_SOURCE)

    assert await _records(floor, customer_id, ids) == after


async def test_the_erasure_of_a_customer_never_seen_is_harmless(floor: Floor) -> None:
    stranger = uuid.uuid4()
    erased = erasure_of(stranger)
    await publish_and_wait_applied(floor.settings, erased, source=CUSTOMER_SOURCE)
    listed = await scalar(
        floor.settings,
        "SELECT status FROM contact_center.known_customers WHERE customer_id = :c",
        c=stranger,
    )
    assert listed == "erased"
