"""The screen pop offers the events service's next-best-action ranking, on the real database
and bus with the customer and events services beside the contact centre; without the events
service, or with it too slow, the call is still routed in time with a pop that says so."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from crm.infra.kafka import free_port
from services.contact_center.app import create_app
from services.contact_center.config import Settings
from tests.service.conftest import serving
from tests.service.contact_center.conftest import Floor, at
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("floor")


async def ranked_for_phone(floor: Floor, customer_id: str) -> list[dict[str, Any]]:
    """The events service's own answer, once its detector knows the customer."""
    path = f"/v1/customers/{customer_id}/next-best-actions"

    async def known() -> bool:
        return (await floor.events.get(path)).status_code == 200

    await wait_until(known, timeout=20)
    answer = await floor.events.get(path, params={"channel": "phone", "limit": 3})
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_the_pop_offers_the_ranking_best_first_with_the_scripts(floor: Floor) -> None:
    customer = await floor.registered()  # a current account, phone consent
    ranked = await ranked_for_phone(floor, customer["id"])
    assert len(ranked) >= 2  # the always-on offers of products not held

    pop = (await floor.arrive(0, caller_number=customer["phone"]))["screen_pop"]

    offers = pop["next_best_actions"]
    assert [(o["rank"], o["action_id"]) for o in offers] == [
        (r["rank"], r["action_id"]) for r in ranked
    ]
    values = [float(o["factors"]["expected_value"]) for o in offers]
    assert values == sorted(values, reverse=True)
    top = offers[0]
    assert top["factors"] == ranked[0]["factors"]
    assert (top["name"], top["kind"], top["product"]) == (
        ranked[0]["name"],
        ranked[0]["kind"],
        ranked[0]["product"],
    )
    assert top["opportunity_id"] is None  # an always-on offer, opened by no rule
    assert top["script"] == floor.settings.script_for(top["kind"], top["product"])
    assert pop["degraded"] == []
    # The desktop records the customer's answer against the decision the pop showed.
    answered = await floor.events.post(
        f"/v1/decisions/{pop['next_best_decision_id']}/responses",
        json={"action_id": top["action_id"], "outcome": "declined"},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["learned"] is True


async def test_without_the_events_service_the_pop_is_degraded_not_late(
    cc_settings: Settings, floor: Floor
) -> None:
    customer = await floor.registered()
    nobody = cc_settings.model_copy(
        update={"events_service_url": f"http://127.0.0.1:{free_port()}"}
    )
    app = create_app(nobody, customer_transport=floor.customer_transport)
    async with serving(app) as client:
        answer = await client.post(
            "/v1/calls",
            json={"dialled_number": "95588", "caller_number": customer["phone"], "at": at(0)},
        )

    assert answer.status_code == 201, answer.text
    pop = answer.json()["screen_pop"]
    assert pop["degraded"] == ["events_service"]
    assert pop["next_best_actions"] == []
    assert pop["profile"] is not None  # the customer view still came
    assert answer.json()["call"]["customer_id"] == customer["id"]


async def test_a_slow_events_service_is_not_waited_for_beyond_its_timeout(
    cc_settings: Settings, floor: Floor
) -> None:
    customer = await floor.registered()
    async with _silent_server() as port:
        slow = cc_settings.model_copy(
            update={
                "events_service_url": f"http://127.0.0.1:{port}",
                "events_service_timeout_seconds": 0.3,
            }
        )
        app = create_app(slow, customer_transport=floor.customer_transport)
        async with serving(app) as client:
            started = time.monotonic()
            answer = await client.post(
                "/v1/calls",
                json={"dialled_number": "95588", "caller_number": customer["phone"], "at": at(0)},
            )
            took = time.monotonic() - started

    assert answer.status_code == 201, answer.text
    assert answer.json()["screen_pop"]["degraded"] == ["events_service"]
    assert took < 2.0  # the 0.3 s wait and the call's own work, not the server's silence


@contextlib.asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """A server that accepts and never answers (an events service stuck on its database);
    yields its port."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    port = free_port()
    server = await asyncio.start_server(accept, "127.0.0.1", port)
    try:
        yield port
    finally:
        for writer in held:
            writer.close()
        server.close()
