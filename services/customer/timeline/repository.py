"""The timeline's query: interactions, postings and cases merged newest first, a page at a
time after a keyset (time, kind, id), and the projection of cases it reads.

Each source is ordered and cut to the page inside its own branch, so every branch is one range
scan of its (customer, time) index; the merge then sorts at most a page per branch."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    case,
    cast,
    literal,
    null,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Interaction, PostedTransaction
from services.customer.projections import TimelineCase
from services.customer.timeline.schemas import TimelineKind
from shared.bulk import upsert

CASE_KINDS = frozenset({TimelineKind.COMPLAINT, TimelineKind.OPPORTUNITY})


@dataclass(frozen=True)
class TimelineFilter:
    kinds: frozenset[TimelineKind]
    channels: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, str, str] | None = None  # the last entry's (time, kind, id)


# A branch's row: the entry's fields, typed differently by each source.
Branch = Select[*tuple[Any, ...]]


def _limited(
    statement: Branch,
    *,
    at: Any,
    kind: TimelineKind | Any,  # a source of one kind, or the column telling kinds apart
    row_id: ColumnElement[str],
    channel: Any,
    criteria: TimelineFilter,
    limit: int,
) -> Branch:
    kind_value = literal(kind.value) if isinstance(kind, TimelineKind) else kind
    if criteria.channels is not None:
        statement = statement.where(channel.in_(sorted(criteria.channels)))
    if criteria.since is not None:
        statement = statement.where(at >= criteria.since)
    if criteria.until is not None:
        statement = statement.where(at < criteria.until)
    if criteria.after is not None:
        after_at, after_kind, after_id = criteria.after
        # The plain bound lets the index range scan; the row comparison places ties.
        statement = statement.where(
            at <= after_at,
            tuple_(at, kind_value, row_id) < tuple_(literal(after_at), after_kind, after_id),
        )
    return statement.order_by(at.desc(), kind_value.desc(), row_id.desc()).limit(limit)


def _interactions(customer_id: uuid.UUID, criteria: TimelineFilter, limit: int) -> Branch:
    i = Interaction
    row_id = cast(i.id, String)
    statement = select(
        i.occurred_at.label("at"),
        literal(TimelineKind.INTERACTION.value).label("kind"),
        row_id.label("id"),
        i.channel.label("channel"),
        i.kind.label("subject"),
        i.summary.label("summary"),
        null().label("direction"),
        null().label("amount"),
        null().label("currency"),
        null().label("status"),
    ).where(i.customer_id == customer_id)
    return _limited(
        statement,
        at=i.occurred_at,
        kind=TimelineKind.INTERACTION,
        row_id=row_id,
        channel=i.channel,
        criteria=criteria,
        limit=limit,
    )


def _transactions(customer_id: uuid.UUID, criteria: TimelineFilter, limit: int) -> Branch:
    t = PostedTransaction
    statement = select(
        t.booked_at.label("at"),
        literal(TimelineKind.TRANSACTION.value).label("kind"),
        t.transaction_id.label("id"),
        t.channel.label("channel"),
        t.kind.label("subject"),
        null().label("summary"),
        t.direction.label("direction"),
        cast(t.amount, String).label("amount"),
        t.currency.label("currency"),
        case((t.reversed_at.is_not(None), literal("reversed"))).label("status"),
    ).where(t.customer_id == customer_id)
    return _limited(
        statement,
        at=t.booked_at,
        kind=TimelineKind.TRANSACTION,
        row_id=cast(t.transaction_id, String),
        channel=t.channel,
        criteria=criteria,
        limit=limit,
    )


def _cases(customer_id: uuid.UUID, criteria: TimelineFilter, limit: int) -> Branch | None:
    kinds = sorted(k.value for k in criteria.kinds & CASE_KINDS)
    if not kinds:
        return None
    c = TimelineCase
    row_id = cast(c.case_id, String)
    statement = select(
        c.opened_at.label("at"),
        c.kind.label("kind"),
        row_id.label("id"),
        c.channel.label("channel"),
        c.subject.label("subject"),
        c.detail.label("summary"),
        null().label("direction"),
        null().label("amount"),
        null().label("currency"),
        c.status.label("status"),
    ).where(c.customer_id == customer_id, c.kind.in_(kinds))
    return _limited(
        statement,
        at=c.opened_at,
        kind=c.kind,
        row_id=row_id,
        channel=c.channel,
        criteria=criteria,
        limit=limit,
    )


async def timeline(
    session: AsyncSession, customer_id: uuid.UUID, criteria: TimelineFilter, *, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` entries after ``criteria.after``, newest first, each as a mapping of
    the :class:`TimelineEntry` fields."""
    branches: list[Branch] = []
    if TimelineKind.INTERACTION in criteria.kinds:
        branches.append(_interactions(customer_id, criteria, limit))
    if TimelineKind.TRANSACTION in criteria.kinds:
        branches.append(_transactions(customer_id, criteria, limit))
    cases = _cases(customer_id, criteria, limit)
    if cases is not None:
        branches.append(cases)
    if not branches:
        return []
    merged = union_all(*(branch.subquery().select() for branch in branches)).subquery("entry")
    statement = (
        select(merged)
        .order_by(merged.c.at.desc(), merged.c.kind.desc(), merged.c.id.desc())
        .limit(limit)
    )
    return [dict(row) for row in (await session.execute(statement)).mappings()]


async def open_case(session: AsyncSession, row: dict[str, Any]) -> None:
    """A redelivered opening event writes the same row again."""
    await upsert(session, TimelineCase, {"status": "open", "closed_at": None, **row}, key="case_id")


async def set_case_status(
    session: AsyncSession, case_id: uuid.UUID, status: str, *, closed_at: datetime | None
) -> None:
    await session.execute(
        update(TimelineCase)
        .where(TimelineCase.case_id == case_id)
        .values(status=status, closed_at=closed_at)
    )
