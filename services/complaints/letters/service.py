"""Issuing the letters: each when the procedure reaches its step, in the transaction of that
step, kept as sent and announced by ``complaint.letter_issued`` through the outbox.

- the acknowledgement on receipt (and again when a closed case reopens);
- the holding reply when the decision deadline is extended;
- the final response on the decision: a supervisor's approval, or a complaint judged invalid.

A letter may also be issued again on request (one lost in the post), but never before its
step: a final response before the decision is refused. No HTTP and no commit here."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.complaints import ComplaintLetterIssued
from services.complaints.deadlines import PACKS, BusinessCalendar
from services.complaints.errors import ComplaintNotFound
from services.complaints.letters import repository as letters_repository
from services.complaints.letters.models import ComplaintLetter
from services.complaints.letters.wording import LetterFacts, LetterKind, LetterLanguage, compose
from services.complaints.models import Complaint
from services.complaints.procedure import ClosingOutcome, ComplaintAction
from services.complaints.repository import complaints as complaints_repository
from shared.outbox import record_events
from shared.problems import Conflict, get_or_404


class LetterNotDue(Conflict):
    slug, title = "letter-not-due", "The case has not reached the step of this letter"


# The letter each step of the procedure sends (a validity judgement sends one only when it
# decides the complaint: invalid).
LETTER_AFTER: dict[ComplaintAction, LetterKind] = {
    ComplaintAction.JUDGE_VALIDITY: LetterKind.FINAL_RESPONSE,
    ComplaintAction.APPROVE_RESOLUTION: LetterKind.FINAL_RESPONSE,
    ComplaintAction.EXTEND_DEADLINE: LetterKind.HOLDING,
    ComplaintAction.REOPEN: LetterKind.ACKNOWLEDGEMENT,
}


def not_due_because(case: Complaint, kind: LetterKind) -> str | None:
    """Why the case cannot be sent this letter yet; None when it can."""
    decided = case.decided_at is not None or case.outcome == ClosingOutcome.INVALID
    if kind is LetterKind.FINAL_RESPONSE and not decided:
        return "a final response follows the decision, and the case is not decided"
    if kind is LetterKind.HOLDING and (case.extensions_used == 0 or decided):
        return "a holding reply follows an extension of an undecided case"
    return None


async def acknowledge(
    session: AsyncSession, case: Complaint, *, issued_by: str, now: datetime
) -> None:
    """The acknowledgement of a case just recorded."""
    letter = await _issue(session, case, LetterKind.ACKNOWLEDGEMENT, issued_by=issued_by, now=now)
    await record_events(session, [_announced(letter, case)])


async def after_step(
    session: AsyncSession,
    case: Complaint,
    action: ComplaintAction,
    *,
    issued_by: str,
    now: datetime,
) -> list[ComplaintLetterIssued]:
    """The letter the step just taken sends, if it sends one."""
    kind = LETTER_AFTER.get(action)
    if kind is None or not_due_because(case, kind) is not None:
        return []
    letter = await _issue(session, case, kind, issued_by=issued_by, now=now)
    return [_announced(letter, case)]


async def issue_again(
    session: AsyncSession,
    complaint_id: uuid.UUID,
    kind: LetterKind,
    *,
    issued_by: str,
    now: datetime,
) -> ComplaintLetter:
    """The letter of ``kind`` written afresh from the case, refused before its step."""
    case = await get_or_404(
        complaints_repository.complaint(session, complaint_id, for_update=True),
        ComplaintNotFound(f"no complaint {complaint_id}"),
    )
    reason = not_due_because(case, kind)
    if reason is not None:
        raise LetterNotDue(reason, kind=kind.value, step=case.step)
    letter = await _issue(session, case, kind, issued_by=issued_by, now=now)
    await record_events(session, [_announced(letter, case)])
    return letter


async def _issue(
    session: AsyncSession, case: Complaint, kind: LetterKind, *, issued_by: str, now: datetime
) -> ComplaintLetter:
    # The step's own history entry is still pending; the letter quotes it.
    await session.flush()
    letter = compose(await _facts(session, case, kind, now=now))
    row = ComplaintLetter(
        id=uuid.uuid4(),
        complaint_id=case.id,
        kind=kind,
        language=case.language,
        jurisdiction=case.deadline_pack,
        subject=letter.subject,
        body=letter.body,
        issued_by=issued_by,
        issued_at=now,
    )
    letters_repository.add(session, row)
    return row


def _announced(letter: ComplaintLetter, case: Complaint) -> ComplaintLetterIssued:
    return ComplaintLetterIssued(
        complaint_id=case.id,
        customer_id=case.customer_id,
        letter_id=letter.id,
        kind=letter.kind,
        language=letter.language,
        jurisdiction=letter.jurisdiction,
        issued_at=letter.issued_at,
    )


async def _facts(
    session: AsyncSession, case: Complaint, kind: LetterKind, *, now: datetime
) -> LetterFacts:
    calendar = BusinessCalendar.of(PACKS[case.deadline_pack])
    extension: dict[str, Any] = {}
    proposal: dict[str, Any] = {}
    if kind is LetterKind.HOLDING:
        extension = (
            await letters_repository.last_decision(
                session, case.id, ComplaintAction.EXTEND_DEADLINE
            )
            or {}
        )
    upheld = case.outcome != ClosingOutcome.INVALID
    if kind is LetterKind.FINAL_RESPONSE and upheld:
        proposal = (
            await letters_repository.last_decision(
                session, case.id, ComplaintAction.PROPOSE_RESOLUTION
            )
            or {}
        )
    compensation = proposal.get("compensation")
    return LetterFacts(
        kind=kind,
        language=LetterLanguage(case.language),
        jurisdiction=case.deadline_pack,
        reference=str(case.id),
        category=case.category,
        received_on=calendar.local_date(case.received_at),
        issued_on=calendar.local_date(now),
        decide_by=calendar.local_date(case.decide_by) if case.decide_by else None,
        extension_reason=extension.get("reason"),
        upheld=upheld,
        resolution=case.resolution,
        compensation=f"{compensation['amount']} {compensation['currency']}"
        if compensation
        else None,
    )
