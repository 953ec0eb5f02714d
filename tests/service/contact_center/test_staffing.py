"""The staffing forecast through HTTP on recorded calls: two calls every day at 10:00 local
for two weeks, each handled for 240 s, forecast for tomorrow, and the refused periods."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.service.contact_center.conftest import T0, Floor

SHANGHAI = ZoneInfo("Asia/Shanghai")


def seconds_from_t0(day: date, minute: int) -> float:
    moment = datetime.combine(day, time(10, minute), SHANGHAI).astimezone(UTC)
    return (moment - T0).total_seconds()


async def record_two_weeks(floor: Floor) -> None:
    today = datetime.now(SHANGHAI).date()
    days = [today - timedelta(days=offset) for offset in range(14, 0, -1)]
    await floor.add_agent("P-1", ["cards"], joined=seconds_from_t0(days[0], 0) - 120)
    await floor.available("P-1", seconds_from_t0(days[0], 0) - 60)
    for day in days:
        for minute in (5, 15):
            arrived = await floor.arrive(seconds_from_t0(day, minute), queue="cards")
            begin = seconds_from_t0(day, minute)
            await floor.handle(arrived["call"]["id"], "P-1", begin, begin + 240)


async def test_tomorrow_follows_the_recorded_days(floor: Floor) -> None:
    await record_two_weeks(floor)
    tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)

    answer = await floor.client.get(
        "/v1/staffing/forecast",
        params={
            "queue": "cards",
            "from": tomorrow.isoformat(),
            "to": tomorrow.isoformat(),
            "agents": 1,
        },
    )

    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["history"]["calls"] == 28
    assert len(body["intervals"]) == 48
    at_ten = body["intervals"][20]
    assert datetime.fromisoformat(at_ten["start"]).astimezone(SHANGHAI).time() == time(10, 0)
    assert at_ten["expected_calls"] == pytest.approx(2.0, abs=0.1)
    assert at_ten["average_handle_time_seconds"] == pytest.approx(240, abs=1)
    assert at_ten["agents_required"] >= 1
    assert at_ten["rostered_agents"] >= at_ten["agents_required"]
    assert at_ten["what_if"]["agents"] == 1
    assert sum(i["expected_calls"] for i in body["intervals"]) == pytest.approx(2.0, abs=0.1)
    assert body["targets"]["model"] == "erlang_c"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"queue": "cards", "from": "2020-01-01"}, "from"),
        ({"queue": "cards", "from": "2099-01-01", "to": "2099-03-01"}, "to"),
        ({"queue": "cards", "interval": 20}, "interval"),
        ({"queue": "cards", "agents": -1}, "agents"),
        ({"queue": "nowhere"}, "queue"),
    ],
)
async def test_a_refused_parameter_is_a_422_naming_it(
    floor: Floor, params: dict[str, Any], field: str
) -> None:
    answer = await floor.client.get("/v1/staffing/forecast", params=params)

    assert answer.status_code == 422, answer.text
    assert field in {error["field"] for error in answer.json()["errors"]}
