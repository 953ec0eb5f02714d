"""Queries of the complaint statistics, over the cases received in a period."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, cast, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.models import Complaint, CustomerStanding, HistoryEntry
from services.complaints.repository.complaints import within_reach_of


@dataclass(frozen=True)
class StatsScope:
    """The cases the figures are about: received in [start, end), and, for a caller limited to
    one department (services.complaints.access), only the cases it reaches."""

    start: datetime
    end: datetime
    department_limited: bool = False
    reachable_department: str | None = None


@dataclass(frozen=True)
class OutcomeFigures:
    received: int
    decided: int
    decided_on_time: int
    late_undecided: int  # open, undecided, past the decision deadline
    repeats: int
    satisfaction_responses: int
    average_satisfaction: float | None
    customers: int


def _in_scope(scope: StatsScope) -> Any:
    in_period = and_(Complaint.received_at >= scope.start, Complaint.received_at < scope.end)
    if not scope.department_limited:
        return in_period
    return and_(in_period, within_reach_of(scope.reachable_department))


async def volume_by(
    session: AsyncSession, column_name: str, scope: StatsScope
) -> list[tuple[str, int]]:
    column = getattr(Complaint, column_name)
    statement = (
        select(func.coalesce(column, "unknown"), func.count())
        .where(_in_scope(scope))
        .group_by(column)
        .order_by(func.count().desc())
    )
    return [(str(key), int(count)) for key, count in await session.execute(statement)]


async def average_time_per_step(
    session: AsyncSession, scope: StatsScope
) -> list[tuple[str, float, int]]:
    """(step, average seconds, samples): the time from the move into a step to the move out.

    Only entries that change the step count as moves (reminders, escalations, extensions and
    linked submissions leave it), so the previous move put the case into this one's step."""
    moves = (
        select(
            HistoryEntry.from_step,
            (
                func.extract("epoch", HistoryEntry.at)
                - func.extract(
                    "epoch",
                    func.lag(HistoryEntry.at).over(
                        partition_by=HistoryEntry.complaint_id, order_by=HistoryEntry.seq
                    ),
                )
            ).label("seconds"),
        )
        .join(Complaint, Complaint.id == HistoryEntry.complaint_id)
        .where(
            _in_scope(scope),
            or_(
                HistoryEntry.from_step.is_(None),
                HistoryEntry.to_step.is_distinct_from(HistoryEntry.from_step),
            ),
        )
        .subquery()
    )
    statement = (
        select(moves.c.from_step, func.avg(moves.c.seconds), func.count())
        .where(moves.c.seconds.is_not(None), moves.c.from_step != "closed")
        .group_by(moves.c.from_step)
        .order_by(moves.c.from_step)
    )
    return [(step, float(avg), int(n)) for step, avg, n in await session.execute(statement)]


async def outcome_figures(
    session: AsyncSession, scope: StatsScope, *, now: datetime
) -> OutcomeFigures:
    """received, decided, decided on time, undecided past the deadline, repeats, satisfaction
    responses and average, customers complaining."""
    decided = Complaint.decided_at.is_not(None)
    statement = select(
        func.count(),
        func.count().filter(decided),
        func.count().filter(decided, Complaint.decided_at <= Complaint.decide_by),
        func.count().filter(Complaint.status == "open", ~decided, Complaint.decide_by < now),
        func.coalesce(
            func.sum(
                cast(Complaint.is_repeat, Integer) + Complaint.linked_count + Complaint.reopen_count
            ),
            0,
        ),
        func.count(Complaint.satisfaction),
        func.avg(Complaint.satisfaction),
        func.count(distinct(Complaint.customer_id)),
    ).where(_in_scope(scope))
    row = (await session.execute(statement)).one()
    return OutcomeFigures(
        received=row[0],
        decided=row[1],
        decided_on_time=row[2],
        late_undecided=row[3],
        repeats=int(row[4]),
        satisfaction_responses=row[5],
        average_satisfaction=float(row[6]) if row[6] is not None else None,
        customers=row[7],
    )


async def customers_left_after_complaint(session: AsyncSession, scope: StatsScope) -> int:
    """Customers downgraded or closed after a complaint they made in the period."""
    statement = (
        select(func.count(distinct(Complaint.customer_id)))
        .join(CustomerStanding, CustomerStanding.customer_id == Complaint.customer_id)
        .where(
            _in_scope(scope),
            or_(
                CustomerStanding.closed_at > Complaint.received_at,
                CustomerStanding.last_downgrade_at > Complaint.received_at,
            ),
        )
    )
    return int(await session.scalar(statement) or 0)
