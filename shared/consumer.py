"""The event consumer: reads a group's topics and applies each event once, in order per key.

For every message: read the CloudEvents headers, decode the body with the model its handler
declares, and in one transaction claim the event id in the inbox and run the handler. Offsets
are committed only after that transaction committed, so a crash means redelivery, and the inbox
makes redelivery harmless.

With a batch handler, a poll's messages are applied in one transaction, each partition's in
order; without one, or when that transaction fails, partitions are handled concurrently, the
messages of one partition one after another, each in a transaction of its own. A handler
that keeps failing is retried a bounded number of times, then its message goes to
``<topic>.dlq`` with the error, and the partition goes on. A message that cannot be decoded
goes there at once. When the database or the bus is unavailable, nothing is dead-lettered:
the consumer waits and tries the same message again.

With a linger, a poll that was not full is followed by the next only that long after it, so
that a steady flow is handled in fewer, larger transactions; a backlog is read at once.
"""

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.contextvars import bound_contextvars
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from contracts.base import DomainEvent
from contracts.catalogue import dead_letter_topic
from shared.backoff import BACKGROUND_PAUSES, RetryPauses
from shared.bus import Bus, BusConsumer, BusUnavailableError, ReceivedMessage, TopicPartition
from shared.db import is_retryable_conflict, is_unavailable
from shared.dead_letter import dead_letter
from shared.envelope import EnvelopeError, EventEnvelope
from shared.inbox import claim, claim_many
from shared.logging import correlation_id_var, get_logger
from shared.metrics import ServiceMetrics
from shared.outbox import OUTBOX_WRITTEN
from shared.tracing import BusTracer, consuming
from shared.waiting import wait_for_event

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Any, EventEnvelope], Awaitable[None]]
Handlers = Mapping[type[DomainEvent], Handler]
# Applies a poll's events in one transaction: each partition's run in its order, one run after
# another (a key's events on a topic are all in one of its partitions). Must have the same
# effect as the per-event handlers, which take over when a batch fails.
BatchHandler = Callable[[AsyncSession, list[tuple[Any, EventEnvelope]]], Awaitable[None]]

LAG_REFRESH_SECONDS = 5.0


def _is_transient(error: BaseException) -> bool:
    return (
        is_unavailable(error)
        or is_retryable_conflict(error)
        or isinstance(error, BusUnavailableError | TimeoutError)
    )


class _Poison(Exception):
    """The message can never be handled: it is dead-lettered without retries."""


class EventConsumer:
    def __init__(
        self,
        *,
        bus: Bus,
        sessions: async_sessionmaker[AsyncSession],
        group: str,
        handlers: Handlers,
        metrics: ServiceMetrics,
        max_attempts: int,
        retry_backoff: float,
        batch_size: int,
        linger_ms: int = 0,
        on_committed: Callable[[], None] | None = None,
        batch_handler: BatchHandler | None = None,
        tracer: BusTracer | None = None,
        pauses: RetryPauses = BACKGROUND_PAUSES,
    ) -> None:
        self.group = group
        self._pauses = pauses
        self._tracer = tracer
        self._batch_handler = batch_handler
        self._bus = bus
        self._sessions = sessions
        self._handlers = {model.event_type: (model, handler) for model, handler in handlers.items()}
        self.topics = sorted({model.topic for model in handlers})
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._batch_size = batch_size
        self._linger_ms = linger_ms
        # When the next poll may start: set after a poll that was not full (see linger_ms).
        self._next_poll_at = 0.0
        self._on_committed = on_committed
        self._stopping = asyncio.Event()
        self._consumer: BusConsumer | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Consume until :meth:`stop`; survives the bus and the database going away."""
        backoff = self._pauses.backoff()
        while not self._stopping.is_set():
            try:
                await self._bus.ensure_topics(
                    [*self.topics, *(dead_letter_topic(t) for t in self.topics)]
                )
                self._consumer = self._bus.consumer(
                    self.group, self.topics, linger_ms=self._linger_ms
                )
                await self._consumer.start()
                break
            except Exception as error:
                if self._consumer is not None:
                    with contextlib.suppress(Exception):
                        await self._consumer.stop()
                    self._consumer = None
                log.warning("consumer.start_failed", group=self.group, error=str(error))
                await self._pause(backoff.after_failure())
        consumer = self._consumer
        if consumer is None:
            return
        lag_watch = asyncio.create_task(self._watch_lag(consumer))
        try:
            while not self._stopping.is_set():
                try:
                    await self._consume_once(consumer)
                except Exception as error:
                    if not _is_transient(error):
                        log.exception("consumer.loop_failed", group=self.group)
                    await self._pause(1.0)
                    # The batch may be half-handled: read it again from the committed
                    # offsets (the inbox skips what was applied) rather than skip the rest.
                    with contextlib.suppress(Exception):
                        await consumer.rewind()
        finally:
            lag_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag_watch
            await consumer.stop()

    async def caught_up(self) -> bool:
        """Whether every assigned partition is handled and committed to its end (a replay
        uses this to know it is done)."""
        consumer = self._consumer
        if consumer is None:
            return False
        lag = await consumer.lag()
        return bool(lag) and not any(lag.values())

    async def _consume_once(self, consumer: BusConsumer) -> None:
        # A backlog (full polls) is read without waiting; only a trickle is gathered. The bus
        # goes on fetching meanwhile (aiokafka's fetcher prefetches; the local bus reads on).
        wait = self._next_poll_at - time.monotonic()
        if wait > 0:
            await self._pause(wait)
        messages = await consumer.poll(max_records=self._batch_size, timeout=1.0)
        if self._linger_ms and len(messages) < self._batch_size:
            self._next_poll_at = time.monotonic() + self._linger_ms / 1000
        if not messages:
            return
        async with consumer.assignment_lock:
            if not consumer.is_current(messages[0].generation):
                # Fetched across a rebalance. When a partition stayed with this member, its
                # position has already moved past these messages: back to the committed offset,
                # or they would be skipped for good.
                await consumer.rewind()
                return
            by_partition: dict[TopicPartition, list[ReceivedMessage]] = defaultdict(list)
            for message in messages:
                by_partition[(message.topic, message.partition)].append(message)
            # The whole poll, every partition's run in its order, in one transaction: at a
            # steady rate a poll holds a few events per partition, and one transaction per
            # partition multiplied the round trips and commits by the partitions in hand.
            if self._batch_handler is not None and len(messages) > 1:
                if await self._handle_batch_until_done(messages):
                    await consumer.commit({tp: r[-1].offset + 1 for tp, r in by_partition.items()})
                    return
                if self._stopping.is_set():
                    return
            done = await asyncio.gather(
                *(self._handle_partition(run) for run in by_partition.values())
            )
            offsets = {tp: offset for tp, offset in zip(by_partition, done, strict=True) if offset}
            await consumer.commit(offsets)

    async def _handle_partition(self, messages: list[ReceivedMessage]) -> int | None:
        """Handle one by one, in order; return the next offset to commit (None if none was
        finished). A poison message is isolated here: retried, then dead-lettered alone."""
        next_offset: int | None = None
        for message in messages:
            if not await self._handle_until_done(message):
                break
            next_offset = message.offset + 1
        return next_offset

    async def _handle_until_done(self, message: ReceivedMessage) -> bool:
        backoff = self._pauses.backoff()
        while not self._stopping.is_set():
            try:
                await self._handle(message)
                return True
            except Exception as error:
                if not _is_transient(error):
                    raise
                log.warning(
                    "consumer.unavailable", group=self.group, topic=message.topic, error=str(error)
                )
                await self._pause(backoff.after_failure())
        return False

    async def _handle_batch_until_done(self, messages: list[ReceivedMessage]) -> bool:
        """The whole run in one transaction. False sends the caller to the per-event path:
        a message that cannot be decoded, or a handler error, is then isolated (retried,
        dead-lettered) without holding back the rest of the run."""
        backoff = self._pauses.backoff()
        while not self._stopping.is_set():
            try:
                return await self._handle_batch(messages)
            except Exception as error:
                if not _is_transient(error):
                    log.warning("consumer.batch_failed", group=self.group, error=repr(error)[:300])
                    return False
                log.warning("consumer.unavailable", group=self.group, error=str(error))
                await self._pause(backoff.after_failure())
        return False

    async def _handle_batch(self, messages: list[ReceivedMessage]) -> bool:
        assert self._batch_handler is not None
        decoded = []
        for message in messages:
            try:
                envelope, event, handler = self._decode(message)
            except _Poison:
                return False
            decoded.append((message, envelope, event, handler))
        wanted = [(m, env, e) for m, env, e, h in decoded if h is not None and e is not None]
        started = time.perf_counter()
        traceparents = [env.traceparent for _, env, _ in wanted]
        topics = ",".join(sorted({message.topic for message in messages}))
        with consuming(self._tracer, topics, self.group, traceparents):
            applied = await self._apply_batch(wanted)
        share = (time.perf_counter() - started) / max(len(wanted), 1)
        # Counted per topic and outcome, not per message: a label lookup per message was a
        # measurable part of a large run.
        outcomes: Counter[tuple[str, str]] = Counter()
        for message, _, _, handler in decoded:
            if handler is None:
                outcomes[message.topic, "ignored"] += 1
            else:
                position = (message.topic, message.partition, message.offset)
                outcomes[message.topic, "applied" if position in applied else "duplicate"] += 1
        for (topic, outcome), count in outcomes.items():
            self._metrics.events_consumed.labels(self.group, topic, outcome).inc(count)
            if outcome != "ignored":
                duration = self._metrics.handler_duration.labels(self.group, topic)
                for _ in range(count):
                    duration.observe(share)
        return True

    async def _apply_batch(
        self, wanted: list[tuple[ReceivedMessage, EventEnvelope, DomainEvent]]
    ) -> set[tuple[str, int, int]]:
        """The run's events not applied before, applied in one transaction, each once (after a
        relay's retry one poll may hold an event twice); the positions of those applied."""
        assert self._batch_handler is not None
        async with self._sessions() as session:
            async with session.begin():
                claimed = await claim_many(
                    session, group=self.group, events=[(env.id, env.type) for _, env, _ in wanted]
                )
                applied = []
                for message, envelope, event in wanted:
                    if envelope.id in claimed:
                        claimed.discard(envelope.id)
                        applied.append((message, envelope, event))
                if applied:
                    await self._batch_handler(session, [(e, env) for _, env, e in applied])
            if session.info.pop(OUTBOX_WRITTEN, False) and self._on_committed is not None:
                self._on_committed()
        return {(m.topic, m.partition, m.offset) for m, _, _ in applied}

    async def _handle(self, message: ReceivedMessage) -> None:
        labels = (self.group, message.topic)
        try:
            envelope, event, handler = self._decode(message)
        except _Poison as poison:
            await self._dead_letter(message, poison.__cause__ or poison)
            return
        if handler is None or event is None:
            self._metrics.events_consumed.labels(*labels, "ignored").inc()
            return
        token = correlation_id_var.set(envelope.correlation_id)
        try:
            with bound_contextvars(event_id=envelope.id, event_type=envelope.type):
                started = time.perf_counter()
                try:
                    with consuming(self._tracer, message.topic, self.group, [envelope.traceparent]):
                        applied = await self._apply_with_retries(envelope, event, handler)
                except Exception as error:
                    if _is_transient(error):
                        raise
                    await self._dead_letter(message, error)
                    return
                finally:
                    self._metrics.handler_duration.labels(*labels).observe(
                        time.perf_counter() - started
                    )
                outcome = "applied" if applied else "duplicate"
                self._metrics.events_consumed.labels(*labels, outcome).inc()
        finally:
            correlation_id_var.reset(token)

    def _decode(
        self, message: ReceivedMessage
    ) -> tuple[EventEnvelope, DomainEvent | None, Handler | None]:
        try:
            envelope = EventEnvelope.from_headers(
                message.headers, position=(message.topic, message.partition, message.offset)
            )
        except EnvelopeError as error:
            raise _Poison() from error
        entry = self._handlers.get(envelope.type)
        if entry is None:
            return envelope, None, None
        model, handler = entry
        try:
            event = model.model_validate_json(message.value)
        except ValidationError as error:
            raise _Poison() from error
        return envelope, event, handler

    async def _apply_with_retries(
        self, envelope: EventEnvelope, event: DomainEvent, handler: Handler
    ) -> bool:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._retry_backoff, max=5.0),
            retry=retry_if_exception(lambda error: not _is_transient(error)),
            before_sleep=lambda state: self._metrics.events_failed.labels(
                self.group, event.topic
            ).inc(),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._apply(envelope, event, handler)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _apply(self, envelope: EventEnvelope, event: DomainEvent, handler: Handler) -> bool:
        async with self._sessions() as session:
            async with session.begin():
                if not await claim(
                    session, group=self.group, event_id=envelope.id, event_type=envelope.type
                ):
                    return False
                await handler(session, event, envelope)
            if session.info.pop(OUTBOX_WRITTEN, False) and self._on_committed is not None:
                self._on_committed()
        return True

    async def _dead_letter(self, message: ReceivedMessage, error: BaseException) -> None:
        self._metrics.events_failed.labels(self.group, message.topic).inc()
        log.error(
            "consumer.dead_lettered",
            group=self.group,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            error=f"{type(error).__name__}: {error}",
        )
        await self._bus.publish([dead_letter(message, error, group=self.group)])
        self._metrics.events_dead_lettered.labels(self.group, message.topic).inc()

    async def _watch_lag(self, consumer: BusConsumer) -> None:
        """Refresh the lag gauge on a task of its own: reading the partitions' ends is a round
        trip to the broker that now and then took hundreds of milliseconds, and the consuming
        loop waited for it (a stall in the event-to-opportunity p99, bench/detector.py)."""
        while not self._stopping.is_set():
            try:
                for (topic, partition), lag in (await consumer.lag()).items():
                    self._metrics.consumer_lag.labels(self.group, topic, str(partition)).set(lag)
            except Exception as error:  # the next reading may succeed; consuming goes on
                log.warning("consumer.lag_unavailable", group=self.group, error=str(error))
            await self._pause(LAG_REFRESH_SECONDS)

    async def _pause(self, seconds: float) -> None:
        await wait_for_event(self._stopping, seconds)
