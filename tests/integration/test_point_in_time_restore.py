"""A point-in-time restore, as the restore drill does it (docs/operations.md), on a real
PostgreSQL: a base backup plus the WAL archive, replayed up to a named restore point.

The database comes back as it was at the target, outbox and inbox with it. What the outbox had
relayed by then stays relayed (nothing is published twice); what it held unrelayed is published
again under the same id; what it wrote afterwards is gone. The bus is not restored: the
consumer's committed offsets stay past the events of the lost changes, and its restored inbox
drops a redelivery of an event it had applied before the target."""

import asyncio
import contextlib
import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import MIGRATIONS
from shared.bus import Bus, OutgoingMessage
from shared.consumer import EventConsumer
from shared.db import create_engine, create_sessionmaker
from shared.inbox import InboxRecord
from shared.metrics import ServiceMetrics
from shared.migrations import upgrade
from shared.outbox import EVENT_SOURCE, OutboxRecord
from shared.outbox_relay import OutboxRelay
from shared.settings import SharedSettings
from tests.integration.mechanics import (
    EFFECTS_DDL,
    ProbeEvent,
    effects,
    new_probe_type,
    read_topic,
    record_in_outbox,
    recording_handler,
)
from tests.waiting import wait_until

DATABASE = "crm_restored"
RESTORE_POINT = "before-the-bad-change"


class RestoredSettings(SharedSettings):
    service_name: ClassVar[str] = "restored"


@pytest.fixture
def scratch() -> Iterator[Path]:
    """Where the servers, the archive and the backup live. Not under pytest's temporary dir:
    each pytest run that starts (another checkout's, say) makes its root private again, and
    run as root the servers' tools run as another user that would then lose their way in."""
    path = Path(tempfile.mkdtemp(prefix="crm-restore-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def wal_archive(scratch: Path) -> Path:
    return scratch / "wal-archive"


@pytest.fixture
def archiving_server(scratch: Path, wal_archive: Path) -> Iterator[EmbeddedPostgres]:
    """A server of its own that archives every WAL segment, as CloudNativePG's instances do."""
    server = EmbeddedPostgres(
        scratch / "primary",
        port=free_port(),
        settings={
            "wal_level": "replica",
            "archive_mode": "on",
            # PostgreSQL's own advice: never overwrite a segment already archived.
            "archive_command": f"test ! -f {wal_archive}/%f && cp %p {wal_archive}/%f",
        },
    )
    server.server_writable_dir(wal_archive)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def restored_servers(scratch: Path) -> Iterator[list[EmbeddedPostgres]]:
    """Servers the test restores (into ``scratch``); stopped at the end whatever happened."""
    servers: list[EmbeddedPostgres] = []
    yield servers
    for server in servers:
        server.stop()


def _sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: "/crm/mechanics"})
    return sessions


async def _publish(
    sessions: async_sessionmaker[AsyncSession], bus: Bus, *events: ProbeEvent
) -> int:
    """Record the events and relay the outbox; returns how many the relay published."""
    if events:
        await record_in_outbox(sessions, *events)
    metrics = ServiceMetrics("relay")
    relay = OutboxRelay(
        sessions, bus, schema="mechanics", metrics=metrics, batch_size=500, poll_interval=0.1
    )
    published = 0
    while batch := await relay.publish_pending():
        published += batch
    return published


@contextlib.asynccontextmanager
async def _consuming(
    bus: Bus,
    sessions: async_sessionmaker[AsyncSession],
    probe: type[ProbeEvent],
    group: str,
    metrics: ServiceMetrics,
) -> AsyncIterator[None]:
    consumer = EventConsumer(
        bus=bus,
        sessions=sessions,
        group=group,
        handlers={probe: recording_handler(group)},  # type: ignore[dict-item]
        metrics=metrics,
        max_attempts=3,
        retry_backoff=0.01,
        batch_size=50,
    )
    task = asyncio.create_task(consumer.run())
    try:
        yield
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)


async def _applied(engine: AsyncEngine, group: str) -> list[int]:
    return [sequence for _, sequence, _ in await effects(engine, group)]


async def _outbox(engine: AsyncEngine, topic: str) -> list[tuple[int, bool]]:
    """The topic's outbox rows in order: each event's sequence and whether it was relayed."""
    async with AsyncSession(engine) as session:
        rows = await session.execute(
            select(OutboxRecord.payload["sequence"].as_integer(), OutboxRecord.published_at)
            .where(OutboxRecord.topic == topic)
            .order_by(OutboxRecord.seq)
        )
        return [(sequence, published is not None) for sequence, published in rows]


async def _inbox_size(engine: AsyncEngine, group: str) -> int:
    async with AsyncSession(engine) as session:
        count = await session.scalar(
            select(func.count()).select_from(InboxRecord).where(InboxRecord.consumer_group == group)
        )
        return int(count or 0)


async def _archive_current_segment(server: EmbeddedPostgres) -> None:
    """Close the WAL segment being written and wait until it is in the archive: what
    archive_timeout does on its own, at once."""
    segment = server.psql("SELECT pg_walfile_name(pg_switch_wal())\n").strip()

    async def archived() -> bool:
        last = server.psql("SELECT last_archived_wal FROM pg_stat_archiver\n").strip()
        return last >= segment  # segment names of one timeline sort in WAL order

    await wait_until(archived, timeout=30)


async def _restore(
    base_backup: Path, wal_archive: Path, target: str, servers: list[EmbeddedPostgres]
) -> EmbeddedPostgres:
    """A server started on the base backup that replays the archive up to ``target`` and then
    takes writes (CloudNativePG's bootstrap.recovery does the same with its own commands)."""
    restored = EmbeddedPostgres(
        base_backup,
        port=free_port(),
        settings={
            "restore_command": f"cp {wal_archive}/%f %p",
            "recovery_target_name": target,
            "recovery_target_action": "promote",
        },
    )
    (base_backup / "recovery.signal").touch()
    servers.append(restored)
    restored.start()

    async def promoted() -> bool:
        return restored.psql("SELECT pg_is_in_recovery()\n").strip() == "f"

    await wait_until(promoted, timeout=30)
    return restored


async def test_a_point_in_time_restore_publishes_nothing_twice_and_applies_nothing_twice(
    bus: Bus,
    archiving_server: EmbeddedPostgres,
    wal_archive: Path,
    restored_servers: list[EmbeddedPostgres],
    scratch: Path,
) -> None:
    probe = new_probe_type()
    group = f"crm-test-{uuid.uuid4().hex[:6]}"
    archiving_server.ensure_database(DATABASE)
    settings = RestoredSettings(database_url=archiving_server.url(DATABASE), db_schema="mechanics")
    await upgrade(settings, MIGRATIONS)
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.execute(text(EFFECTS_DDL))
    # Before any event: every one of them comes back by replaying the WAL archive.
    base_backup = scratch / "base-backup"
    archiving_server.base_backup(base_backup)

    sessions = _sessions(engine)
    try:
        async with _consuming(bus, sessions, probe, group, ServiceMetrics("before")):
            await _publish(sessions, bus, *(probe(customer_id="C1", sequence=i) for i in range(3)))

            async def first_three_applied() -> bool:
                return await _applied(engine, group) == [0, 1, 2]

            await wait_until(first_three_applied)
            # Committed before the target, relayed only after it.
            await record_in_outbox(sessions, probe(customer_id="C1", sequence=3))
            archiving_server.psql(
                "SELECT pg_create_restore_point(:'point')\n",
                database=DATABASE,
                variables={"point": RESTORE_POINT},
            )
            await _publish(sessions, bus, *(probe(customer_id="C1", sequence=i) for i in (4, 5)))

            async def all_applied() -> bool:
                return await _applied(engine, group) == [0, 1, 2, 3, 4, 5]

            await wait_until(all_applied)
    finally:
        await engine.dispose()
    await _archive_current_segment(archiving_server)
    archiving_server.stop()  # the database is lost; the bus keeps all six events

    restored = await _restore(base_backup, wal_archive, RESTORE_POINT, restored_servers)
    engine = create_engine(
        RestoredSettings(database_url=restored.url(DATABASE), db_schema="mechanics")
    )
    sessions = _sessions(engine)
    try:
        # As at the restore point: three relayed and applied, one waiting, the rest gone.
        assert await _outbox(engine, probe.topic) == [(0, True), (1, True), (2, True), (3, False)]
        assert await _applied(engine, group) == [0, 1, 2]
        assert await _inbox_size(engine, group) == 3
        # The relay publishes again only the event it had not relayed by the target.
        assert await _publish(sessions, bus) == 1
        assert await _outbox(engine, probe.topic) == [(0, True), (1, True), (2, True), (3, True)]
        on_topic = await read_topic(bus, probe.topic, expected=7)
        redelivered = next(m for m in on_topic if json.loads(m.value)["sequence"] == 1)
        await bus.publish(
            [OutgoingMessage(probe.topic, redelivered.key, redelivered.value, redelivered.headers)]
        )

        metrics = ServiceMetrics("after")
        async with _consuming(bus, sessions, probe, group, metrics):

            async def redelivery_handled() -> bool:
                labels = {"group": group, "topic": probe.topic, "outcome": "duplicate"}
                dropped = metrics.registry.get_sample_value("crm_events_consumed_total", labels)
                return (dropped or 0) >= 1

            await wait_until(redelivery_handled)
        # The event published again is applied once; the redelivery of one applied before the
        # target is dropped; the events of the lost changes are not read again.
        assert await _applied(engine, group) == [0, 1, 2, 3]
    finally:
        await engine.dispose()
