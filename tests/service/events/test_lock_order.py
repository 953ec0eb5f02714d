"""The detector's consumer and its scheduled rules lock customers in one order, so running
both at once on the same customers never deadlocks (during a seed they did: the scheduler
locked each rule's candidates in turn while the consumer locked a run's customers at once)."""

import asyncio
import random
import uuid
from datetime import timedelta

from services.events import scheduled_rules, service
from shared.db import transaction
from shared.envelope import EventEnvelope
from tests.service.events.conftest import (
    BANK_TODAY,
    NOW,
    Detector,
    custom,
    known_customer,
    posted,
)

ROUNDS = 30


def _birthday_rule(rule_id: str, days: int) -> dict[str, object]:
    return {
        "name": f"Birthday within {days} days",
        "trigger": {"schedule": True},
        "conditions": [{"kind": "birthday_within", "days": days}],
        "action": {"kind": "relationship_care", "owner": "manager"},
        "cooldown_days": 0,
        "holdout_share": "0",
    }


async def test_the_consumer_and_the_scheduler_never_deadlock_on_shared_customers(
    detector: Detector,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    # Two rules whose candidates overlap: today's birthdays, and this week's.
    today = custom(f"birthday_today_{suffix}", _birthday_rule("today", 0))
    this_week = custom(f"birthday_week_{suffix}", _birthday_rule("week", 7))
    customers = [
        await known_customer(
            detector, birth_month_day=(BANK_TODAY + timedelta(days=n % 4)).strftime("%m-%d")
        )
        for n in range(60)
    ]
    draw = random.Random(7)
    deadlocks: list[BaseException] = []

    async def tick() -> None:
        async with transaction(detector.sessions) as session:
            await scheduled_rules.run_scheduled_rules(
                session, rules=[today, this_week], settings=detector.settings, now=NOW
            )

    async def consume(run: list[uuid.UUID]) -> None:
        items = [
            (
                event := posted(customer_id, 100, at=NOW - timedelta(minutes=1)),
                EventEnvelope(
                    id=str(uuid.uuid4()),
                    source="/crm/test",
                    type=event.event_type,
                    subject=event.subject,
                    time=NOW,
                    position=(event.topic, 0, 0),
                ),
            )
            for customer_id in run
        ]
        async with transaction(detector.sessions) as session:
            await service.handle_events(
                session, items, rules=[], settings=detector.settings, cache=detector.cache
            )

    for _ in range(ROUNDS):
        runs = [draw.sample(customers, 20) for _ in range(3)]
        outcomes = await asyncio.gather(
            tick(), *(consume(run) for run in runs), return_exceptions=True
        )
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        deadlocks += [e for e in errors if "deadlock" in str(e).lower()]
        assert [e for e in errors if "deadlock" not in str(e).lower()] == []
    assert deadlocks == []
