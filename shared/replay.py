"""Rebuilding a service's state by consuming its topics again from the beginning.

The replay reads under a consumer group of its own, so the inbox and the committed offsets of
the live group are untouched, and it runs in phases: each phase's topics are consumed to
their end before the next begins. Kafka orders a customer's events within a topic, not
across topics; putting the topics that describe customers (profiles, consent, tiers) first
gives a replay the order the live run had, where customers are known before they act."""

import asyncio
import uuid
from collections.abc import Sequence

from shared.consumer import BatchHandler, EventConsumer, Handlers
from shared.logging import get_logger
from shared.metrics import ServiceMetrics
from shared.runtime import ServiceRuntime
from shared.settings import SharedSettings

log = get_logger(__name__)

SETTLE_CHECKS = 3  # consecutive "caught up" answers, a lag refresh apart


async def replay_topics(
    settings: SharedSettings,
    phases: Sequence[Handlers],
    *,
    batch_handler: BatchHandler | None = None,
    check_every: float = 0.5,
    timeout: float = 3600.0,
) -> str:
    """Consume each phase's topics from the beginning to their end; returns the group used.

    The outbox relay runs meanwhile, so events the handlers write are published, and is
    drained before returning."""
    group = f"crm-{settings.service_name}-replay-{uuid.uuid4().hex[:8]}"
    runtime = ServiceRuntime.build(
        settings, handlers={}, metrics=ServiceMetrics(settings.service_name)
    )
    await runtime.start()
    try:
        for number, handlers in enumerate(phases, start=1):
            consumer = EventConsumer(
                bus=runtime.bus,
                sessions=runtime.sessions,
                group=group,
                handlers=handlers,
                metrics=runtime.metrics,
                max_attempts=settings.consumer_max_attempts,
                retry_backoff=settings.consumer_retry_backoff_seconds,
                batch_size=settings.consumer_batch_size,
                on_committed=runtime.relay.wake,
                batch_handler=batch_handler,
            )
            task = asyncio.create_task(consumer.run(), name=f"replay-phase-{number}")
            try:
                async with asyncio.timeout(timeout):
                    settled = 0
                    while settled < SETTLE_CHECKS:
                        await asyncio.sleep(check_every)
                        settled = settled + 1 if await consumer.caught_up() else 0
            finally:
                consumer.stop()
                await task
            log.info("replay.phase_done", group=group, phase=number, topics=consumer.topics)
    finally:
        await runtime.stop()
    return group
