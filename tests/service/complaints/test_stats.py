"""``/v1/complaints/stats`` over a period of receipt, counted from cases made for it."""

import random
import uuid
from datetime import UTC, datetime, timedelta

from contracts.customer import CustomerSegmentChanged
from services.complaints.app import create_app
from services.complaints.config import Settings
from services.complaints.deadlines import DayCount, DecisionRule, Period
from tests.service.complaints.conftest import complaint_body, file_complaint, walk_to
from tests.service.conftest import publish, serving
from tests.waiting import wait_until


async def test_volumes_on_time_rate_repeats_satisfaction_and_customers_who_left(
    migrated_database: str,
) -> None:
    # The US pack starts the decision clock at receipt, so old cases can be late; fee
    # complaints get a configured 10,000-day rule so that one decision is on time.
    settings = Settings(
        database_url=migrated_database,
        relay_poll_interval_seconds=0.05,
        deadline_sweep_interval_seconds=0.2,
        deadline_pack="us",
        decision_overrides={"fees": DecisionRule(Period(10_000, DayCount.CALENDAR_DAYS))},
    )
    # A window of its own, so that other tests' cases are not counted.
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=random.randrange(8000))
    end = start + timedelta(hours=1)

    def at(minutes: int) -> str:
        return (start + timedelta(minutes=minutes)).isoformat()

    async with serving(create_app(settings)) as client:
        a = await file_complaint(client, category="fees", received_at=at(1))
        b = await file_complaint(client, category="product", channel="web", received_at=at(2))
        c = await file_complaint(client, category="service_attitude", received_at=at(3))
        await walk_to(client, a["id"], "closed")  # decided in time, satisfaction 4
        await walk_to(client, b["id"], "implementation")  # decided after its 15 days
        d = await file_complaint(
            client, customer_id=a["customer_id"], category="fees", received_at=at(4)
        )
        assert d["is_repeat"] is True
        linked = await client.post(
            "/v1/complaints",
            json=complaint_body(
                customer_id=c["customer_id"], category="service_attitude", received_at=at(5)
            ),
        )
        assert linked.status_code == 200
        await publish(
            settings,
            CustomerSegmentChanged(
                customer_id=uuid.UUID(b["customer_id"]), dimension="value_tier",
                previous="key", current="ordinary", direction="downgrade",
                reason="AUM fell below 200,000", policy=None, effective_at=datetime.now(UTC),
            ),
            source="/crm/customer",
        )  # fmt: skip
        params = {"from": start.isoformat(), "to": end.isoformat()}

        async def left_counted() -> bool:
            stats = (await client.get("/v1/complaints/stats", params=params)).json()
            return bool(stats["customers_left_after_complaint"] == 1)

        await wait_until(left_counted, timeout=20)
        stats = (await client.get("/v1/complaints/stats", params=params)).json()

        assert stats["received"] == 4
        assert {x["key"]: x["count"] for x in stats["by_category"]} == {
            "fees": 2, "product": 1, "service_attitude": 1,
        }  # fmt: skip
        assert {x["key"]: x["count"] for x in stats["by_channel"]} == {"phone": 3, "web": 1}
        assert {x["key"]: x["count"] for x in stats["by_cause"]} == {
            "unset_expectations": 2, "unknown": 2,
        }  # fmt: skip
        assert {x["key"]: x["count"] for x in stats["by_department"]} == {
            "cards": 2, "unknown": 2,
        }  # fmt: skip
        steps = {x["step"]: x["samples"] for x in stats["average_time_per_step"]}
        assert steps["validity"] == 2  # a and b left it; c and d still wait there
        assert steps["approval"] == 2
        assert steps["evaluation"] == 1
        # a and b were received years ago: judging validity took that long.
        validity = next(x for x in stats["average_time_per_step"] if x["step"] == "validity")
        assert validity["average_hours"] > 24 * 300
        assert (stats["decided"], stats["decided_on_time"]) == (2, 1)
        assert stats["on_time_rate"] == round(1 / 3, 4)  # c is undecided and late
        assert stats["repeat_complaints"] == 2  # d repeats a; c got a linked submission
        assert (stats["satisfaction_responses"], stats["average_satisfaction"]) == (1, 4.0)
        assert stats["customers_complaining"] == 3
        assert stats["customers_left_after_complaint"] == 1

        backwards = await client.get(
            "/v1/complaints/stats", params={"from": end.isoformat(), "to": start.isoformat()}
        )
        assert backwards.status_code == 422
        assert backwards.json()["field"] == "from"
        assert [error["field"] for error in backwards.json()["errors"]] == ["from"]
