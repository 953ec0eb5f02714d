"""The complaint procedure's rules: receiving a case, moving it, its deadlines and escalation.

No HTTP and no Kafka here, and no commit: the caller (a request, a message, the deadline
sweep) owns the transaction, and the events are written to the outbox inside it."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.complaints import (
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintStepCompleted,
)
from services.complaints.config import Settings
from services.complaints.deadlines import BusinessCalendar, ClockStart, DecisionRule
from services.complaints.errors import (
    ActionNotAllowed,
    ComplaintNotFound,
    NoFurtherExtension,
    OpenCaseExists,
    ReopenPeriodOver,
    RoleNotAllowed,
)
from services.complaints.models import (
    Complaint,
    ComplaintPriority,
    ComplaintStatus,
    HistoryEntry,
)
from services.complaints.procedure import (
    DECISION_STEPS,
    ClosingOutcome,
    ComplaintAction,
    ComplaintStep,
    allowed_actions,
    move_for,
)
from services.complaints.repository import complaints as complaints_repository
from services.complaints.schemas import (
    ActionRequest,
    AnalyseCause,
    ApproveResolution,
    AssignDepartment,
    ComplaintCreate,
    Evaluate,
    ExtendDeadline,
    ImplementResolution,
    JudgeValidity,
    ProposeResolution,
    Reopen,
    ReturnResolution,
    Withdraw,
)
from services.complaints.staff import SYSTEM, Staff
from shared.outbox import record_events
from shared.problems import ProblemError

# A channel's clock may run a little ahead of ours; more than this is a wrong timestamp.
CLOCK_SKEW = timedelta(minutes=5)


def prioritise(
    tier: str | None, category: str, channel: str, *, settings: Settings
) -> ComplaintPriority:
    """The most urgent of what the tier, the category and the channel each call for."""
    candidates = [
        ComplaintPriority.NORMAL,
        settings.priority_by_tier.get(tier or ""),
        settings.priority_by_category.get(category),
        settings.priority_by_channel.get(channel),
    ]
    return max((c for c in candidates if c is not None), key=lambda p: p.rank)


def _rule(case: Complaint, settings: Settings) -> DecisionRule:
    return settings.pack.decision_rule(case.category, settings.decision_overrides)


def _calendar(settings: Settings) -> BusinessCalendar:
    return BusinessCalendar.of(settings.pack)


def _step_due(
    case: Complaint, step: ComplaintStep, settings: Settings, now: datetime
) -> datetime | None:
    if step is ComplaintStep.VALIDITY:
        return case.acknowledge_by
    if step in DECISION_STEPS:
        return case.decide_by
    if step is ComplaintStep.IMPLEMENTATION:
        return _calendar(settings).due(now, settings.implementation_period)
    if step is ComplaintStep.EVALUATION:
        return _calendar(settings).due(now, settings.evaluation_period)
    return None


@dataclass(frozen=True)
class Received:
    complaint: Complaint
    linked_to_open_case: bool


async def receive_complaint(
    session: AsyncSession,
    body: ComplaintCreate,
    *,
    settings: Settings,
    now: datetime,
    staff: Staff | None = None,
) -> Received:
    """Record a complaint (step 1), or link it to the customer's open case of its category."""
    received_at = body.received_at or now
    if received_at > now + CLOCK_SKEW:
        raise ProblemError("received_at: is in the future", field="received_at")
    actor_id, actor_role = (
        (staff.staff_id, staff.role.value) if staff else (f"channel:{body.channel}", "channel")
    )
    if body.customer_id is not None:
        existing = await complaints_repository.open_case_of(
            session, body.customer_id, body.category
        )
        if existing is not None:
            return await _link(session, existing, body, actor_id, actor_role, now)
    pack, calendar = settings.pack, _calendar(settings)
    tier = (
        await complaints_repository.customer_tier(session, body.customer_id)
        if body.customer_id
        else None
    )
    rule = pack.decision_rule(body.category, settings.decision_overrides)
    acknowledge_by = calendar.due(received_at, pack.acknowledgement)
    decide_by = (
        calendar.due(received_at, rule.period)
        if pack.decision_clock is ClockStart.RECEIPT
        else None
    )
    last_closed = (
        await complaints_repository.last_closed_at(session, body.customer_id, body.category)
        if body.customer_id
        else None
    )
    complaint_id = uuid.uuid4()
    priority = prioritise(tier, body.category, body.channel, settings=settings)
    values: dict[str, Any] = {
        "id": complaint_id,
        "customer_id": body.customer_id,
        "complainant": body.complainant.model_dump() if body.complainant else None,
        "channel": body.channel,
        "category": body.category,
        "cause": body.cause,
        "description": body.description,
        "disputed_amount": body.disputed_amount.amount if body.disputed_amount else None,
        "disputed_currency": body.disputed_amount.currency if body.disputed_amount else None,
        "transaction_ids": body.transaction_ids,
        "attachments": [a.model_dump() for a in body.attachments],
        "call_id": body.call_id,
        "priority": priority,
        "customer_tier": tier,
        "status": ComplaintStatus.OPEN,
        "step": ComplaintStep.VALIDITY,
        "deadline_pack": pack.code,
        "received_at": received_at,
        "acknowledge_by": acknowledge_by,
        "decide_by": decide_by,
        "extensions_used": 0,
        "step_due_at": acknowledge_by,
        "escalation_level": 0,
        "reopen_count": 0,
        "linked_count": 0,
        "is_repeat": last_closed is not None
        and last_closed >= received_at - timedelta(days=settings.repeat_within_days),
    }
    if not await complaints_repository.insert_unless_open_case(session, values):
        # Another channel opened the same case a moment ago; its row is committed now.
        assert body.customer_id is not None, "only a customer's case can collide"
        existing = await complaints_repository.open_case_of(
            session, body.customer_id, body.category
        )
        if existing is None:
            raise ProblemError("the customer's open case changed meanwhile; retry")
        return await _link(session, existing, body, actor_id, actor_role, now)
    case = await complaints_repository.complaint(session, complaint_id)
    assert case is not None
    complaints_repository.add_history(
        session,
        HistoryEntry(
            complaint_id=complaint_id, action="record", from_step=None,
            to_step=ComplaintStep.VALIDITY, actor_id=actor_id, actor_role=actor_role,
            decision={"priority": priority, "customer_tier": tier, "call_id": body.call_id},
            note=None, at=received_at,
        ),
    )  # fmt: skip
    await record_events(session, _received_events(case, ComplaintStep.VALIDITY, now))
    return Received(case, linked_to_open_case=False)


def _received_events(
    case: Complaint, step: ComplaintStep, now: datetime
) -> list[ComplaintReceived | ComplaintStepCompleted]:
    due = case.step_due_at or case.acknowledge_by
    return [
        ComplaintReceived(
            complaint_id=case.id, customer_id=case.customer_id, channel=case.channel,
            category=case.category, priority=case.priority, received_at=now, due_at=due,
        ),
        ComplaintStepCompleted(
            complaint_id=case.id, customer_id=case.customer_id, step=ComplaintStep.RECORD,
            next_step=step, completed_at=now, due_at=case.step_due_at,
        ),
    ]  # fmt: skip


async def _link(
    session: AsyncSession,
    case: Complaint,
    body: ComplaintCreate,
    actor_id: str,
    actor_role: str,
    now: datetime,
) -> Received:
    case.linked_count += 1
    complaints_repository.add_history(
        session,
        HistoryEntry(
            complaint_id=case.id, action="linked_submission", from_step=case.step,
            to_step=case.step, actor_id=actor_id, actor_role=actor_role,
            decision={"channel": body.channel, "call_id": body.call_id,
                      "transaction_ids": body.transaction_ids},
            note=body.description, at=now,
        ),
    )  # fmt: skip
    return Received(case, linked_to_open_case=True)


async def act(
    session: AsyncSession,
    complaint_id: uuid.UUID,
    request: ActionRequest,
    staff: Staff,
    *,
    settings: Settings,
    now: datetime,
) -> Complaint:
    """Take one step of the procedure; only the table in ``procedure`` says what may happen."""
    case = await complaints_repository.complaint(session, complaint_id, for_update=True)
    if case is None:
        raise ComplaintNotFound(f"no complaint {complaint_id}")
    step, action = ComplaintStep(case.step), ComplaintAction(request.action)
    move = move_for(step, action)
    if move is None:
        allowed = [a.value for a in allowed_actions(step)]
        raise ActionNotAllowed(
            f"a case at step {step} cannot take {action}; it can take {allowed}",
            step=step.value, allowed=allowed,
        )  # fmt: skip
    if staff.role not in move.roles:
        raise RoleNotAllowed(
            f"{action} is for {sorted(r.value for r in move.roles)}, not {staff.role}",
            required_roles=sorted(r.value for r in move.roles),
        )
    decision: dict[str, Any] = {}
    to_step = move.to
    events: list[Any] = []
    match request:
        case JudgeValidity(valid=True):
            case.accepted_at = now
            if settings.pack.decision_clock is ClockStart.ACCEPTANCE:
                case.decide_by = _calendar(settings).due(now, _rule(case, settings).period)
            decision = {"valid": True}
        case JudgeValidity(valid=False, explanation=explanation):
            to_step = ComplaintStep.CLOSED
            case.outcome, case.resolution = ClosingOutcome.INVALID, explanation
            decision = {"valid": False, "explanation": explanation}
        case AssignDepartment(department=department):
            case.department = department
            decision = {"department": department}
        case AnalyseCause(cause=cause, finding=finding):
            case.cause = cause
            decision = {"cause": cause.value, "finding": finding}
        case ProposeResolution(resolution=resolution, compensation=compensation):
            case.resolution = resolution
            decision = {"resolution": resolution}
            if compensation is not None:
                decision["compensation"] = compensation.model_dump(mode="json")
        case ReturnResolution(comment=comment):
            decision = {"returned": True, "comment": comment}
        case ImplementResolution(done=done):
            decision = {"done": done}
        case Evaluate(satisfaction=satisfaction, root_cause=root_cause, lesson=lesson):
            case.satisfaction, case.root_cause, case.lesson = satisfaction, root_cause, lesson
            case.outcome = ClosingOutcome.RESOLVED
            decision = {"satisfaction": satisfaction, "root_cause": root_cause, "lesson": lesson}
        case Withdraw(reason=reason):
            case.outcome = ClosingOutcome.WITHDRAWN
            decision = {"reason": reason}
        case Reopen(reason=reason):
            to_step = await _reopen(session, case, settings, now)
            decision = {"reason": reason}
        case ApproveResolution():
            case.decided_at = now
            decision = {
                "approved": True,
                "on_time": case.decide_by is None or now <= case.decide_by,
            }
        case ExtendDeadline():
            decision = _extend(case, staff, settings)
    if action is ComplaintAction.REOPEN:
        assert to_step is not None
        events += _received_events(case, to_step, now)
    elif to_step is not None:
        case.step = to_step
        case.step_due_at = _step_due(case, to_step, settings, now)
        events.append(
            ComplaintStepCompleted(
                complaint_id=case.id, customer_id=case.customer_id, step=step,
                next_step=None if to_step is ComplaintStep.CLOSED else to_step,
                completed_at=now, due_at=case.step_due_at,
            )
        )  # fmt: skip
        if to_step is ComplaintStep.CLOSED:
            case.status, case.closed_at = ComplaintStatus.CLOSED, now
            assert case.outcome is not None
            events.append(
                ComplaintClosed(
                    complaint_id=case.id, customer_id=case.customer_id,
                    outcome=case.outcome, closed_at=now,
                )
            )  # fmt: skip
    else:
        case.step_due_at = _step_due(case, step, settings, now)
    complaints_repository.add_history(
        session,
        HistoryEntry(
            complaint_id=case.id, action=action, from_step=step,
            to_step=to_step or step, actor_id=staff.staff_id, actor_role=staff.role,
            decision=decision, note=request.note, at=now,
        ),
    )  # fmt: skip
    if events:
        await record_events(session, events)
    return case


def _extend(case: Complaint, staff: Staff, settings: Settings) -> dict[str, Any]:
    rule = _rule(case, settings)
    if case.extensions_used >= len(rule.extensions):
        raise NoFurtherExtension(
            f"the {settings.pack.code} pack allows {len(rule.extensions)} extension(s) for "
            f"{case.category} complaints, and all are used",
            extensions_used=case.extensions_used,
        )
    extension = rule.extensions[case.extensions_used]
    if staff.role not in extension.approvers:
        raise RoleNotAllowed(
            f"extension {case.extensions_used + 1} needs the approval of "
            f"{sorted(r.value for r in extension.approvers)}",
            required_roles=sorted(r.value for r in extension.approvers),
        )
    clock = settings.pack.decision_clock
    start = case.accepted_at if clock is ClockStart.ACCEPTANCE else case.received_at
    assert start is not None, "decision steps come after acceptance"
    previous = case.decide_by
    case.decide_by = _calendar(settings).due(start, extension.period)
    case.extensions_used += 1
    return {
        "extension": case.extensions_used,
        "previous_decide_by": previous.isoformat() if previous else None,
        "decide_by": case.decide_by.isoformat(),
    }


async def _reopen(
    session: AsyncSession, case: Complaint, settings: Settings, now: datetime
) -> ComplaintStep:
    assert case.closed_at is not None
    if now - case.closed_at > timedelta(days=settings.reopen_within_days):
        raise ReopenPeriodOver(
            f"closed {case.closed_at.isoformat()}; cases reopen within "
            f"{settings.reopen_within_days} days",
        )
    if case.customer_id is not None:
        other = await complaints_repository.open_case_of(session, case.customer_id, case.category)
        if other is not None:
            raise OpenCaseExists(
                f"complaint {other.id} is open for the same matter", open_complaint_id=str(other.id)
            )
    pack, calendar = settings.pack, _calendar(settings)
    rule = _rule(case, settings)
    # Back to the department that knew the case; a case judged invalid is judged again.
    to_step = ComplaintStep.CAUSE_ANALYSIS if case.department else ComplaintStep.VALIDITY
    case.status, case.outcome, case.closed_at = ComplaintStatus.OPEN, None, None
    case.decided_at, case.extensions_used = None, 0
    # The last evaluation stays in the history; the case's own fields await the new one.
    case.satisfaction = case.root_cause = case.lesson = None
    case.reminded_for = case.escalated_for = None
    case.reopen_count += 1
    case.acknowledge_by = calendar.due(now, pack.acknowledgement)
    if to_step is ComplaintStep.CAUSE_ANALYSIS:
        case.accepted_at = now
        case.decide_by = calendar.due(now, rule.period)
    else:
        case.accepted_at = None
        receipt_clock = pack.decision_clock is ClockStart.RECEIPT
        case.decide_by = calendar.due(now, rule.period) if receipt_clock else None
    case.step = to_step
    case.step_due_at = _step_due(case, to_step, settings, now)
    return to_step


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
        _system_entry(session, case, "reminder", {"due_at": _iso(case.step_due_at)}, now)
    overdue = await complaints_repository.due_for_escalation(session, now=now, limit=batch_size)
    events = []
    for case in overdue:
        case.escalated_for = case.step_due_at
        case.escalation_level += 1
        reason = f"the {case.step} deadline {_iso(case.step_due_at)} passed"
        _system_entry(
            session, case, "escalated",
            {"level": case.escalation_level, "escalated_to": "supervisor", "reason": reason}, now,
        )  # fmt: skip
        events.append(
            ComplaintEscalated(
                complaint_id=case.id, customer_id=case.customer_id,
                level=case.escalation_level, reason=reason, escalated_at=now,
            )
        )  # fmt: skip
    if events:
        await record_events(session, events)
    return SweepReport(reminded=len(reminded), escalated=len(overdue))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _system_entry(
    session: AsyncSession, case: Complaint, action: str, decision: dict[str, Any], now: datetime
) -> None:
    complaints_repository.add_history(
        session,
        HistoryEntry(
            complaint_id=case.id, action=action, from_step=case.step, to_step=case.step,
            actor_id=SYSTEM, actor_role=SYSTEM, decision=decision, note=None, at=now,
        ),
    )  # fmt: skip
