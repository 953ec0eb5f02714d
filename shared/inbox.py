"""The inbox: the ids of the events a consumer group has applied."""

from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.bulk import insert_new
from shared.db import SharedTablesBase


class InboxRecord(SharedTablesBase):
    """An event a consumer group has applied; its primary key makes a second apply a no-op."""

    __tablename__ = "inbox"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


async def claim(session: AsyncSession, *, group: str, event_id: str, event_type: str) -> bool:
    """Record that ``group`` applies ``event_id`` in this transaction.

    Returns False if it was applied before: the caller then skips the event. Runs first in the
    handler's transaction, so the claim and the effects commit or roll back together; a
    concurrent second delivery waits on the row lock and then sees the first one's claim.
    """
    return event_id in await claim_many(session, group=group, events=[(event_id, event_type)])


async def claim_many(
    session: AsyncSession, *, group: str, events: list[tuple[str, str]]
) -> set[str]:
    """:func:`claim` for a batch of (event id, event type); returns the ids claimed now."""
    rows = [{"consumer_group": group, "event_id": i, "event_type": t} for i, t in events]
    return set(await insert_new(session, InboxRecord, rows, returning="event_id"))
