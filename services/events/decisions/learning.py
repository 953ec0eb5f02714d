"""Responses learned: each recorded once on its decision's entry, and learned by that action's
model from the customer's features as the decision saw them. No HTTP, no commit."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.decisions import NextBestActionResponded
from services.events.decisions import repository
from services.events.decisions.repository import Answered
from shared.outbox import record_event

ACCEPTED = "accepted"
# What a customer's response may be; "expired" is recorded by the bank when nobody answered.
RESPONSES = (ACCEPTED, "declined", "no_answer")
EXPIRED = "expired"
# A ranking served again for the customer replaces the unanswered offers of the ones before
# (an agent's screen refreshed is one offer, not two refusals); a response may still come.
SUPERSEDED = "superseded"


async def respond(
    session: AsyncSession, decision_id: uuid.UUID, action_id: str, outcome: str, now: datetime
) -> Answered | None:
    """Records the response, teaches the action's model and publishes the response; None (and
    nothing learned or published) when the entry has its response already: a redelivered
    outcome changes nothing."""
    answered = await repository.answer(session, decision_id, action_id, outcome, now)
    if answered is not None:
        await repository.close_other_offers(session, answered)
        await repository.learn(session, action_id, answered.features, positive=outcome == ACCEPTED)
        await record_event(
            session,
            NextBestActionResponded(
                decision_id=decision_id,
                action_id=action_id,
                customer_id=answered.customer_id,
                opportunity_id=answered.opportunity_id,
                outcome=outcome,
                responded_at=now,
            ),
        )
    return answered


async def respond_for_opportunity(
    session: AsyncSession, opportunity_id: uuid.UUID, outcome: str, now: datetime
) -> Answered | None:
    """An opportunity's outcome recorded by its owner or the contact centre is the response
    to the latest ranking that offered it (none, and nothing is learned, if no ranking did:
    without the decision there are no features as they were when it was offered)."""
    offered = await repository.latest_unanswered_for_opportunity(session, opportunity_id)
    if offered is None:
        return None
    return await respond(session, *offered, outcome, now)


async def expire_unanswered(
    session: AsyncSession, *, now: datetime, window: timedelta, limit: int = 500
) -> list[str]:
    """An offer nobody answered within the window is learned as a refusal (Pega's models count
    an offer without a response within its window as negative). Returns the action of each."""
    due = await repository.unanswered_offers(session, now - window, limit)
    for decision_id, action_id in due:
        await respond(session, decision_id, action_id, EXPIRED, now)
    return [action_id for _, action_id in due]
