"""Rebuilding the detector's state from the topics (``crm replay events``).

The per-customer state and the consumed history are derived data: they are emptied and
rebuilt by consuming every topic again, customers' profiles first. Opportunities and firings
are kept: they are what the bank did, and their facts keys make the replay recreate none
that exist (and any that are missing, the same as before)."""

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.catalogue import Topic
from services.events.config import Settings
from services.events.consumers import build_batch_handler, build_handlers
from services.events.models import (
    CustomerDay,
    CustomerHolding,
    CustomerProfile,
    CustomerRecurringCredit,
    ObservedEvent,
)
from services.events.service import RuleBook
from shared.consumer import Handlers
from shared.db import create_engine, create_sessionmaker, transaction
from shared.replay import replay_topics

DERIVED = (CustomerProfile, CustomerDay, CustomerHolding, CustomerRecurringCredit, ObservedEvent)


async def reset_state(session: AsyncSession) -> None:
    for model in DERIVED:
        await session.execute(delete(model))


def replay_phases(settings: Settings) -> list[Handlers]:
    handlers = build_handlers(settings, RuleBook())
    profiles = {model: h for model, h in handlers.items() if model.topic == Topic.CUSTOMER}
    return [profiles, dict(handlers)]


async def rebuild(settings: Settings) -> str:
    """Empty the derived state and replay the topics into it; returns the replay's group."""
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            await reset_state(session)
    finally:
        await engine.dispose()
    batch = build_batch_handler(settings, RuleBook())
    return await replay_topics(settings, replay_phases(settings), batch_handler=batch)
