"""A customer's timeline, a page at a time."""

import uuid

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.customers.service import get_customer
from services.customer.timeline import repository as timeline_repository
from services.customer.timeline.repository import TimelineFilter
from services.customer.timeline.schemas import TimelineEntry, TimelinePage
from shared.pagination import encode_keys

_ENTRIES = TypeAdapter(list[TimelineEntry])


async def timeline_page(
    session: AsyncSession, customer_id: uuid.UUID, criteria: TimelineFilter, *, limit: int
) -> TimelinePage:
    """Newest first; ``next_cursor`` continues after the last entry given. Entries at the same
    moment come in a fixed order (kind, then id), so a page boundary between them neither
    skips nor repeats one."""
    await get_customer(session, customer_id)
    rows = await timeline_repository.timeline(session, customer_id, criteria, limit=limit + 1)
    entries = _ENTRIES.validate_python(rows[:limit])
    last = entries[-1] if entries else None
    more = len(rows) > limit and last is not None
    return TimelinePage(
        entries=entries,
        next_cursor=encode_keys(last.at, last.kind.value, last.id) if more and last else None,
    )
