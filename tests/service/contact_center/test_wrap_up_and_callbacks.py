"""Wrap-up: the contact reaches the customer's timeline at the customer service, a complaint
taken on the call is opened by the complaints service, a callback is scheduled. Then the
callbacks themselves."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.complaints.app import create_app as create_complaints_app
from services.complaints.config import Settings as ComplaintsSettings
from services.contact_center.config import Settings
from tests.service.conftest import scalar, serving
from tests.service.contact_center.conftest import Floor, at, new_mobile
from tests.service.customer.factories import individual
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("floor")


@pytest.fixture
async def complaints(contact_database: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = ComplaintsSettings(database_url=contact_database, relay_poll_interval_seconds=0.05)
    async with serving(create_complaints_app(settings)) as client:
        yield client


async def answered_call(floor: Floor, **arrival: Any) -> dict[str, Any]:
    await floor.add_agent("A-1", ["general", "complaints"])
    await floor.available("A-1", -5)
    call: dict[str, Any] = (await floor.arrive(0, **arrival))["call"]
    await floor.act(call["id"], "answer", 3, agent_id="A-1")
    return call


async def test_a_wrapped_up_call_is_on_the_customer_s_timeline(floor: Floor) -> None:
    customer = await floor.registered()
    call = await answered_call(floor, caller_number=customer["phone"])

    await floor.act(call["id"], "wrap-up", 90, wrap_up_code="card_lost", notes="card blocked")

    async def on_timeline() -> bool:
        view = (await floor.customers.get(f"/v1/customers/{customer['id']}/view")).json()
        return any(i["kind"] == "inbound_call:card_lost" for i in view["recent_interactions"])

    await wait_until(on_timeline, timeout=20)


async def test_a_complaint_taken_on_the_call_is_opened_by_the_complaints_service(
    floor: Floor, complaints: httpx.AsyncClient
) -> None:
    customer_id = await floor.known_customer(phone=(phone := f"136{uuid.uuid4().int % 10**8:08d}"))
    call = await answered_call(floor, caller_number=phone)

    done = await floor.act(
        call["id"], "wrap-up", 120, wrap_up_code="complaint_taken",
        complaint={"category": "fees", "description": "Charged twice for the annual card fee."},
    )  # fmt: skip

    assert done["call"]["complaint_requested"] is True

    async def opened() -> bool:
        found = await complaints.get("/v1/complaints", params={"customer_id": str(customer_id)})
        return bool(found.json()["items"])

    await wait_until(opened, timeout=20)
    case = (
        await complaints.get("/v1/complaints", params={"customer_id": str(customer_id)})
    ).json()["items"][0]
    assert case["channel"] == "phone"
    assert case["category"] == "fees"
    detail = (await complaints.get(f"/v1/complaints/{case['id']}")).json()
    assert detail["call_id"] == call["id"]


async def test_a_complaint_from_an_unidentified_caller_is_refused_and_nothing_is_written(
    floor: Floor,
) -> None:
    call = await answered_call(floor)

    refused = await floor.client.post(
        f"/v1/calls/{call['id']}/wrap-up",
        json={
            "wrap_up_code": "complaint_taken", "at": at(60),
            "complaint": {"category": "fees", "description": "Charged twice for the fee."},
        },
    )  # fmt: skip

    assert refused.status_code == 409
    assert refused.json()["field"] == "complaint"
    assert (await floor.client.get(f"/v1/calls/{call['id']}")).json()["status"] == "connected"


async def test_a_complaint_with_an_unknown_category_names_the_field(floor: Floor) -> None:
    call = await answered_call(floor)

    refused = await floor.client.post(
        f"/v1/calls/{call['id']}/wrap-up",
        json={"wrap_up_code": "x1", "complaint": {"category": "rude", "description": "....."}},
    )

    assert refused.status_code == 422
    assert "complaint.category" in refused.text


async def test_a_callback_taken_on_the_call_is_scheduled(floor: Floor) -> None:
    customer_id = await floor.known_customer(phone=(phone := f"135{uuid.uuid4().int % 10**8:08d}"))
    call = await answered_call(floor, caller_number=phone)
    when = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    done = await floor.act(
        call["id"], "wrap-up", 60, wrap_up_code="needs_documents",
        callback={"requested_for": when, "phone_number": phone, "queue": "loans"},
    )  # fmt: skip

    callback = (await floor.client.get(f"/v1/callbacks/{done['callback_id']}")).json()
    assert callback["customer_id"] == str(customer_id)
    assert callback["call_id"] == call["id"]
    assert callback["queue"] == "loans"
    assert callback["status"] == "scheduled"
    assert callback["phone_number"] == f"{phone[:3]}****{phone[-4:]}"
    published = await scalar(
        floor.settings,
        "SELECT count(*) FROM contact_center.outbox WHERE event_type = 'crm.callback.scheduled.v1' "
        "AND payload->>'callback_id' = :id",
        id=done["callback_id"],
    )
    assert published == 1


async def new_callback(floor: Floor, **changes: Any) -> dict[str, Any]:
    body = {
        "phone_number": "13912345678",
        "requested_for": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        **changes,
    }
    answer = await floor.client.post("/v1/callbacks", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def attempt(floor: Floor, callback_id: str, result: str) -> httpx.Response:
    return await floor.client.post(
        f"/v1/callbacks/{callback_id}/attempts", json={"agent_id": "A-1", "result": result}
    )


async def test_a_callback_is_retried_until_its_attempts_run_out(
    floor: Floor, cc_settings: Settings
) -> None:
    callback = await new_callback(floor)
    due = await floor.client.get(
        "/v1/callbacks", params={"status": "scheduled", "due_by": datetime.now(UTC).isoformat()}
    )
    assert [c["id"] for c in due.json()] == [callback["id"]]

    first = (await attempt(floor, callback["id"], "no_answer")).json()
    assert first["status"] == "scheduled"
    assert first["attempts"] == 1
    assert first["next_attempt_at"] > callback["next_attempt_at"]
    for _ in range(cc_settings.max_call_attempts - 1):
        last = (await attempt(floor, callback["id"], "no_answer")).json()

    assert last["status"] == "failed"
    assert last["attempts"] == cc_settings.max_call_attempts
    again = await attempt(floor, callback["id"], "reached")
    assert again.status_code == 409
    assert again.json()["rule"] == "failed"


async def test_a_reached_callback_is_completed_and_a_cancelled_one_is_closed(
    floor: Floor,
) -> None:
    reached = await new_callback(floor)
    cancelled = await new_callback(floor)

    assert (await attempt(floor, reached["id"], "reached")).json()["status"] == "completed"
    answer = await floor.client.post(f"/v1/callbacks/{cancelled['id']}/cancel")
    assert answer.json()["status"] == "cancelled"


async def test_a_callback_without_a_time_zone_names_the_field(floor: Floor) -> None:
    answer = await floor.client.post(
        "/v1/callbacks", json={"phone_number": "13912345678", "requested_for": "2026-12-01T10:00"}
    )

    assert answer.status_code == 422
    assert "requested_for" in answer.text


async def test_a_callback_centuries_ahead_is_refused_naming_the_field(floor: Floor) -> None:
    answer = await floor.client.post(
        "/v1/callbacks",
        json={"phone_number": "13912345678", "requested_for": "3266-01-01T10:00:00+08:00"},
    )

    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == ["requested_for"]
    callbacks = (await floor.client.get("/v1/callbacks")).json()
    assert all(callback["requested_for"][:4] != "3266" for callback in callbacks)


async def test_a_callback_number_longer_than_its_column_is_refused_naming_the_field(
    floor: Floor,
) -> None:
    answer = await floor.client.post(
        "/v1/callbacks",
        json={"phone_number": "1" * 21, "requested_for": "2026-12-01T10:00:00+08:00"},
    )

    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == ["phone_number"]


class TestCallbacksForUnknownCustomers:
    async def test_a_customer_nobody_knows_is_a_422_and_nothing_is_published(
        self, floor: Floor
    ) -> None:
        stranger = uuid.uuid4()
        answer = await floor.client.post(
            "/v1/callbacks",
            json={
                "customer_id": str(stranger),
                "phone_number": "13912345678",
                "requested_for": "2026-12-01T10:00:00+08:00",
            },
        )

        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == "customer_id"
        published = await scalar(
            floor.settings,
            "SELECT count(*) FROM contact_center.outbox WHERE message_key = :key",
            key=str(stranger),
        )
        assert published == 0

    async def test_a_customer_registered_a_moment_ago_is_asked_of_the_customer_service(
        self, floor: Floor
    ) -> None:
        created = await floor.customers.post("/v1/customers", json=individual())
        assert created.status_code == 201, created.text
        # Asked at once, before this service has consumed the registration.
        answer = await floor.client.post(
            "/v1/callbacks",
            json={
                "customer_id": created.json()["id"],
                "phone_number": "13912345678",
                "requested_for": "2026-12-01T10:00:00+08:00",
            },
        )

        assert answer.status_code == 201, answer.text

    async def test_a_customer_known_from_the_events_needs_no_question(self, floor: Floor) -> None:
        customer_id = await floor.known_customer(phone=new_mobile())
        answer = await floor.client.post(
            "/v1/callbacks",
            json={
                "customer_id": str(customer_id),
                "phone_number": "13912345678",
                "requested_for": "2026-12-01T10:00:00+08:00",
            },
        )

        assert answer.status_code == 201, answer.text
