"""A customer erased on their request, through the complaints consumer: their cases lose the
contact details given with them and keep everything the regulator may ask for."""

import uuid
from typing import Any

import httpx

from services.complaints.config import Settings
from tests.service.complaints.conftest import file_complaint, walk_to
from tests.service.conftest import publish_and_wait_applied, scalar
from tests.service.customer.factories import erasure_of

CUSTOMER_SOURCE = "/crm/customer"
CONTACT = {"name": "Wang Fang", "phone": "13912345678", "email": "wang.fang@example.com"}


async def _case(client: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = (await client.get(f"/v1/complaints/{case_id}")).json()
    return case


async def test_an_erased_customer_s_cases_keep_the_record_and_lose_the_contact(
    client: httpx.AsyncClient, complaints_settings: Settings
) -> None:
    customer_id = uuid.uuid4()
    with_contact = await file_complaint(
        client, customer_id=str(customer_id), complainant=CONTACT, category="fees"
    )
    await walk_to(client, with_contact["id"], "cause_analysis")
    without_contact = await file_complaint(client, customer_id=str(customer_id), category="product")
    someone_else = await file_complaint(client, complainant=CONTACT)
    before = await _case(client, with_contact["id"])
    assert before["complainant"]["name"] == CONTACT["name"]
    assert before["history"]
    untouched = await _case(client, without_contact["id"])

    erased = erasure_of(customer_id)
    await publish_and_wait_applied(complaints_settings, erased, source=CUSTOMER_SOURCE)

    after = await _case(client, with_contact["id"])
    assert after["complainant"] is None
    # The description, the history, the deadlines and the step are as they were.
    assert {**after, "complainant": before["complainant"]} == before
    stored = await scalar(
        complaints_settings,
        "SELECT jsonb_typeof(complainant) FROM complaints WHERE id = :id",
        id=uuid.UUID(with_contact["id"]),
    )
    assert stored == "null"  # as a case filed without a complainant holds
    assert await _case(client, without_contact["id"]) == untouched
    assert (await _case(client, someone_else["id"]))["complainant"]["name"] == CONTACT["name"]

    await publish_and_wait_applied(complaints_settings, erased, source=CUSTOMER_SOURCE)

    assert await _case(client, with_contact["id"]) == after


async def test_the_erasure_of_a_customer_with_no_case_is_harmless(
    client: httpx.AsyncClient, complaints_settings: Settings
) -> None:
    stranger = uuid.uuid4()
    await publish_and_wait_applied(
        complaints_settings, erasure_of(stranger), source=CUSTOMER_SOURCE
    )
    listed = await client.get("/v1/complaints", params={"customer_id": str(stranger)})
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []
