"""Cases made for the returns' tests: each walks the procedure at the moments it names, through
the service's own functions (the clock of a past period cannot be had over HTTP)."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from services.complaints import actions, receiving
from services.complaints.config import Settings
from services.complaints.procedure import StaffRole
from services.complaints.schemas import ActionRequest, ComplaintCreate
from services.complaints.staff import Staff
from shared.db import create_engine, create_sessionmaker, transaction
from shared.outbox import EVENT_SOURCE

FRONT = Staff("teller-01", StaffRole.FRONT_LINE)
HANDLER = Staff("handler-01", StaffRole.DEPARTMENT_HANDLER)
SUPERVISOR = Staff("supervisor-01", StaffRole.SUPERVISOR)
QUALITY = Staff("quality-01", StaffRole.QUALITY_OFFICER)
_ACTION: TypeAdapter[Any] = TypeAdapter(ActionRequest)


@dataclass
class Case:
    """What happens to one complaint: received, then closed (``resolved``, ``invalid`` or
    ``withdrawn``) at ``closed``, or left open at ``open_at`` ("validity" … "approval")."""

    received: datetime
    codes: dict[str, str] | None = None  # None: never classified
    outcome: str = "resolved"
    closed: datetime | None = None
    upheld: bool = False
    redress: str | None = None
    vulnerable: bool = False
    vulnerability_related: bool = False
    legal_entity: str | None = None
    extensions: int = 0
    open_at: str | None = None
    channel: str = "phone"
    # A reopening at ``reopened``, closed again (resolved) at ``closed_again``.
    reopened: datetime | None = None
    closed_again: datetime | None = None
    upheld_again: bool = False
    redress_again: str | None = None
    id: str = field(default="", init=False)


def _proposal(case: Case, currency: str, *, upheld: bool, redress: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"action": "propose_resolution", "resolution": "Put it right."}
    if redress is not None:
        body["compensation"] = {"amount": redress, "currency": currency}
    if case.codes is not None:
        body["classification"] = {
            "codes": case.codes,
            "upheld": upheld,
            "vulnerable": case.vulnerable,
            "vulnerability_related": case.vulnerability_related,
            "legal_entity": case.legal_entity,
        }
    return body


def _decision_path(
    case: Case, currency: str, *, upheld: bool, redress: str | None
) -> list[tuple[Staff, dict[str, Any]]]:
    return [
        (HANDLER, {"action": "analyse_cause", "cause": "service_level", "finding": "Found."}),
        *[(HANDLER, {"action": "extend_deadline", "reason": "Complex."})] * min(case.extensions, 1),
        *[(SUPERVISOR, {"action": "extend_deadline", "reason": "Very complex."})]
        * max(case.extensions - 1, 0),
        (HANDLER, _proposal(case, currency, upheld=upheld, redress=redress)),
        (SUPERVISOR, {"action": "approve_resolution"}),
        (HANDLER, {"action": "implement_resolution", "done": "Done."}),
        (QUALITY, {"action": "evaluate", "satisfaction": 4, "root_cause": "R", "lesson": "L"}),
    ]


def _steps(case: Case, currency: str) -> list[tuple[Staff, dict[str, Any]]]:
    accept: list[tuple[Staff, dict[str, Any]]] = [
        (FRONT, {"action": "judge_validity", "valid": True}),
        (FRONT, {"action": "assign_department", "department": "cards"}),
    ]
    if case.outcome == "invalid":
        return [(FRONT, {"action": "judge_validity", "valid": False, "explanation": "No."})]
    if case.outcome == "withdrawn":
        return [*accept, (FRONT, {"action": "withdraw", "reason": "Settled at the branch."})]
    steps = [*accept, *_decision_path(case, currency, upheld=case.upheld, redress=case.redress)]
    if case.open_at is not None:
        stop = {"validity": 0, "cause_analysis": 2, "approval": len(steps) - 3}[case.open_at]
        return steps[:stop]
    return steps


async def _walk(
    settings: Settings,
    case_id: uuid.UUID,
    steps: list[tuple[Staff, dict[str, Any]]],
    start: datetime,
    end: datetime | None,
    *,
    at_start: bool = False,
) -> None:
    """Each step at its own moment, spread up to ``end`` (the last step), from ``start``
    (the first step there when ``at_start``)."""
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: settings.event_source})
    try:
        for number, (staff, body) in enumerate(steps, start=1):
            shift = 0 if at_start else 1
            at = (
                start + (end - start) * (number - 1 + shift) / (len(steps) - 1 + shift)
                if end is not None
                else start + timedelta(minutes=number)
            )
            async with transaction(sessions) as session:
                request = _ACTION.validate_python(body)
                await actions.act(session, case_id, request, staff, settings=settings, now=at)
    finally:
        await engine.dispose()


async def file_cases(settings: Settings, cases: list[Case], *, currency: str) -> None:
    """Each case received, walked, and reopened and closed again where it says."""
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: settings.event_source})
    try:
        for case in cases:
            body = ComplaintCreate(
                customer_id=uuid.uuid4(),
                channel=case.channel,
                category="fees",
                description="A fee I did not agree to.",
            )
            async with transaction(sessions) as session:
                received = await receiving.receive_complaint(
                    session,
                    body.model_copy(update={"received_at": case.received}),
                    settings=settings,
                    now=case.received,
                )
            case.id = str(received.complaint.id)
            steps = _steps(case, currency)
            await _walk(settings, received.complaint.id, steps, case.received, case.closed)
            if case.reopened is not None:
                again = [(FRONT, {"action": "reopen", "reason": "Not put right."})]
                again += _decision_path(
                    case, currency, upheld=case.upheld_again, redress=case.redress_again
                )
                await _walk(
                    settings,
                    received.complaint.id,
                    again,
                    case.reopened,
                    case.closed_again,
                    at_start=True,
                )
    finally:
        await engine.dispose()
