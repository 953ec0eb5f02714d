"""The inbox: the ids of the events a consumer group has applied."""

from sqlalchemy.ext.asyncio import AsyncSession

from shared.bulk import insert_new
from shared.messaging import InboxRecord


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
