"""The satisfaction/loyalty quadrant in the 360 view: satisfied is not loyal."""

import uuid
from datetime import UTC, datetime

import httpx

from services.customer.config import Settings
from tests.service.conftest import scalar
from tests.service.customer.factories import create_customer


async def _answer(client: httpx.AsyncClient, customer_id: str, *, csat: int) -> None:
    answer = await client.post(
        "/v1/surveys",
        json={
            "external_id": f"SV-{uuid.uuid4().hex}",
            "customer_id": customer_id,
            "channel": "mobile",
            "csat": csat,
            "answered_at": datetime.now(UTC).isoformat(),
        },
    )
    assert answer.status_code == 201, answer.text


async def _loyalty(settings: Settings, customer_id: str, loyalty: str) -> None:
    await scalar(
        settings,
        "UPDATE customer.customers SET loyalty = :loyalty WHERE id = :id RETURNING id",
        id=uuid.UUID(customer_id),
        loyalty=loyalty,
    )


async def _quadrant(client: httpx.AsyncClient, customer_id: str) -> str | None:
    view = await client.get(f"/v1/customers/{customer_id}/view")
    assert view.status_code == 200, view.text
    quadrant: str | None = view.json()["quadrant"]
    return quadrant


class TestQuadrantInTheView:
    async def test_the_view_places_the_customer_by_their_answers_and_their_loyalty(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)
        await _loyalty(customer_settings, customer["id"], "drifting")
        unanswered = await _quadrant(client, customer["id"])

        await _answer(client, customer["id"], csat=5)  # index 100
        satisfied_drifting = await _quadrant(client, customer["id"])
        await _loyalty(customer_settings, customer["id"], "loyal")
        satisfied_loyal = await _quadrant(client, customer["id"])
        await _answer(client, customer["id"], csat=1)  # index now (100 + 0) / 2 = 50
        dissatisfied_loyal = await _quadrant(client, customer["id"])
        await _loyalty(customer_settings, customer["id"], "non_cooperative")
        dormant = await _quadrant(client, customer["id"])

        assert unanswered is None
        assert satisfied_drifting == "satisfied_drifting"
        assert satisfied_loyal == "satisfied_loyal"
        assert dissatisfied_loyal == "dissatisfied_loyal"
        assert dormant is None

    async def test_the_quadrant_agrees_with_the_satisfied_drifting_list(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        pleased, unhappy = await create_customer(client), await create_customer(client)
        for customer, csat in ((pleased, 5), (unhappy, 2)):
            await _loyalty(customer_settings, customer["id"], "drifting")
            await _answer(client, customer["id"], csat=csat)

        listed = await client.get(
            "/v1/analytics/drifting", params={"satisfied_only": "true", "limit": 500}
        )

        ids = {entry["id"] for entry in listed.json()}
        assert await _quadrant(client, pleased["id"]) == "satisfied_drifting"
        assert await _quadrant(client, unhappy["id"]) == "dissatisfied_drifting"
        assert pleased["id"] in ids
        assert unhappy["id"] not in ids
