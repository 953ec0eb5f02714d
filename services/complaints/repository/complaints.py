"""Every query of the complaint cases and their history (the statistics are in ``stats``)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.models import Complaint, ComplaintStatus, CustomerStanding, HistoryEntry
from shared.bulk import upsert

_OPEN = Complaint.status == ComplaintStatus.OPEN


async def insert_unless_open_case(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert a case; False when the customer already has one open in that category (the
    partial unique index decides, so two channels filing at once still make one case)."""
    statement = (
        insert(Complaint)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[Complaint.customer_id, Complaint.category],
            # As SQL text, not bound values: PostgreSQL matches the partial index against
            # this predicate, and once a prepared statement goes generic a "$1" in place
            # of 'open' no longer matches ("no unique constraint matching ON CONFLICT").
            index_where=text("status = 'open' AND customer_id IS NOT NULL"),
        )
        .returning(Complaint.id)
    )
    return (await session.scalar(statement)) is not None


async def complaint(
    session: AsyncSession, complaint_id: uuid.UUID, *, for_update: bool = False
) -> Complaint | None:
    statement = select(Complaint).where(Complaint.id == complaint_id)
    if for_update:
        # Steps on one case are serialised: two supervisors approving at once make one move.
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


def within_reach_of(department: str | None) -> Any:
    """The cases a caller limited to ``department`` reaches: its own and the unassigned."""
    return or_(Complaint.department.is_(None), Complaint.department == department)


async def department_of(session: AsyncSession, complaint_id: uuid.UUID) -> tuple[bool, str | None]:
    """Whether the case exists, and the department it is assigned to."""
    row = (
        await session.execute(select(Complaint.department).where(Complaint.id == complaint_id))
    ).one_or_none()
    return (row is not None, row.department if row else None)


async def open_case_of(
    session: AsyncSession, customer_id: uuid.UUID, category: str
) -> Complaint | None:
    statement = (
        select(Complaint)
        .where(_OPEN, Complaint.customer_id == customer_id, Complaint.category == category)
        .with_for_update()
    )
    return (await session.scalars(statement)).first()


async def last_closed_at(
    session: AsyncSession, customer_id: uuid.UUID, category: str
) -> datetime | None:
    statement = select(func.max(Complaint.closed_at)).where(
        Complaint.customer_id == customer_id, Complaint.category == category
    )
    return await session.scalar(statement)


async def clear_complainants(session: AsyncSession, customer_id: uuid.UUID) -> None:
    # None is written as JSON null, what a case filed without a complainant holds; only the
    # cases that hold contact details (an object) are touched.
    await session.execute(
        update(Complaint)
        .where(
            Complaint.customer_id == customer_id,
            func.jsonb_typeof(Complaint.complainant) == "object",
        )
        .values(complainant=None)
    )


def add_history(session: AsyncSession, entry: HistoryEntry) -> None:
    session.add(entry)


async def actors_of(session: AsyncSession, complaint_id: uuid.UUID, action: str) -> set[str]:
    """Who took ``action`` on the case, at any time in its history."""
    statement = select(HistoryEntry.actor_id).where(
        HistoryEntry.complaint_id == complaint_id, HistoryEntry.action == action
    )
    return set((await session.scalars(statement)).all())


async def history_of(session: AsyncSession, complaint_id: uuid.UUID) -> Sequence[HistoryEntry]:
    statement = (
        select(HistoryEntry)
        .where(HistoryEntry.complaint_id == complaint_id)
        .order_by(HistoryEntry.seq)
    )
    return (await session.scalars(statement)).all()


@dataclass(frozen=True)
class ComplaintFilter:
    customer_id: uuid.UUID | None = None
    status: str | None = None
    step: str | None = None
    department: str | None = None
    priority: str | None = None
    escalated: bool | None = None
    overdue_at: datetime | None = None  # only open cases past their step's deadline then
    # A caller limited to one department (services.complaints.access): its cases and those
    # no department has yet; None with ``department_limited`` means unassigned cases only.
    department_limited: bool = False
    reachable_department: str | None = None


async def list_complaints(
    session: AsyncSession,
    criteria: ComplaintFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Complaint]:
    """Newest first, keyset-paged on (received_at, id)."""
    conditions = []
    if criteria.customer_id is not None:
        conditions.append(Complaint.customer_id == criteria.customer_id)
    if criteria.status is not None:
        conditions.append(Complaint.status == criteria.status)
    if criteria.step is not None:
        conditions.append(Complaint.step == criteria.step)
    if criteria.department is not None:
        conditions.append(Complaint.department == criteria.department)
    if criteria.department_limited:
        conditions.append(within_reach_of(criteria.reachable_department))
    if criteria.priority is not None:
        conditions.append(Complaint.priority == criteria.priority)
    if criteria.escalated is not None:
        level = Complaint.escalation_level
        conditions.append(level > 0 if criteria.escalated else level == 0)
    if criteria.overdue_at is not None:
        conditions += [_OPEN, Complaint.step_due_at < criteria.overdue_at]
    if after is not None:
        at, row_id = after
        conditions.append(
            or_(
                Complaint.received_at < at, and_(Complaint.received_at == at, Complaint.id < row_id)
            )
        )
    statement = (
        select(Complaint)
        .where(*conditions)
        .order_by(Complaint.received_at.desc(), Complaint.id.desc())
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def due_for_reminder(
    session: AsyncSession, *, now: datetime, remind_from: datetime, limit: int
) -> Sequence[Complaint]:
    """Open cases whose deadline falls before ``remind_from`` and has not passed, not yet
    reminded of that deadline. SKIP LOCKED: replicas sweeping at once share the work."""
    statement = (
        select(Complaint)
        .where(
            _OPEN,
            Complaint.step_due_at >= now,
            Complaint.step_due_at < remind_from,
            Complaint.reminded_for.is_distinct_from(Complaint.step_due_at),
        )
        .order_by(Complaint.step_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(statement)).all()


async def due_for_escalation(
    session: AsyncSession, *, now: datetime, limit: int
) -> Sequence[Complaint]:
    """Open cases past their step's deadline and not yet escalated for that deadline."""
    statement = (
        select(Complaint)
        .where(
            _OPEN,
            Complaint.step_due_at < now,
            Complaint.escalated_for.is_distinct_from(Complaint.step_due_at),
        )
        .order_by(Complaint.step_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(statement)).all()


async def open_by_step(session: AsyncSession, *, now: datetime) -> list[tuple[str, int, int]]:
    """(step, open, overdue) for the gauges."""
    statement = (
        select(
            Complaint.step,
            func.count(),
            func.count().filter(Complaint.step_due_at < now),
        )
        .where(_OPEN)
        .group_by(Complaint.step)
    )
    return [(step, open_, overdue) for step, open_, overdue in await session.execute(statement)]


async def note_customer_tier(
    session: AsyncSession,
    customer_id: uuid.UUID,
    tier: str,
    *,
    downgraded_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {"customer_id": customer_id, "value_tier": tier}
    if downgraded_at is not None:
        values["last_downgrade_at"] = downgraded_at
    await upsert(session, CustomerStanding, values, key="customer_id")


async def note_customer_closed(
    session: AsyncSession, customer_id: uuid.UUID, closed_at: datetime
) -> None:
    await upsert(
        session,
        CustomerStanding,
        {"customer_id": customer_id, "closed_at": closed_at},
        key="customer_id",
    )


async def customer_tier(session: AsyncSession, customer_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(CustomerStanding.value_tier).where(CustomerStanding.customer_id == customer_id)
    )
