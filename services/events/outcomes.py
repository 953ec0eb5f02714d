"""What became of the opportunities: the outcomes their owners and the contact centre
record, and the expiry of those nobody acted on in time.

No HTTP and no Kafka here, and no commit: the caller owns the transaction."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.complaints import ComplaintReceived
from contracts.contact_center import OutboundAttempted
from contracts.customer import TransactionReversed
from contracts.opportunities import OpportunityClosed, OpportunityUpdated
from services.events.decisions import learning
from services.events.errors import OpportunityNotFound, OutcomeNotAllowed
from services.events.models import Opportunity
from services.events.repository import opportunities as opportunities_repository
from services.events.rules import ActionKind
from shared.outbox import record_event, record_events
from shared.problems import get_or_404


async def expire_opportunities(
    session: AsyncSession, *, now: datetime, limit: int = 500
) -> list[str]:
    """Close what nobody acted on in time; returns the rule id of each one expired."""
    expired = await opportunities_repository.due_to_expire(session, now, limit)
    await close_as_expired(session, expired, outcome=None, now=now)
    return [o.rule_id for o in expired]


async def withdraw_for_reversals(
    session: AsyncSession, reversals: Sequence[TransactionReversed], *, now: datetime
) -> list[str]:
    """Core banking reversed transactions (冲正): what they raised is withdrawn, the reversal
    named as the reason (a retention call about a withdrawal that never happened would only
    puzzle the customer). Returns the rule id of each one withdrawn."""
    withdrawn: list[str] = []
    for reversal in reversals:
        raised = await opportunities_repository.raised_by_transaction(
            session, reversal.customer_id, reversal.transaction_id
        )
        outcome = f"transaction_reversed:{reversal.reason}:{reversal.reversal_id}"
        withdrawn += await _withdraw(session, raised, outcome=outcome, now=now)
    return withdrawn


async def withdraw_for_complaint(
    session: AsyncSession, complaint: ComplaintReceived, *, now: datetime
) -> list[str]:
    """A complaint withdraws the customer's open marketing offers, and with them their call
    list entries (the contact centre drops what closes): nobody sells to someone who has
    just complained. Service recovery stays, and the complaint's own rules may add to it.
    Returns the rule id of each one withdrawn."""
    if complaint.customer_id is None:
        return []
    offers = [
        o
        for o in await opportunities_repository.open_of_customer(session, complaint.customer_id)
        if ActionKind(o.action).is_marketing
    ]
    outcome = f"complaint_received:{complaint.complaint_id}"
    return await _withdraw(session, offers, outcome=outcome, now=now)


async def _withdraw(
    session: AsyncSession, opportunities: Sequence[Opportunity], *, outcome: str, now: datetime
) -> list[str]:
    for opportunity in opportunities:
        opportunity.status, opportunity.outcome = "withdrawn", outcome
        opportunity.updated_at = now
    await record_events(
        session,
        [
            OpportunityClosed(
                opportunity_id=o.id,
                customer_id=o.customer_id,
                status="withdrawn",
                outcome=outcome,
                closed_at=now,
            )
            for o in opportunities
        ],
    )
    return [o.rule_id for o in opportunities]


async def close_as_expired(
    session: AsyncSession,
    opportunities: Sequence[Opportunity],
    *,
    outcome: str | None,
    now: datetime,
) -> None:
    for opportunity in opportunities:
        opportunity.status, opportunity.updated_at = "expired", now
        if outcome is not None:  # expiry by time leaves any outcome noted on contact
            opportunity.outcome = outcome
    await record_events(
        session,
        [
            OpportunityClosed(
                opportunity_id=o.id,
                customer_id=o.customer_id,
                status="expired",
                outcome=outcome,
                closed_at=now,
            )
            for o in opportunities
        ],
    )


# What a call's result makes of an opportunity (no answer and a wrong number change nothing:
# the call list tries again, or gives up, and expiry follows).
CALL_RESULT_STATUS = {"reached": "in_contact", "accepted": "accepted", "declined": "declined"}
# The call results that are the customer's response to the offer the call made.
LEARNED_CALL_RESULTS = frozenset({"accepted", "declined", "no_answer"})


async def record_call_results(
    session: AsyncSession, attempts: Sequence[OutboundAttempted], *, now: datetime
) -> list[tuple[str, str]]:
    """Outcomes the contact centre reports; returns (rule id, status) of each one applied.
    An event cannot be refused: a result that does not fit the opportunity any more (it was
    accepted at the branch meanwhile, say) is left out, not an error."""
    applied = []
    for attempt in attempts:
        status = CALL_RESULT_STATUS.get(attempt.result)
        if attempt.opportunity_id is None:
            continue
        if attempt.result in LEARNED_CALL_RESULTS:
            # Redelivered, the result finds the offer answered and teaches nothing more.
            await learning.respond_for_opportunity(
                session, attempt.opportunity_id, attempt.result, now
            )
        if status is None:
            continue
        opportunity = await opportunities_repository.opportunity(
            session, attempt.opportunity_id, for_update=True
        )
        if opportunity is None or status not in OUTCOMES.get(opportunity.status, ()):
            continue
        await _set_outcome(session, opportunity, status, f"call: {attempt.result}", now=now)
        applied.append((opportunity.rule_id, status))
    return applied


# What an owner may record, from each status.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "open": ("in_contact", "accepted", "declined"),
    "in_contact": ("accepted", "declined"),
}
FINAL = frozenset({"accepted", "declined"})


async def record_outcome(
    session: AsyncSession,
    opportunity_id: uuid.UUID,
    status: str,
    outcome: str | None,
    *,
    now: datetime,
    learn: bool = True,
) -> Opportunity:
    """``learn``: the outcome is the response to the latest ranking that offered the
    opportunity (False when the caller has taught the model from a decision of its own)."""
    opportunity = await get_or_404(
        opportunities_repository.opportunity(session, opportunity_id, for_update=True),
        OpportunityNotFound(f"no opportunity {opportunity_id}"),
    )
    allowed = OUTCOMES.get(opportunity.status, ())
    if status not in allowed:
        raise OutcomeNotAllowed(
            f"an opportunity that is {opportunity.status} cannot become {status}",
            current_status=opportunity.status,
            allowed=list(allowed),
        )
    await _set_outcome(session, opportunity, status, outcome, now=now)
    if learn and status in FINAL:
        await learning.respond_for_opportunity(session, opportunity.id, status, now)
    return opportunity


async def _set_outcome(
    session: AsyncSession,
    opportunity: Opportunity,
    status: str,
    outcome: str | None,
    *,
    now: datetime,
) -> None:
    opportunity.status, opportunity.outcome, opportunity.updated_at = status, outcome, now
    if status in FINAL:
        await record_event(
            session,
            OpportunityClosed(
                opportunity_id=opportunity.id,
                customer_id=opportunity.customer_id,
                status=status,
                outcome=outcome,
                closed_at=now,
            ),
        )
    else:
        await record_event(
            session,
            OpportunityUpdated(
                opportunity_id=opportunity.id,
                customer_id=opportunity.customer_id,
                status=status,
                outcome=outcome,
                updated_at=now,
            ),
        )
