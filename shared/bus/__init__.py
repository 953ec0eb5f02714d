"""The bus: one interface, two backends chosen by ``CRM_BUS``.

- ``kafka``: Apache Kafka through aiokafka (the distributed topology and the integration tests).
- ``local``: a durable log in PostgreSQL for the embedded run, with Kafka's semantics: keyed
  partitions, consumer groups with committed offsets, at-least-once delivery.

Service code sees only :class:`Bus` and :class:`BusConsumer`; the outbox relay publishes, the
:class:`shared.consumer.EventConsumer` consumes.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from shared.envelope import Headers


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers = ()
    # Which assignment this message was fetched under; a message fetched before a rebalance
    # must not be handled after it (its partition may belong to another member by then).
    generation: int = field(default=0, compare=False)


TopicPartition = tuple[str, int]


class BusUnavailableError(RuntimeError):
    """The bus could not be reached or did not acknowledge in time."""


class BusConsumer(Protocol):
    group: str
    # Held while a batch is handled and committed; a rebalance waits for it before it takes
    # partitions away, so no partition is ever handled by two members at once.
    assignment_lock: asyncio.Lock

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def poll(self, *, max_records: int, timeout: float) -> list[ReceivedMessage]:
        """The next messages of the partitions assigned to this member, in offset order."""

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Record, per partition, the offset of the next message to read."""

    def is_current(self, generation: int) -> bool:
        """Whether messages fetched under ``generation`` may still be handled by this member."""

    async def rewind(self) -> None:
        """Read again from the committed offsets: what was fetched but not committed comes
        back (after a failure that left a batch half-handled)."""

    async def lag(self) -> dict[TopicPartition, int]:
        """Messages not yet committed, per assigned partition."""


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create the topics (and nothing else) if they do not exist."""

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Return only once every message is durably stored by the bus, in the given order
        per key; raise :class:`BusUnavailableError` otherwise (some may have been stored)."""

    def consumer(self, group: str, topics: Sequence[str], *, linger_ms: int = 0) -> BusConsumer:
        """A member of ``group``. With ``linger_ms`` its owner polls again only that long
        after a poll that was not full; the bus makes sure the wait gathers what arrives."""

    async def ping(self) -> None:
        """Raise if the bus cannot be reached now."""


@runtime_checkable
class AppendsFromOutbox(Protocol):
    """A bus whose log is in the outbox's own database (the local bus): it appends a relay
    round's committed rows straight from the outbox, in SQL, instead of taking messages built
    in Python (shared/bus/local_log.py). ``rows`` carry ``seq``, ``topic`` and
    ``message_key``; ``traceparents``, what each message is to carry."""

    def appends_from(self, bind: Any) -> bool:
        """Whether an outbox read through ``bind`` (the relay's engine) is the one this bus
        would read: only then may the relay hand it rows by their sequence numbers."""

    async def append_outbox_rows(
        self, rows: Sequence[Any], traceparents: Sequence[str | None]
    ) -> None: ...
