"""Several tables' rows in one statement (``shared.bulk.write_all``), on the real PostgreSQL."""

import uuid
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bulk import RowsWrite, write_all
from shared.db import transaction
from shared.idempotency import IdempotencyRecord
from shared.inbox import InboxRecord


def _answer(key: str, scope: str, status: int, fingerprint: bytes) -> dict[str, Any]:
    return {"key": key, "scope": scope, "fingerprint": fingerprint, "status_code": status}


async def test_each_table_written_as_asked_in_one_statement(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    group, scope = f"group-{uuid.uuid4().hex[:6]}", f"scope-{uuid.uuid4().hex[:6]}"
    async with transaction(sessions) as session:
        await write_all(
            session,
            [
                RowsWrite(InboxRecord, [{"consumer_group": group, "event_id": "e1",
                                         "event_type": "first"}]),
                RowsWrite(IdempotencyRecord, [_answer("k1", scope, 201, b"a" * 32)],
                          key=("key", "scope")),
            ],
        )  # fmt: skip

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with transaction(sessions) as session:
            await write_all(
                session,
                [
                    RowsWrite(InboxRecord, [
                        {"consumer_group": group, "event_id": "e1", "event_type": "again"},
                        {"consumer_group": group, "event_id": "e2", "event_type": "second"},
                    ]),
                    RowsWrite(IdempotencyRecord, [], key=("key", "scope")),  # nothing: left out
                    RowsWrite(IdempotencyRecord, [
                        _answer("k1", scope, 409, b"b" * 32), _answer("k2", scope, 200, b"c" * 32),
                    ], key=("key", "scope"), keep=("fingerprint",)),
                ],
            )  # fmt: skip
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len([s for s in statements if "INSERT" in s]) == 1

    async with sessions() as session:
        inbox = (
            await session.execute(
                select(InboxRecord.event_id, InboxRecord.event_type)
                .where(InboxRecord.consumer_group == group)
                .order_by(InboxRecord.event_id)
            )
        ).all()
        answers = (
            await session.execute(
                select(
                    IdempotencyRecord.key,
                    IdempotencyRecord.status_code,
                    IdempotencyRecord.fingerprint,
                )
                .where(IdempotencyRecord.scope == scope)
                .order_by(IdempotencyRecord.key)
            )
        ).all()
    # Inserted where new, the existing row left as it was.
    assert [tuple(r) for r in inbox] == [("e1", "first"), ("e2", "second")]
    # Upserted: the status overwritten, the kept column written on insert only.
    assert [tuple(r) for r in answers] == [("k1", 409, b"a" * 32), ("k2", 200, b"c" * 32)]


async def test_a_json_column_given_as_text_is_stored_as_the_json_it_spells(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    scope = f"scope-{uuid.uuid4().hex[:6]}"
    text_body = '{"name": "王小明", "amount": "12.50", "tags": [1, 2], "manager": null}'
    answer = {**_answer("k1", scope, 201, b"a" * 32), "body": text_body}
    async with transaction(sessions) as session:
        await write_all(
            session,
            [RowsWrite(IdempotencyRecord, [answer], key=("key", "scope"), json_text=("body",))],
        )
    async with sessions() as session:
        stored = await session.scalar(
            select(IdempotencyRecord.body).where(IdempotencyRecord.scope == scope)
        )
    # An object, not the text as a JSON string.
    assert stored == {"name": "王小明", "amount": "12.50", "tags": [1, 2], "manager": None}
