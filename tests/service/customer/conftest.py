"""The customer service on the real PostgreSQL, its consumer running on the local bus."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from services.customer.app import create_app
from services.customer.config import Settings
from shared.db import create_engine
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
