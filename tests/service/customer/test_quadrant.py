"""The satisfaction/loyalty quadrant in the 360 view: satisfied is not loyal."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from services.customer.config import Settings
from services.customer.surveys.repository import satisfaction_average_at
from services.customer.valuation.service import revalue_customer, valuation_inputs
from shared.db import create_engine, create_sessionmaker
from shared.outbox import EVENT_SOURCE
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


async def _published(settings: Settings, customer_id: str) -> list[str]:
    """The quadrants the customer was published in, in order (the outbox holds what the same
    transactions committed)."""
    placed = await scalar(
        settings,
        "SELECT coalesce(array_agg(payload->>'current' ORDER BY seq), '{}') FROM outbox"
        " WHERE message_key = :k AND event_type = 'crm.customer.segment_changed.v1'"
        " AND payload->>'dimension' = 'quadrant'",
        k=customer_id,
    )
    assert isinstance(placed, list)
    return [str(quadrant) for quadrant in placed]


class TestQuadrantPublished:
    async def test_an_answer_that_moves_the_customer_publishes_the_move_and_no_other(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)
        await _loyalty(customer_settings, customer["id"], "drifting")

        await _answer(client, customer["id"], csat=5)  # index 100: satisfied
        await _answer(client, customer["id"], csat=4)  # 87.5: still satisfied, no move
        after_two = await _published(customer_settings, customer["id"])
        await _answer(client, customer["id"], csat=1)  # 58.3: dissatisfied

        assert after_two == ["satisfied_drifting"]
        assert await _published(customer_settings, customer["id"]) == [
            "satisfied_drifting",
            "dissatisfied_drifting",
        ]
        assert await _quadrant(client, customer["id"]) == "dissatisfied_drifting"

    async def test_answers_aging_out_of_the_index_unplace_the_customer_in_the_batch(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)
        await _loyalty(customer_settings, customer["id"], "drifting")
        await _answer(client, customer["id"], csat=5)
        engine = create_engine(customer_settings)
        sessions = create_sessionmaker(engine)
        sessions.configure(info={EVENT_SOURCE: customer_settings.event_source})
        try:
            async with sessions() as session, session.begin():
                changed = await revalue_customer(
                    session,
                    uuid.UUID(customer["id"]),
                    settings=customer_settings,
                    at=datetime.now(UTC) + timedelta(days=400),
                    recheck_quadrant=True,
                )
        finally:
            await engine.dispose()

        assert "quadrant" in changed
        assert await _published(customer_settings, customer["id"]) == [
            "satisfied_drifting",
            "unplaced",
        ]
        why = await scalar(
            customer_settings,
            "SELECT payload->>'reason' FROM outbox WHERE message_key = :k"
            " AND payload->>'current' = 'unplaced'",
            k=customer["id"],
        )
        assert str(why).startswith("satisfaction index no answer")


class TestSatisfactionReadForARun:
    async def test_a_run_reads_each_customer_s_index_as_one_customer_s_read_does(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        answered, mixed, silent = [await create_customer(client) for _ in range(3)]
        await _answer(client, answered["id"], csat=5)
        await _answer(client, mixed["id"], csat=2)
        await _answer(client, mixed["id"], csat=4)
        ids = [uuid.UUID(c["id"]) for c in (answered, mixed, silent)]
        engine = create_engine(customer_settings)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                at = datetime.now(UTC) + timedelta(minutes=1)
                run = (await valuation_inputs(session, ids, at=at)).satisfaction
                one_by_one = {
                    customer_id: await satisfaction_average_at(session, customer_id, at=at)
                    for customer_id in ids
                }
                a_year_on = await valuation_inputs(session, ids, at=at + timedelta(days=400))
        finally:
            await engine.dispose()

        assert run == {k: v for k, v in one_by_one.items() if v is not None}
        assert (run[ids[0]], run[ids[1]], ids[2] in run) == (Decimal("100"), Decimal("50"), False)
        assert a_year_on.satisfaction == {}
