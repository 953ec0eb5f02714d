"""The outbox relay: publishes a service's outbox after the writing transactions commit, in
order, one relay at a time per schema (see ``shared.outbox`` for the rows and their writers).

The relay marks rows only after the bus acknowledged them; if it dies in between, the rows go
out again on its next round, and the consumers' inbox absorbs the duplicate.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backoff import BACKGROUND_PAUSES, RetryPauses
from shared.bus import AppendsFromOutbox, Bus, BusUnavailableError
from shared.db import is_unavailable
from shared.logging import get_logger
from shared.metrics import ServiceMetrics
from shared.outbox import OUTBOX_COLUMNS, OutboxRecord, to_message
from shared.tracing import BusTracer, publishing
from shared.waiting import wait_for_event

log = get_logger(__name__)

BACKLOG_REFRESH_SECONDS = 5.0

# A relay round's lock and read are one statement: the lock is taken once (the lateral join
# reads the rows only if it was), and the one row it always returns says whether it was. As
# separate statements, with the ORM loading the rows, the round's database work took longer
# than publishing (bench/detector.py, the time from an event to its opportunity). Built once.
_o = OutboxRecord.__table__.c
_LOCK = select(
    func.pg_try_advisory_xact_lock(func.hashtext(bindparam("lock_name", type_=Text))).label(
        "locked"
    ),
).subquery("relay_lock")


# The payload is read as the column's JSON text: decoding it only to encode it again for the
# message took about 6% of the customer service's CPU under batch ingest, where the whole relay
# took 19% (py-spy over bench/customer_view_ingest.py's ingest phase).
# A bus that appends from the relay's own outbox (``AppendsFromOutbox``) reads no payload here.
def _lock_and_read(*, payload: bool) -> Select[Any]:
    pending = (
        select(
            _o.seq,
            *(_o[name] for name in OUTBOX_COLUMNS if name != "payload"),
            *([cast(_o.payload, Text).label("payload_json")] if payload else []),
        )
        .where(_LOCK.c.locked, _o.published_at.is_(None))
        .order_by(_o.seq)
        .limit(bindparam("batch", type_=Integer))
        .lateral("pending")
    )
    return select(_LOCK.c.locked, pending).select_from(_LOCK.outerjoin(pending, true()))


_LOCK_AND_READ = _lock_and_read(payload=True)
_LOCK_AND_READ_KEYS = _lock_and_read(payload=False)
# The round reads rows, never outbox objects: nothing in the session to synchronise. Left to
# "auto", the ORM tried to evaluate the array condition in Python on every round, failed, and
# fell back to fetching the updated keys (py-spy: 3% of the customer worker at 1,000 tx/s).
_MARK_PUBLISHED = (
    update(OutboxRecord)
    .where(OutboxRecord.seq == any_(bindparam("seqs", type_=ARRAY(BigInteger))))
    .values(published_at=func.now())
    .execution_options(synchronize_session=False)
)


class OutboxRelay:
    """Publishes a service's outbox in order, one relay at a time per schema."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        *,
        schema: str,
        metrics: ServiceMetrics,
        batch_size: int,
        poll_interval: float,
        retention: timedelta = timedelta(days=7),
        pauses: RetryPauses = BACKGROUND_PAUSES,
        tracer: BusTracer | None = None,
    ) -> None:
        self._sessions = sessions
        self._tracer = tracer
        self._pauses = pauses
        self._bus = bus
        bind = sessions.kw.get("bind")
        self._appends = isinstance(bus, AppendsFromOutbox) and bus.appends_from(bind)
        self._schema = schema
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._wakeup = asyncio.Event()
        self._stopping = False
        # Fault injection for tests: runs after the bus acknowledged a batch, before the rows
        # are marked; raising here is a relay that dies between publishing and marking.
        self.after_publish: Callable[[], Awaitable[None]] | None = None
        self._observed_at = 0.0
        # Events waiting, as last counted; writes are refused above the service's limit.
        self.backlog = 0

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """One round: publish up to a batch of unpublished events and mark them."""
        async with self._sessions() as session, session.begin():
            # Replicas of a service share its outbox; one relay at a time keeps its order.
            rows = (
                await session.execute(
                    _LOCK_AND_READ_KEYS if self._appends else _LOCK_AND_READ,
                    {"lock_name": f"outbox:{self._schema}", "batch": self._batch_size},
                )
            ).all()
            if not rows[0].locked:
                return 0
            pending = [row for row in rows if row.seq is not None]
            if pending:
                await self._bus.ensure_topics(sorted({row.topic for row in pending}))
                with publishing(self._tracer, pending) as traceparents:
                    if isinstance(self._bus, AppendsFromOutbox) and self._appends:
                        await self._bus.append_outbox_rows(pending, traceparents)
                    else:
                        await self._bus.publish(
                            [
                                to_message(row, traceparent=traceparent)
                                for row, traceparent in zip(pending, traceparents, strict=True)
                            ]
                        )
                if self.after_publish is not None:
                    await self.after_publish()
                await session.execute(_MARK_PUBLISHED, {"seqs": [row.seq for row in pending]})
                for row in pending:
                    self._metrics.events_published.labels(row.topic).inc()
            # A round that found less than a batch has drained the outbox (as of its
            # snapshot): nothing waits, no count needed. Counting a large backlog costs a scan,
            # so while one lasts, count at most every few seconds.
            now = time.monotonic()
            if len(pending) < self._batch_size:
                self._observed_at = now
                self._set_backlog(0, oldest=None)
            elif now - self._observed_at >= BACKLOG_REFRESH_SECONDS:
                self._observed_at = now
                await self._observe_backlog(session)
        return len(pending)

    async def _observe_backlog(self, session: AsyncSession) -> None:
        backlog, oldest = (
            await session.execute(
                select(func.count(), func.min(OutboxRecord.created_at)).where(
                    OutboxRecord.published_at.is_(None)
                )
            )
        ).one()
        self._set_backlog(int(backlog), oldest=oldest)

    def _set_backlog(self, backlog: int, *, oldest: datetime | None) -> None:
        self.backlog = backlog
        self._metrics.outbox_backlog.set(backlog)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        self._metrics.outbox_oldest_age.set(max(age, 0.0))

    async def observe_backlog(self) -> None:
        """Count the backlog on its own: while the bus is down no round succeeds, and the
        backlog is what back-pressure and the alerts need to see then."""
        try:
            async with self._sessions() as session:
                await self._observe_backlog(session)
        except Exception as error:
            if not is_unavailable(error):
                raise

    async def purge_published(self) -> int:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(OutboxRecord).where(
                    OutboxRecord.published_at < datetime.now(UTC) - self._retention
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def run(self) -> None:
        backoff = self._pauses.backoff()
        rounds = 0
        while not self._stopping:
            self._wakeup.clear()
            try:
                published = await self.publish_pending()
                rounds += 1
                if rounds % 1000 == 1:
                    await self.purge_published()
                backoff.succeeded()
            except Exception as error:
                if not (is_unavailable(error) or isinstance(error, BusUnavailableError)):
                    log.exception("outbox.relay_failed", schema=self._schema)
                else:
                    log.warning("outbox.relay_unavailable", schema=self._schema, error=str(error))
                self._metrics.relay_failures.inc()
                await self.observe_backlog()
                await self._sleep(backoff.after_failure())
                continue
            if published < self._batch_size:
                await self._sleep(self._poll_interval)

    async def drain(self, timeout: float) -> None:
        """Publish what is left, for a graceful shutdown; gives up after ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while await self.publish_pending() == self._batch_size:
                    pass
        except Exception as error:
            log.warning("outbox.drain_incomplete", schema=self._schema, error=str(error))

    async def _sleep(self, seconds: float) -> None:
        await wait_for_event(self._wakeup, seconds)
