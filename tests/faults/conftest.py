"""What the fault tests share."""

from sqlalchemy import text

from shared.db import create_engine
from shared.settings import SharedSettings


async def unpublished(settings: SharedSettings) -> int:
    """Events of the service's outbox not yet acknowledged by the bus."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            sql = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            return int(await conn.scalar(text(sql)) or 0)
    finally:
        await engine.dispose()
