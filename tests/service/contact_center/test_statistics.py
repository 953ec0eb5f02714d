"""Each statistic on a known sequence of calls, worked out by hand below, and the live board
that operators scrape.

Two agents on the general queue; A-1 free since -60 s, A-2 since -30 s:

======  =======  ===========  ========  ============================  ======
call    arrives  agent        answered  ends                          wait
======  =======  ===========  ========  ============================  ======
1 (c1)  0        A-1          5         line 100, wrapped 125         5
2 (c2)  10       A-2          40        wrapped 100                   30
3       20       (waits)      -         abandoned 50                  30
4 (c3)  60       A-2 at 100   105       wrapped 205                   45
5 (c1)  130      A-1          132       wrapped 182, same matter as 1  2
======  =======  ===========  ========  ============================  ======

Offered 5, answered 4, within 20 s: calls 1 and 5. Service level 2/5 = 0.4; speed of answer
(5+30+45+2)/4 = 20.5 s; handle time (120+60+100+50)/4 = 82.5 s; abandonment 1/5 = 0.2.
First-contact resolution: call 1 is followed by call 5 on the same matter, so 3/4 = 0.75.
Occupancy over [0, 300): A-1 busy 0-125 and 130-182 = 177 s of 300; A-2 busy 10-205 = 195 s.
"""

import re

import pytest

from tests.service.contact_center.conftest import Floor, at, new_mobile
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("floor")


async def play_the_sequence(floor: Floor) -> None:
    first, second, third = new_mobile(), new_mobile(), new_mobile()
    for phone in (first, second, third):
        await floor.known_customer(phone=phone)
    await floor.add_agent("A-1", ["general"], joined=-90)
    await floor.add_agent("A-2", ["general"], joined=-90)
    await floor.available("A-1", -60)
    await floor.available("A-2", -30)

    call1 = (await floor.arrive(0, caller_number=first))["call"]
    assert call1["agent_id"] == "A-1"
    call2 = (await floor.arrive(10, caller_number=second))["call"]
    assert call2["agent_id"] == "A-2"
    call3 = (await floor.arrive(20, caller_number=new_mobile()))["call"]
    assert call3["status"] == "waiting"
    await floor.act(call1["id"], "answer", 5, agent_id="A-1")
    await floor.act(call2["id"], "answer", 40, agent_id="A-2")
    await floor.act(call3["id"], "hang-up", 50)
    call4 = (await floor.arrive(60, caller_number=third))["call"]
    await floor.act(call1["id"], "hang-up", 100)
    after2 = await floor.act(call2["id"], "wrap-up", 100, wrap_up_code="card_lost")
    assert after2["next_call"]["id"] == call4["id"]
    await floor.act(call4["id"], "answer", 105, agent_id="A-2")
    await floor.act(call1["id"], "wrap-up", 125, wrap_up_code="fee_query")
    call5 = (await floor.arrive(130, caller_number=first))["call"]
    assert call5["agent_id"] == "A-1"
    await floor.handle(call5["id"], "A-1", 132, 182, wrap_up_code="fee_query")
    await floor.act(call4["id"], "wrap-up", 205, wrap_up_code="address_change")


async def test_every_statistic_on_a_known_sequence(floor: Floor) -> None:
    await play_the_sequence(floor)

    answer = await floor.client.get(
        "/v1/stats", params={"from": at(0), "to": at(300), "bucket_minutes": 2}
    )

    assert answer.status_code == 200, answer.text
    report = answer.json()
    general = report["queues"][0]
    assert general == report["overall"] | {"queue": "general"}
    assert general == {
        "queue": "general", "offered": 5, "answered": 4, "answered_within_threshold": 2,
        "abandoned": 1, "service_level": 0.4, "average_speed_of_answer_seconds": 20.5,
        "average_handle_time_seconds": 82.5, "abandonment_rate": 0.2,
        "first_contact_resolution": 0.75,
    }  # fmt: skip
    agents = {a["agent_id"]: a for a in report["agents"]}
    assert agents["A-1"] == {
        "agent_id": "A-1", "handled": 2, "average_handle_time_seconds": 85.0,
        "occupancy": round(177 / 300, 4), "first_contact_resolution": 0.5,
    }  # fmt: skip
    assert agents["A-2"]["handled"] == 2
    assert agents["A-2"]["occupancy"] == 0.65
    assert agents["A-2"]["average_handle_time_seconds"] == 80.0
    # Two-minute intervals by joining time: calls 1-4, then call 5.
    intervals = [i["queues"][0] for i in report["intervals"]]
    by_interval = [(q["offered"], q["service_level"]) for q in intervals]
    assert by_interval == [(4, 0.25), (1, 1.0)]


async def test_the_live_board_shows_waiting_calls_and_agents(floor: Floor) -> None:
    await floor.add_agent("A-1", ["cards"])
    await floor.arrive(0, queue="general")
    await floor.arrive(1, queue="general")

    live = (await floor.client.get("/v1/stats/live")).json()
    general = next(q for q in live["queues"] if q["queue"] == "general")
    assert general["waiting"] == 2
    assert live["agents_by_state"] == {"offline": 1}

    async def scraped() -> bool:
        text = (await floor.client.get("/metrics")).text
        return bool(re.search(r'crm_contact_calls_waiting\{queue="general"\} 2\.0', text)) and (
            'crm_contact_agents{state="offline"} 1.0' in text
        )

    await wait_until(scraped, timeout=10)


async def test_a_period_the_wrong_way_round_names_the_field(floor: Floor) -> None:
    answer = await floor.client.get("/v1/stats", params={"from": at(100), "to": at(0)})

    assert answer.status_code == 422
    assert answer.json()["field"] == "from"
    assert [error["field"] for error in answer.json()["errors"]] == ["from"]
