"""Who is calling, and the screen pop: by the identity the IVR verified, by the caller's
number, through the customer service when our projection does not know the caller yet, and
an unknown caller. The customer is registered at the real customer service, and reaches the
contact centre's projection through its events."""

import uuid

import httpx
import pytest

from services.contact_center.app import create_app
from services.contact_center.config import Settings
from tests.service.conftest import scalar, serving
from tests.service.contact_center.conftest import Floor, at, new_mobile

pytestmark = pytest.mark.usefixtures("floor")


async def test_a_verified_id_number_identifies_the_caller_and_pops_the_customer_view(
    floor: Floor,
) -> None:
    customer = await floor.registered()

    arrived = await floor.arrive(
        0,
        caller_number="01065529988",  # a landline that is not the customer's
        verified_identity={"kind": "resident_id", "value": customer["id_number"].lower()},
    )

    pop = arrived["screen_pop"]
    assert pop["customer_id"] == customer["id"]
    assert pop["identified_by"] == "verified_identity"
    assert pop["value_tier"] == customer["segments"]["value_tier"]
    assert pop["profile"]["name"] != "张伟"
    assert pop["profile"]["name"].startswith("张")
    assert [p["account_number"][-4:] for p in pop["products"]] == [customer["account_number"][-4:]]
    assert customer["account_number"] not in str(arrived)  # masked everywhere
    assert pop["degraded"] == []
    assert arrived["call"]["customer_id"] == customer["id"]
    assert arrived["call"]["caller_number"] == "010****9988"


async def test_the_caller_number_identifies_a_known_customer(floor: Floor) -> None:
    customer = await floor.registered()

    arrived = await floor.arrive(0, caller_number=f"+86 {customer['phone']}")

    assert arrived["screen_pop"]["customer_id"] == customer["id"]
    assert arrived["screen_pop"]["identified_by"] == "caller_number"


async def test_a_caller_not_yet_in_the_projection_is_looked_up_at_the_customer_service(
    floor: Floor,
) -> None:
    customer = await floor.registered()
    # As if the customer's events had not reached us yet.
    await scalar(
        floor.settings,
        "DELETE FROM contact_center.customer_identifiers WHERE customer_id = :id RETURNING kind",
        id=uuid.UUID(customer["id"]),
    )

    arrived = await floor.arrive(0, caller_number=customer["phone"])

    assert arrived["screen_pop"]["customer_id"] == customer["id"]
    assert arrived["screen_pop"]["identified_by"] == "customer_service_lookup"
    assert arrived["screen_pop"]["profile"] is not None


async def test_a_verified_account_number_is_looked_up_at_the_customer_service(
    floor: Floor,
) -> None:
    customer = await floor.registered()

    arrived = await floor.arrive(
        0, verified_identity={"kind": "account_number", "value": customer["account_number"]}
    )

    assert arrived["screen_pop"]["customer_id"] == customer["id"]
    assert arrived["screen_pop"]["identified_by"] == "verified_identity"


async def test_an_unknown_caller_is_queued_with_an_empty_pop(floor: Floor) -> None:
    arrived = await floor.arrive(0, caller_number=new_mobile(), ivr_path=["2"])

    pop = arrived["screen_pop"]
    assert pop["customer_id"] is None
    assert pop["identified_by"] == "unknown"
    assert pop["profile"] is None
    assert pop["products"] == []
    assert pop["policy"]["queue_priority"] == floor.settings.default_queue_priority
    assert arrived["call"]["queue"] == "loans"  # from the IVR choice
    assert arrived["call"]["status"] == "waiting"


async def test_a_shared_number_is_not_guessed(floor: Floor) -> None:
    household = new_mobile()
    await floor.known_customer(phone=household)
    await floor.known_customer(phone=household)

    arrived = await floor.arrive(0, caller_number=household)

    assert arrived["screen_pop"]["customer_id"] is None


async def test_without_the_customer_service_the_call_is_still_routed_with_a_thinner_pop(
    cc_settings: Settings, floor: Floor
) -> None:
    phone = new_mobile()
    customer_id = await floor.known_customer(
        phone=phone, tier="key", policy={"queue_priority": 1, "route_to_vip_queue": False}
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = create_app(
        cc_settings,
        customer_transport=httpx.MockTransport(refuse),
        events_transport=floor.events_transport,
    )
    async with serving(app) as client:
        answer = await client.post(
            "/v1/calls", json={"dialled_number": "95588", "caller_number": phone, "at": at(0)}
        )

    assert answer.status_code == 201, answer.text
    pop = answer.json()["screen_pop"]
    assert pop["customer_id"] == str(customer_id)
    assert pop["value_tier"] == "key"
    assert pop["policy"]["queue_priority"] == 1
    assert pop["profile"] is None
    assert pop["degraded"] == ["customer_service"]
    assert answer.json()["call"]["priority"] == 1


async def test_a_bad_arrival_names_the_field(floor: Floor) -> None:
    answer = await floor.client.post(
        "/v1/calls",
        json={"dialled_number": "95588", "verified_identity": {"kind": "passport", "value": "E1"}},
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "verified_identity" in answer.text


async def test_a_time_ahead_of_the_clock_is_refused(floor: Floor) -> None:
    answer = await floor.client.post(
        "/v1/calls", json={"dialled_number": "95588", "at": "2999-01-01T00:00:00+00:00"}
    )

    assert answer.status_code == 422
    assert answer.json()["field"] == "at"
    assert await scalar(floor.settings, "SELECT count(*) FROM contact_center.calls") == 0


async def test_a_retried_arrival_with_its_key_is_one_call(floor: Floor) -> None:
    key = str(uuid.uuid4())
    body = {"dialled_number": "95588", "caller_number": new_mobile(), "at": at(0)}

    first = await floor.client.post("/v1/calls", json=body, headers={"Idempotency-Key": key})
    again = await floor.client.post("/v1/calls", json=body, headers={"Idempotency-Key": key})

    assert first.status_code == again.status_code == 201
    assert first.json()["call"]["id"] == again.json()["call"]["id"]
    assert await scalar(floor.settings, "SELECT count(*) FROM contact_center.calls") == 1
