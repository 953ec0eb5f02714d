"""The transactional outbox: events are rows written with the change they record, and a relay
publishes them after the transaction commits.

Nothing is published for a change that rolled back (its rows rolled back with it), and nothing
committed is lost if the process dies (the rows wait for the next relay round). The relay marks
rows only after the bus acknowledged them; if it dies in between, the rows go out again on its
next round, and the consumers' inbox absorbs the duplicate.
"""

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from contracts.base import DomainEvent
from shared.bulk import copy_rows
from shared.bus import OutgoingMessage
from shared.db import SharedTablesBase
from shared.envelope import EventEnvelope
from shared.logging import current_correlation_id, get_logger
from shared.tracing import current_traceparent

log = get_logger(__name__)

EVENT_SOURCE = "event_source"
_WAITING_ROWS = "outbox_rows_waiting"
OUTBOX_COLUMNS = (
    "event_id",
    "topic",
    "message_key",
    "event_type",
    "source",
    "occurred_at",
    "correlation_id",
    "traceparent",
    "payload",
)
OUTBOX_WRITTEN = "outbox_written"
_ANNOUNCED_IN = "outbox_announced_in"
OUTBOX_CHANNEL_PREFIX = "crm_outbox_"
# The channel of the schema the session's search path puts first: the outbox's.
_ANNOUNCE = text(f"SELECT pg_notify('{OUTBOX_CHANNEL_PREFIX}' || current_schema(), '')")


class OutboxRecord(SharedTablesBase):
    """An event waiting to be published, written in the transaction of the change it records."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    message_key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    correlation_id: Mapped[str | None] = mapped_column(String(100))
    # W3C trace context of the span that wrote the event, when tracing (see shared/tracing).
    traceparent: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def payload_json(self) -> str:
        """The payload as the message carries it (the relay reads this text straight from
        the column instead: see ``_PENDING``)."""
        return json.dumps(self.payload, separators=(",", ":"))

    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
        ),
    )


class PendingEvent(Protocol):
    """What publishing needs of an outbox row (an :class:`OutboxRecord`, or the relay's row)."""

    event_id: uuid.UUID
    topic: str
    message_key: str
    event_type: str
    source: str
    occurred_at: datetime
    correlation_id: str | None
    traceparent: str | None

    @property
    def payload_json(self) -> str: ...


@dataclass(frozen=True, slots=True)
class EventOrigin:
    """What the events written together share: the service writing them, when, the request's
    correlation id, and the trace context of the span writing them (their consumers continue
    its trace)."""

    source: str
    occurred_at: datetime
    correlation_id: str | None
    traceparent: str | None


def event_origin(session: AsyncSession) -> EventOrigin:
    """The origin of events written now in ``session``, which must come from a service's
    session maker (it names the event source)."""
    return EventOrigin(
        source=session.info[EVENT_SOURCE],
        occurred_at=datetime.now(UTC),
        correlation_id=current_correlation_id(),
        traceparent=current_traceparent(),
    )


async def record_event(session: AsyncSession, event: DomainEvent) -> uuid.UUID:
    """Write ``event`` to the outbox in the session's transaction; returns its event id.

    The session must come from a service's session maker, which names the event source."""
    return (await record_events(session, [event]))[0]


async def record_events(session: AsyncSession, events: Sequence[DomainEvent]) -> list[uuid.UUID]:
    """Write several events at once, in the given order.

    The rows are written at once (COPY) rather than added to the session: the outbox order
    (its sequence) is then the order of these calls, and a thousand events are one stream
    instead of a thousand ORM objects to flush. Inside :func:`events_written_together` they
    wait for the block's end."""
    if not events:
        return []
    origin = event_origin(session)
    ids = [uuid.uuid4() for _ in events]
    rows = [
        (
            event_id,
            event.topic,
            event.subject,
            event.event_type,
            origin.source,
            origin.occurred_at,
            origin.correlation_id,
            origin.traceparent,
            event.model_dump_json(),
        )
        for event_id, event in zip(ids, events, strict=True)
    ]
    waiting: list[tuple[Any, ...]] | None = session.info.get(_WAITING_ROWS)
    if waiting is not None:
        waiting += rows
        return ids
    await copy_rows(session, OutboxRecord.__tablename__, OUTBOX_COLUMNS, rows)
    await announce_outbox_rows(session)
    return ids


@asynccontextmanager
async def events_written_together(session: AsyncSession) -> AsyncIterator[None]:
    """Events recorded in the block (each with its own origin, as recorded) are written at
    its end by one COPY, in their order: a consumer's run revaluing five hundred customers
    writes its events in one statement, where a COPY each held the customers' locks for two
    round trips an event. Nothing is written if the block raises."""
    if _WAITING_ROWS in session.info:
        yield  # an enclosing block writes them
        return
    waiting: list[tuple[Any, ...]] = []
    session.info[_WAITING_ROWS] = waiting
    try:
        yield
    finally:
        del session.info[_WAITING_ROWS]
    if waiting:
        await copy_rows(session, OutboxRecord.__tablename__, OUTBOX_COLUMNS, waiting)
        await announce_outbox_rows(session)


def outbox_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which ``schema``'s outbox writers wake its relay."""
    return OUTBOX_CHANNEL_PREFIX + schema


async def announce_outbox_rows(session: AsyncSession) -> None:
    """Wake the relay when the session's transaction commits: call it after writing outbox
    rows by any means. In this process the commit wakes it (``OUTBOX_WRITTEN``); in any other,
    the notification does, sent on commit only (PostgreSQL drops it with a rollback). Issued
    once per transaction."""
    session.info[OUTBOX_WRITTEN] = True
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_ANNOUNCED_IN) is transaction:
        return
    await session.execute(_ANNOUNCE)
    session.info[_ANNOUNCED_IN] = session.get_transaction()


def to_message(record: PendingEvent, *, traceparent: str | None = None) -> OutgoingMessage:
    """``traceparent``: the trace context the message carries, when not the written one (the
    relay's producer span's)."""
    envelope = EventEnvelope(
        id=str(record.event_id),
        source=record.source,
        type=record.event_type,
        subject=record.message_key,
        time=record.occurred_at,
        correlation_id=record.correlation_id,
        traceparent=traceparent or record.traceparent,
    )
    return OutgoingMessage(
        topic=record.topic,
        key=record.message_key.encode(),
        value=record.payload_json.encode(),
        headers=envelope.to_headers(),
    )
