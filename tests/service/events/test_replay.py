"""Rebuilding the detector from the topics reaches the very opportunities of the live run."""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from services.events.app import create_app
from services.events.config import Settings
from services.events.models import Firing, Opportunity
from services.events.replay import rebuild
from shared.db import create_engine, create_sessionmaker, transaction
from tests.service.conftest import publish, serving
from tests.service.events.conftest import (
    NOW,
    contact,
    debit,
    posted,
    registered,
    wait_observed,
)

SOURCE = "/crm/customer"


async def _snapshot(settings: Settings, customers: list[uuid.UUID]) -> set[tuple[Any, ...]]:
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            rows = await session.scalars(
                select(Opportunity).where(Opportunity.customer_id.in_(customers))
            )
            return {
                (str(o.customer_id), o.rule_id, o.rule_version, o.dedupe_key, o.priority,
                 o.status, o.control_group, tuple(sorted(o.facts.items())))
                for o in rows
            }  # fmt: skip
    finally:
        await engine.dispose()


async def test_a_replay_from_the_beginning_reproduces_the_live_opportunities(
    events_settings: Settings,
) -> None:
    customers = [uuid.uuid4() for _ in range(12)]
    stream: list[Any] = []
    for n, customer_id in enumerate(customers):
        for days_ago in (40, 30, 20):
            stream.append(posted(customer_id, 8_000 + n, at=NOW - timedelta(days=days_ago)))
        stream.append(posted(customer_id, 60_000 + n * 1000, at=NOW - timedelta(days=2)))
        stream.append(debit(customer_id, 100_000 + n, at=NOW - timedelta(days=1)))
        # Through the mobile app: calls would count against the contact-fatigue cap, and the
        # withdrawal's offer would then be held back depending on the topics' interleaving.
        stream += [
            contact(customer_id, NOW - timedelta(hours=h), channel="mobile") for h in (30, 20, 10)
        ]
    async with serving(create_app(events_settings)):
        await publish(events_settings, *(registered(c) for c in customers), source=SOURCE)
        await wait_observed(events_settings, customers, len(customers))
        await publish(events_settings, *stream, source=SOURCE)
        await wait_observed(events_settings, customers, len(customers) + len(stream))
    live = await _snapshot(events_settings, customers)
    rules_fired = {row[1] for row in live}
    assert {"large_deposit", "large_withdrawal", "repeated_contacts"} <= rules_fired

    # Lose the opportunities and firings as well as the state: the replay must recreate them.
    engine = create_engine(events_settings)
    async with transaction(create_sessionmaker(engine)) as session:
        await session.execute(delete(Opportunity).where(Opportunity.customer_id.in_(customers)))
        await session.execute(delete(Firing).where(Firing.customer_id.in_(customers)))
    await engine.dispose()
    assert await _snapshot(events_settings, customers) == set()

    await rebuild(events_settings)
    assert await _snapshot(events_settings, customers) == live
