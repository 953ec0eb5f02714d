"""The one query of the returns: the history of the cases a period's return can count."""

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.models import Complaint, HistoryEntry
from services.complaints.procedure import ComplaintAction
from services.complaints.repository.complaints import within_reach_of
from services.complaints.repository.stats import StatsScope
from services.complaints.returns.episodes import HistoryRow

# What the episodes are built from; reminders, escalations and the like leave them as they are.
_ACTIONS = (
    "record",
    ComplaintAction.REOPEN,
    ComplaintAction.PROPOSE_RESOLUTION,
    ComplaintAction.APPROVE_RESOLUTION,
    ComplaintAction.EXTEND_DEADLINE,
    ComplaintAction.JUDGE_VALIDITY,
    ComplaintAction.WITHDRAW,
    ComplaintAction.EVALUATE,
)


async def history_rows(
    session: AsyncSession, *, pack: str, scope: StatsScope, as_of: datetime
) -> list[HistoryRow]:
    """The history up to ``as_of`` of the pack's cases received before the period's end and
    not closed for good before its start, each case's entries in order. A case's latest
    closing is its ``closed_at``, so one closed before the start has nothing in the period."""
    conditions = [
        Complaint.deadline_pack == pack,
        Complaint.received_at < scope.end,
        or_(Complaint.closed_at.is_(None), Complaint.closed_at >= scope.start),
        HistoryEntry.action.in_(_ACTIONS),
        HistoryEntry.at <= as_of,
    ]
    if scope.department_limited:
        conditions.append(within_reach_of(scope.reachable_department))
    statement = (
        select(
            HistoryEntry.complaint_id,
            Complaint.channel,
            Complaint.received_at,
            Complaint.department,
            HistoryEntry.action,
            HistoryEntry.to_step,
            HistoryEntry.decision,
            HistoryEntry.at,
        )
        .join(Complaint, Complaint.id == HistoryEntry.complaint_id)
        .where(*conditions)
        .order_by(HistoryEntry.complaint_id, HistoryEntry.seq)
    )
    return [HistoryRow(*row) for row in await session.execute(statement)]
