"""Fixtures of the mechanism tests: a migrated schema on the real PostgreSQL, and each bus
backend (``local`` on that PostgreSQL, ``kafka`` on the real broker)."""

import uuid
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.customer.app import MIGRATIONS
from shared.bus import Bus
from shared.db import create_engine, create_sessionmaker
from shared.metrics import ServiceMetrics
from shared.migrations import upgrade
from shared.outbox import EVENT_SOURCE
from shared.settings import SharedSettings
from tests.integration.mechanics import EFFECTS_DDL, make_bus


class MechanicsSettings(SharedSettings):
    service_name: ClassVar[str] = "mechanics"


@pytest.fixture(scope="session")
async def mechanics_settings(database_url: str) -> SharedSettings:
    # The messaging tables come from a service's first migration: the tests use the very DDL
    # the services run, in a schema of their own.
    settings = MechanicsSettings(database_url=database_url, db_schema="mechanics")
    await upgrade(settings, MIGRATIONS)
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.execute(text(EFFECTS_DDL))
    await engine.dispose()
    return settings


@pytest.fixture
async def engine(mechanics_settings: SharedSettings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(mechanics_settings)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: "/crm/mechanics"})
    return sessions


@pytest.fixture
def metrics() -> ServiceMetrics:
    return ServiceMetrics(f"test-{uuid.uuid4().hex[:6]}")


@pytest.fixture(params=["local", pytest.param("kafka", marks=pytest.mark.kafka)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def bus(
    backend: str, engine: AsyncEngine, request: pytest.FixtureRequest
) -> AsyncIterator[Bus]:
    bootstrap = request.getfixturevalue("kafka_bootstrap") if backend == "kafka" else None
    bus = make_bus(backend, engine=engine, kafka_bootstrap=bootstrap)
    await bus.start()
    yield bus
    await bus.stop()
