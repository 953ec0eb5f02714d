"""HTTP API of a customer's timeline (客户接触历史)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.customer.access import customer_in_reach
from services.customer.dependencies import SettingsDep
from services.customer.timeline import service as timeline_service
from services.customer.timeline.repository import TimelineFilter
from services.customer.timeline.schemas import TimelineKind, TimelinePage
from shared.http import SessionDep
from shared.pagination import decode_keys
from shared.periods import Moment, end_of, start_of

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.get("/customers/{customer_id}/timeline", tags=["customers"])
async def customer_timeline(
    customer_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    kind: TimelineKind | None = None,
    channel: Annotated[str | None, Query(pattern=r"^[a-z_]+$", max_length=20)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TimelinePage:
    """Every interaction, posted transaction, complaint and opportunity of the customer, newest
    first, of one ``kind`` or ``channel`` if asked; ``since`` (from, inclusive) and
    ``until`` (to, exclusive) bound the time; pages follow ``next_cursor``."""
    after = None
    if cursor:
        at, (after_kind, after_id) = decode_keys(cursor, 2)
        after = (at, after_kind, after_id)
    criteria = TimelineFilter(
        kinds=frozenset({kind}) if kind is not None else frozenset(TimelineKind),
        channels=frozenset({channel}) if channel is not None else None,
        since=start_of(since, settings.bank_zone) if since is not None else None,
        until=end_of(until, settings.bank_zone) if until is not None else None,
        after=after,
    )
    return await timeline_service.timeline_page(session, customer_id, criteria, limit=limit)
