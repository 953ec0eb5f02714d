"""The request pool checks a connection before use only when it sat idle: one cut by the
server while idle is replaced unseen, and one cut while in steady use costs a single failed
statement, after which the pool has retired every connection it held."""

import asyncio
from typing import ClassVar

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine
from shared.settings import SharedSettings


class PoolSettings(SharedSettings):
    service_name: ClassVar[str] = "pool-probe"


async def _backend_of(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _cut(engine: AsyncEngine, pid: int) -> None:
    """The server ends that backend, as a restart or an idle timeout would."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@pytest.fixture
async def other(database_url: str) -> AsyncEngine:
    return create_engine(PoolSettings(database_url=database_url, database_pool_size=1))


async def _cut_after_use(
    database_url: str, other: AsyncEngine, *, idle_ping_seconds: float, idle_for: float
) -> tuple[AsyncEngine, int]:
    """A one-connection pool whose connection the server ends after it has sat ``idle_for``."""
    settings = PoolSettings(
        database_url=database_url,
        database_pool_size=1,
        database_idle_ping_seconds=idle_ping_seconds,
    )
    engine = create_engine(settings)
    first = await _backend_of(engine)
    await _cut(other, first)
    await other.dispose()
    await asyncio.sleep(idle_for)
    return engine, first


async def test_an_idle_connection_cut_by_the_server_is_replaced_before_use(
    database_url: str, other: AsyncEngine
) -> None:
    engine, first = await _cut_after_use(database_url, other, idle_ping_seconds=0.2, idle_for=0.3)
    try:
        second = await _backend_of(engine)  # no error: the check found it gone

        assert second != first
    finally:
        await engine.dispose()


async def test_a_connection_cut_in_steady_use_fails_one_statement_then_the_pool_renews(
    database_url: str, other: AsyncEngine
) -> None:
    engine, first = await _cut_after_use(database_url, other, idle_ping_seconds=60, idle_for=0.1)
    try:
        with pytest.raises(DBAPIError) as failed:
            await _backend_of(engine)  # not checked: used a moment ago
        second = await _backend_of(engine)

        assert failed.value.connection_invalidated
        assert second != first
    finally:
        await engine.dispose()
