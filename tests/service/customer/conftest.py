"""The customer service on the real PostgreSQL, its consumer running on the local bus."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import create_app
from services.customer.config import Settings
from shared.db import create_engine
from shared.outbox import EVENT_SOURCE
from tests.conftest import database_of_its_own
from tests.service.conftest import serving


@pytest.fixture
def customer_settings(migrated_database: str) -> Settings:
    return Settings(
        database_url=migrated_database,
        max_transactions_per_batch=50,
        relay_poll_interval_seconds=0.05,
    )


@pytest.fixture
async def client(customer_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(customer_settings)) as client:
        yield client


@pytest.fixture(scope="session")
async def desk_database(postgres_server: EmbeddedPostgres) -> str:
    """A database of its own where no manager has room unless a test registers one (in the
    session's, managers other tests registered serve every new premium customer)."""
    return await database_of_its_own(postgres_server, "crm_customer_desk_test")


@pytest.fixture
def desk_settings(desk_database: str) -> Settings:
    return Settings(database_url=desk_database, relay_poll_interval_seconds=0.05)


@pytest.fixture
async def desk(desk_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(desk_settings)) as client:
        yield client


async def event_types(settings: Settings, customer_id: str) -> list[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT event_type FROM outbox WHERE message_key = :k ORDER BY seq"),
                {"k": customer_id},
            )
            return [row.event_type for row in rows]
    finally:
        await engine.dispose()


@asynccontextmanager
async def transaction_of_its_own(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on the service's schema beside the app's, as another request's would be: its
    transaction stays open until the test commits it, or is rolled back at the end."""
    engine = create_engine(settings)
    try:
        async with AsyncSession(engine, info={EVENT_SOURCE: settings.event_source}) as session:
            yield session
    finally:
        await engine.dispose()
