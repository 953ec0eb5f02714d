"""The deadline sweep: a reminder before a step's deadline, an escalation to the supervisor
once it has passed.

No HTTP and no Kafka here, and no commit: the sweep's job owns the transaction, and the
events are written to the outbox inside it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.complaints import ComplaintEscalated
from services.complaints.config import Settings
from services.complaints.models import Complaint, HistoryEntry
from services.complaints.repository import complaints as complaints_repository
from services.complaints.staff import SYSTEM
from shared.outbox import record_events


@dataclass(frozen=True)
class SweepReport:
    reminded: int
    escalated: int


async def sweep_deadlines(
    session: AsyncSession, *, settings: Settings, now: datetime, batch_size: int = 500
) -> SweepReport:
    """Remind before a step's deadline; escalate to the supervisor once it has passed."""
    remind_from = now + timedelta(hours=settings.reminder_lead_hours)
    reminded = await complaints_repository.due_for_reminder(
        session, now=now, remind_from=remind_from, limit=batch_size
    )
    for case in reminded:
        case.reminded_for = case.step_due_at
        _system_entry(session, case, "reminder", {"due_at": _iso(case.step_due_at)}, now=now)
    overdue = await complaints_repository.due_for_escalation(session, now=now, limit=batch_size)
    events = []
    for case in overdue:
        case.escalated_for = case.step_due_at
        case.escalation_level += 1
        reason = f"the {case.step} deadline {_iso(case.step_due_at)} passed"
        escalation = {
            "level": case.escalation_level,
            "escalated_to": "supervisor",
            "reason": reason,
        }
        _system_entry(session, case, "escalated", escalation, now=now)
        events.append(
            ComplaintEscalated(
                complaint_id=case.id,
                customer_id=case.customer_id,
                level=case.escalation_level,
                reason=reason,
                escalated_at=now,
            )
        )
    if events:
        await record_events(session, events)
    return SweepReport(reminded=len(reminded), escalated=len(overdue))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _system_entry(
    session: AsyncSession, case: Complaint, action: str, decision: dict[str, Any], *, now: datetime
) -> None:
    complaints_repository.add_history(
        session,
        HistoryEntry(
            complaint_id=case.id,
            action=action,
            from_step=case.step,
            to_step=case.step,
            actor_id=SYSTEM,
            actor_role=SYSTEM,
            decision=decision,
            note=None,
            at=now,
        ),
    )
