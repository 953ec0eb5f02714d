"""The procedure's actions: what each one decides about a case, and the move it makes.

``procedure.PROCEDURE`` says which action a step allows and to whom; ``ACTIONS`` below says
what each action does, one handler per action. No HTTP and no Kafka here, and no commit: the
caller owns the transaction, and the events are written to the outbox inside it."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.complaints import ComplaintClosed, ComplaintStepCompleted
from services.complaints.config import Settings
from services.complaints.deadlines import PACKS, BusinessCalendar, ClockStart, DecisionRule
from services.complaints.errors import (
    ActionNotAllowed,
    ComplaintNotFound,
    NoFurtherExtension,
    OpenCaseExists,
    ReopenPeriodOver,
    RoleNotAllowed,
    SameHandsForbidden,
)
from services.complaints.letters import service as letters_service
from services.complaints.models import Complaint, ComplaintStatus, HistoryEntry
from services.complaints.procedure import (
    DECISION_STEPS,
    ClosingOutcome,
    ComplaintAction,
    ComplaintStep,
    Move,
    allowed_actions,
    move_for,
)
from services.complaints.receiving import received_events
from services.complaints.repository import complaints as complaints_repository
from services.complaints.returns.service import classification_decided
from services.complaints.schemas import (
    ActionRequest,
    AnalyseCause,
    ApproveResolution,
    AssignDepartment,
    Evaluate,
    ExtendDeadline,
    ImplementResolution,
    JudgeValidity,
    ProposeResolution,
    Reopen,
    ReturnResolution,
    Withdraw,
)
from services.complaints.staff import Staff
from shared.outbox import record_events
from shared.problems import get_or_404


@dataclass(frozen=True)
class Acting:
    """The case an action is taken on, by whom, and when."""

    session: AsyncSession
    case: Complaint
    staff: Staff
    settings: Settings
    now: datetime


@dataclass(frozen=True)
class Decided:
    """What an action decided (kept in the case's history), and the step it leads to when
    that is not the one the procedure's table names (an invalid case closes; a reopened one
    goes back to where it is judged again)."""

    decision: dict[str, Any]
    leads_to: ComplaintStep | None = None


# A handler takes the request model of its own action (the table pairs them).
ActionHandler = Callable[[Acting, Any], Awaitable[Decided]]


def _rule(case: Complaint, settings: Settings) -> DecisionRule:
    return settings.pack.decision_rule(case.category, settings.decision_overrides)


def _step_due(
    case: Complaint, step: ComplaintStep, settings: Settings, now: datetime
) -> datetime | None:
    if step is ComplaintStep.VALIDITY:
        return case.acknowledge_by
    if step in DECISION_STEPS:
        return case.decide_by
    if step is ComplaintStep.IMPLEMENTATION:
        return BusinessCalendar.of(settings.pack).due(now, settings.implementation_period)
    if step is ComplaintStep.EVALUATION:
        return BusinessCalendar.of(settings.pack).due(now, settings.evaluation_period)
    return None


async def _judge_validity(acting: Acting, request: JudgeValidity) -> Decided:
    case, settings, now = acting.case, acting.settings, acting.now
    if not request.valid:
        case.outcome, case.resolution = ClosingOutcome.INVALID, request.explanation
        decision = {"valid": False, "explanation": request.explanation}
        return Decided(decision, leads_to=ComplaintStep.CLOSED)
    case.accepted_at = now
    if settings.pack.decision_clock is ClockStart.ACCEPTANCE:
        period = _rule(case, settings).period
        case.decide_by = BusinessCalendar.of(settings.pack).due(now, period)
    return Decided({"valid": True})


async def _assign_department(acting: Acting, request: AssignDepartment) -> Decided:
    acting.case.department = request.department
    return Decided({"department": request.department})


async def _analyse_cause(acting: Acting, request: AnalyseCause) -> Decided:
    acting.case.cause = request.cause
    return Decided({"cause": request.cause.value, "finding": request.finding})


async def _propose_resolution(acting: Acting, request: ProposeResolution) -> Decided:
    case, settings = acting.case, acting.settings
    decision: dict[str, Any] = {"resolution": request.resolution}
    if request.classification is not None:
        # The returns read it from here: the history keeps each proposal's classification.
        decision["classification"] = classification_decided(
            request.classification,
            request.compensation,
            pack=PACKS[case.deadline_pack],
            settings=settings,
        )
    case.resolution = request.resolution
    if request.compensation is not None:
        decision["compensation"] = request.compensation.model_dump(mode="json")
    return Decided(decision)


async def _approve_resolution(acting: Acting, request: ApproveResolution) -> Decided:
    case, now = acting.case, acting.now
    case.decided_at = now
    return Decided({"approved": True, "on_time": case.decide_by is None or now <= case.decide_by})


async def _return_resolution(acting: Acting, request: ReturnResolution) -> Decided:
    return Decided({"returned": True, "comment": request.comment})


async def _implement_resolution(acting: Acting, request: ImplementResolution) -> Decided:
    return Decided({"done": request.done})


async def _evaluate(acting: Acting, request: Evaluate) -> Decided:
    case = acting.case
    approvers = await complaints_repository.actors_of(
        acting.session, case.id, ComplaintAction.APPROVE_RESOLUTION
    )
    if acting.staff.staff_id in approvers:
        raise SameHandsForbidden(
            f"{acting.staff.staff_id} approved this resolution, so someone else evaluates it"
        )
    case.satisfaction = request.satisfaction
    case.root_cause, case.lesson = request.root_cause, request.lesson
    case.outcome = ClosingOutcome.RESOLVED
    return Decided(
        {
            "satisfaction": request.satisfaction,
            "root_cause": request.root_cause,
            "lesson": request.lesson,
        }
    )


async def _withdraw(acting: Acting, request: Withdraw) -> Decided:
    acting.case.outcome = ClosingOutcome.WITHDRAWN
    return Decided({"reason": request.reason})


async def _extend_deadline(acting: Acting, request: ExtendDeadline) -> Decided:
    case, settings = acting.case, acting.settings
    rule = _rule(case, settings)
    if case.extensions_used >= len(rule.extensions):
        raise NoFurtherExtension(
            f"the {settings.pack.code} pack allows {len(rule.extensions)} extension(s) for "
            f"{case.category} complaints, and all are used",
            extensions_used=case.extensions_used,
        )
    extension = rule.extensions[case.extensions_used]
    if acting.staff.role not in extension.approvers:
        raise RoleNotAllowed(
            f"extension {case.extensions_used + 1} needs the approval of "
            f"{sorted(r.value for r in extension.approvers)}",
            required_roles=sorted(r.value for r in extension.approvers),
        )
    clock = settings.pack.decision_clock
    start = case.accepted_at if clock is ClockStart.ACCEPTANCE else case.received_at
    assert start is not None, "decision steps come after acceptance"
    previous = case.decide_by
    case.decide_by = BusinessCalendar.of(settings.pack).due(start, extension.period)
    case.extensions_used += 1
    return Decided(
        {
            "extension": case.extensions_used,
            "reason": request.reason,
            "previous_decide_by": previous.isoformat() if previous else None,
            "decide_by": case.decide_by.isoformat(),
        }
    )


async def _reopen(acting: Acting, request: Reopen) -> Decided:
    case, settings, now = acting.case, acting.settings, acting.now
    assert case.closed_at is not None
    if now - case.closed_at > timedelta(days=settings.reopen_within_days):
        raise ReopenPeriodOver(
            f"closed {case.closed_at.isoformat()}; cases reopen within "
            f"{settings.reopen_within_days} days",
        )
    if case.customer_id is not None:
        other = await complaints_repository.open_case_of(
            acting.session, case.customer_id, case.category
        )
        if other is not None:
            raise OpenCaseExists(
                f"complaint {other.id} is open for the same matter", open_complaint_id=str(other.id)
            )
    pack, calendar = settings.pack, BusinessCalendar.of(settings.pack)
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
    return Decided({"reason": request.reason}, leads_to=to_step)


# What each action does; ``PROCEDURE`` says at which step and by whom it may be taken.
ACTIONS: dict[ComplaintAction, ActionHandler] = {
    ComplaintAction.JUDGE_VALIDITY: _judge_validity,
    ComplaintAction.ASSIGN_DEPARTMENT: _assign_department,
    ComplaintAction.ANALYSE_CAUSE: _analyse_cause,
    ComplaintAction.PROPOSE_RESOLUTION: _propose_resolution,
    ComplaintAction.APPROVE_RESOLUTION: _approve_resolution,
    ComplaintAction.RETURN_RESOLUTION: _return_resolution,
    ComplaintAction.IMPLEMENT_RESOLUTION: _implement_resolution,
    ComplaintAction.EVALUATE: _evaluate,
    ComplaintAction.EXTEND_DEADLINE: _extend_deadline,
    ComplaintAction.WITHDRAW: _withdraw,
    ComplaintAction.REOPEN: _reopen,
}


def permitted_move(step: ComplaintStep, action: ComplaintAction, staff: Staff) -> Move:
    """The procedure's move for the action at this step, if the step allows it and it is the
    staff member's role to take it."""
    move = move_for(step, action)
    if move is None:
        allowed = [a.value for a in allowed_actions(step)]
        raise ActionNotAllowed(
            f"a case at step {step} cannot take {action}; it can take {allowed}",
            step=step.value,
            allowed=allowed,
        )
    if staff.role not in move.roles:
        raise RoleNotAllowed(
            f"{action} is for {sorted(r.value for r in move.roles)}, not {staff.role}",
            required_roles=sorted(r.value for r in move.roles),
        )
    return move


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
    case = await get_or_404(
        complaints_repository.complaint(session, complaint_id, for_update=True),
        ComplaintNotFound(f"no complaint {complaint_id}"),
    )
    step, action = ComplaintStep(case.step), ComplaintAction(request.action)
    move = permitted_move(step, action, staff)
    decided = await ACTIONS[action](Acting(session, case, staff, settings, now), request)
    to_step = decided.leads_to or move.to
    if action is ComplaintAction.REOPEN:
        assert to_step is not None
        events: list[Any] = [*received_events(case, to_step, now)]
    else:
        events = _move(case, step, to_step, settings=settings, now=now)
    complaints_repository.add_history(
        session,
        HistoryEntry(
            complaint_id=case.id,
            action=action,
            from_step=step,
            to_step=to_step or step,
            actor_id=staff.staff_id,
            actor_role=staff.role,
            decision=decided.decision,
            note=request.note,
            at=now,
        ),
    )
    events += await letters_service.after_step(
        session, case, action, issued_by=staff.staff_id, now=now
    )
    if events:
        await record_events(session, events)
    return case


def _move(
    case: Complaint,
    step: ComplaintStep,
    to_step: ComplaintStep | None,
    *,
    settings: Settings,
    now: datetime,
) -> list[ComplaintStepCompleted | ComplaintClosed]:
    """Move the case on (or keep it at its step with a new due time); the events it causes."""
    if to_step is None:
        case.step_due_at = _step_due(case, step, settings, now)
        return []
    case.step = to_step
    case.step_due_at = _step_due(case, to_step, settings, now)
    events: list[ComplaintStepCompleted | ComplaintClosed] = [
        ComplaintStepCompleted(
            complaint_id=case.id,
            customer_id=case.customer_id,
            step=step,
            next_step=None if to_step is ComplaintStep.CLOSED else to_step,
            completed_at=now,
            due_at=case.step_due_at,
        )
    ]
    if to_step is ComplaintStep.CLOSED:
        case.status, case.closed_at = ComplaintStatus.CLOSED, now
        assert case.outcome is not None
        events.append(
            ComplaintClosed(
                complaint_id=case.id,
                customer_id=case.customer_id,
                outcome=case.outcome,
                closed_at=now,
            )
        )
    return events
