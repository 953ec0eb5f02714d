"""Events recorded inside ``events_written_together`` reach the outbox in one COPY at the
block's end, in their order, each with the correlation id it was recorded under."""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import outbox
from shared.bulk import copy_rows
from shared.logging import correlated
from shared.outbox import events_written_together, record_event
from tests.integration.mechanics import new_probe_type


async def _outbox(sessions: async_sessionmaker[AsyncSession], topic: str) -> list[Any]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT payload->>'sequence' AS sequence, correlation_id FROM outbox"
                " WHERE topic = :topic ORDER BY seq"
            ),
            {"topic": topic},
        )
        return [tuple(row) for row in rows]


async def test_the_block_writes_its_events_once_in_their_order(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = new_probe_type()
    copies: list[int] = []

    async def counted(session: AsyncSession, table: str, columns: Any, rows: Any) -> None:
        copies.append(len(rows))
        await copy_rows(session, table, columns, rows)

    monkeypatch.setattr(outbox, "copy_rows", counted)
    count = text("SELECT count(*) FROM outbox WHERE topic = :topic")

    async with sessions() as session, session.begin():
        async with events_written_together(session):
            for sequence in range(3):
                with correlated(f"run-{sequence}"):
                    await record_event(session, probe(customer_id="C1", sequence=sequence))
            async with events_written_together(session):  # an inner block adds to the outer
                await record_event(session, probe(customer_id="C1", sequence=3))
            inside = await session.scalar(count, {"topic": probe.topic})
        after = await session.scalar(count, {"topic": probe.topic})

    assert (inside, after, copies) == (0, 4, [4])
    found = await _outbox(sessions, probe.topic)
    assert [row[0] for row in found] == ["0", "1", "2", "3"]
    assert [row[1] for row in found[:3]] == ["run-0", "run-1", "run-2"]


async def test_nothing_is_written_when_the_block_raises(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    probe = new_probe_type()

    async def failing_run(session: AsyncSession) -> None:
        async with events_written_together(session):
            await record_event(session, probe(customer_id="C1", sequence=1))
            raise RuntimeError("the run failed")

    async with sessions() as session, session.begin():
        with pytest.raises(RuntimeError):
            await failing_run(session)
        await record_event(session, probe(customer_id="C1", sequence=2))

    assert [row[0] for row in await _outbox(sessions, probe.topic)] == ["2"]
