"""Routing: the queue and priority a call gets from the caller's tier, the longest-idle agent
with the skill, queue position and the wait estimate, transfers, hold, abandonment, and the
desk actions refused when the call is not where they apply."""

from typing import Any

import pytest

from tests.service.conftest import scalar
from tests.service.contact_center.conftest import (
    KEY_POLICY,
    PREMIUM_POLICY,
    Floor,
    at,
    new_mobile,
)

pytestmark = pytest.mark.usefixtures("floor")


async def test_higher_tiers_are_served_first_then_the_longest_waiting(floor: Floor) -> None:
    ordinary = new_mobile()
    key = new_mobile()
    await floor.known_customer(phone=ordinary)
    await floor.known_customer(phone=key, tier="key", policy=KEY_POLICY)
    await floor.add_agent("A-1", ["general"])
    first = await floor.arrive(0, caller_number=ordinary)
    stranger = await floor.arrive(1, caller_number=new_mobile())
    important = await floor.arrive(5, caller_number=key)
    assert important["call"]["priority"] == 1
    assert first["call"]["priority"] == 5

    offered = [(await floor.available("A-1", 10))["offered_call"]["id"]]
    for moment in (20, 30):
        after = await floor.handle(offered[-1], "A-1", moment, moment + 5)
        offered.append(after["next_call"]["id"])  # offered as the agent wraps up

    assert offered == [important["call"]["id"], first["call"]["id"], stranger["call"]["id"]]


async def test_a_premium_caller_goes_to_the_vip_queue(floor: Floor) -> None:
    premium = new_mobile()
    await floor.known_customer(phone=premium, tier="premium", policy=PREMIUM_POLICY)
    await floor.add_agent("GEN-1", ["general"])
    await floor.add_agent("VIP-1", ["vip", "general"])
    await floor.available("GEN-1", -20)  # idle longer, but without the skill
    await floor.available("VIP-1", -10)

    arrived = await floor.arrive(0, caller_number=premium, ivr_path=["1"])

    assert arrived["call"]["queue"] == "vip"
    assert arrived["call"]["status"] == "offered"
    assert arrived["call"]["agent_id"] == "VIP-1"


async def test_the_longest_idle_agent_with_the_skill_is_offered_the_call(floor: Floor) -> None:
    for agent, free_from in (("A-1", -10), ("A-2", -30), ("A-3", -20), ("L-1", -50)):
        await floor.add_agent(agent, ["loans"] if agent == "L-1" else ["general", "cards"])
        await floor.available(agent, free_from)

    chosen = [(await floor.arrive(t, queue="cards"))["call"]["agent_id"] for t in (0, 1, 2)]
    fourth = await floor.arrive(3, queue="cards")

    assert chosen == ["A-2", "A-3", "A-1"]
    assert fourth["call"]["status"] == "waiting"
    assert fourth["call"]["agent_id"] is None


async def test_waiting_callers_learn_their_place_and_the_expected_wait(floor: Floor) -> None:
    await floor.add_agent("A-1", ["general"])
    await floor.available("A-1", -5)
    busy = await floor.arrive(0)
    assert busy["call"]["agent_id"] == "A-1"

    waiting = [await floor.arrive(t) for t in (1, 2, 3)]

    handle = floor.settings.assumed_handle_seconds  # no call handled yet to go by
    assert [w["call"]["position"] for w in waiting] == [1, 2, 3]
    assert [w["call"]["estimated_wait_seconds"] for w in waiting] == [
        handle,
        2 * handle,
        3 * handle,
    ]
    again = (await floor.client.get(f"/v1/calls/{waiting[2]['call']['id']}")).json()
    assert again["position"] == 3
    queues = {q["queue"]: q for q in (await floor.client.get("/v1/queues")).json()}
    assert queues["general"]["waiting"] == 3
    assert queues["general"]["agents_staffed"] == 1
    assert queues["general"]["agents_available"] == 0
    assert queues["loans"]["estimated_wait_seconds"] is None  # nobody staffed for it


async def test_a_transfer_to_a_queue_frees_the_agent_and_keeps_the_priority(floor: Floor) -> None:
    key = new_mobile()
    await floor.known_customer(phone=key, tier="key", policy=KEY_POLICY)
    await floor.add_agent("C-1", ["cards"])
    await floor.add_agent("L-1", ["loans"])
    await floor.available("C-1", -5)
    call = (await floor.arrive(0, caller_number=key, queue="cards"))["call"]
    await floor.act(call["id"], "answer", 2, agent_id="C-1")

    moved = await floor.act(call["id"], "transfer", 30, queue="loans")

    assert moved["call"]["queue"] == "loans"
    assert moved["call"]["status"] == "waiting"
    assert moved["call"]["priority"] == 1
    assert moved["call"]["transfers"] == 1
    agent = (await floor.client.get("/v1/agents/C-1")).json()
    assert agent["state"] == "available"
    offered = await floor.available("L-1", 40)
    assert offered["offered_call"]["id"] == call["id"]
    legs = await scalar(
        floor.settings,
        "SELECT string_agg(queue || ':' || outcome, ',' ORDER BY id) "
        "FROM contact_center.call_legs WHERE call_id = :id",
        id=call["id"],
    )
    assert legs == "cards:transferred,loans:waiting"


async def test_a_transfer_to_an_agent_needs_them_available(floor: Floor) -> None:
    for agent in ("A-1", "A-2", "A-3"):
        await floor.add_agent(agent, ["general"])
    await floor.available("A-1", -5)
    call = (await floor.arrive(0))["call"]
    await floor.act(call["id"], "answer", 1, agent_id="A-1")

    busy = await floor.client.post(
        f"/v1/calls/{call['id']}/transfer", json={"agent_id": "A-2", "at": at(5)}
    )
    assert busy.status_code == 409
    assert busy.json()["state"] == "offline"

    await floor.available("A-2", 6)
    moved = await floor.act(call["id"], "transfer", 7, agent_id="A-2")
    assert moved["call"]["agent_id"] == "A-2"
    assert moved["call"]["status"] == "offered"


async def test_a_caller_who_hangs_up_while_waiting_is_abandoned(floor: Floor) -> None:
    call = (await floor.arrive(0))["call"]

    ended = await floor.act(call["id"], "hang-up", 45)

    assert ended["call"]["status"] == "abandoned"
    event = await scalar(
        floor.settings,
        "SELECT payload FROM contact_center.outbox WHERE event_type = 'crm.call.ended.v1' "
        "AND payload->>'call_id' = :id",
        id=call["id"],
    )
    assert isinstance(event, dict)
    assert event["outcome"] == "abandoned"
    assert event["wait_seconds"] == 45


async def test_an_offer_the_caller_abandons_gives_the_agent_their_place_back(
    floor: Floor,
) -> None:
    for agent, free_from in (("A-1", -30), ("A-2", -10)):
        await floor.add_agent(agent, ["general"])
        await floor.available(agent, free_from)
    ringing = (await floor.arrive(0))["call"]
    assert ringing["agent_id"] == "A-1"

    await floor.act(ringing["id"], "hang-up", 3)
    next_call = (await floor.arrive(5))["call"]

    assert next_call["agent_id"] == "A-1"  # still idle longest


async def test_hold_time_counts_in_the_handle_time(floor: Floor) -> None:
    await floor.add_agent("A-1", ["general"])
    await floor.available("A-1", -5)
    call = (await floor.arrive(0))["call"]
    await floor.act(call["id"], "answer", 10, agent_id="A-1")
    held = await floor.act(call["id"], "hold", 20)
    assert held["status"] == "on_hold"
    await floor.act(call["id"], "resume", 50)
    await floor.act(call["id"], "hang-up", 70)
    assert (await floor.client.get("/v1/agents/A-1")).json()["state"] == "wrap_up"

    done = await floor.act(call["id"], "wrap-up", 90, wrap_up_code="card_lost")

    assert done["call"]["status"] == "completed"
    hold = await scalar(
        floor.settings,
        "SELECT hold_seconds FROM contact_center.calls WHERE id = :id",
        id=call["id"],
    )
    assert hold == 30.0
    event = await scalar(
        floor.settings,
        "SELECT payload FROM contact_center.outbox WHERE event_type = 'crm.call.ended.v1' "
        "AND payload->>'call_id' = :id",
        id=call["id"],
    )
    assert isinstance(event, dict)
    assert event["handle_seconds"] == 80


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("answer", {"agent_id": "A-9"}, "offered"),  # offered to someone else
        ("hold", {}, "offered"),
        ("wrap-up", {"wrap_up_code": "other"}, "offered"),
        ("resume", {}, "offered"),
    ],
)
async def test_an_action_the_call_is_not_ready_for_is_refused(
    floor: Floor, action: str, body: dict[str, Any], status: str
) -> None:
    await floor.add_agent("A-1", ["general"])
    await floor.available("A-1", -5)
    call = (await floor.arrive(0))["call"]

    refused = await floor.client.post(
        f"/v1/calls/{call['id']}/{action}", json={"at": at(1), **body}
    )

    assert refused.status_code == 409
    assert refused.json()["call_status"] == status
    assert (await floor.client.get(f"/v1/calls/{call['id']}")).json()["status"] == "offered"


async def test_a_time_before_the_call_s_last_event_is_refused(floor: Floor) -> None:
    await floor.add_agent("A-1", ["general"])
    await floor.available("A-1", -5)
    call = (await floor.arrive(10))["call"]

    early = await floor.client.post(
        f"/v1/calls/{call['id']}/answer", json={"agent_id": "A-1", "at": at(5)}
    )

    assert early.status_code == 422
    assert early.json()["field"] == "at"


async def test_an_agent_on_a_call_cannot_take_a_break(floor: Floor) -> None:
    await floor.add_agent("A-1", ["general"])
    await floor.available("A-1", -5)
    await floor.arrive(0)

    refused = await floor.client.put("/v1/agents/A-1/state", json={"state": "break", "at": at(1)})

    assert refused.status_code == 409
    assert refused.json()["state"] == "on_call"


async def test_an_unknown_call_or_agent_is_404(floor: Floor) -> None:
    missing_call = await floor.client.get("/v1/calls/00000000-0000-0000-0000-000000000000")
    missing_agent = await floor.client.put("/v1/agents/NOBODY/state", json={"state": "available"})
    duplicate = await floor.client.post(
        "/v1/agents", json={"id": "A-1", "name": "x", "skills": ["general", "general"]}
    )

    assert missing_call.status_code == 404
    assert missing_agent.status_code == 404
    assert duplicate.status_code == 422
    assert "skills" in duplicate.text
