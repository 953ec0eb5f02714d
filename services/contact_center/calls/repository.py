"""Every query of the calls and their legs (one leg per queue a call waited in), and the lock
that makes routing one decision at a time."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.models import Call, CallLeg, LegOutcome

# One routing decision at a time. A call arriving while an agent frees up must meet that
# agent: if each took only its own row locks, the call could see no free agent while the
# agent saw no waiting call, and both would wait. Routing work is a few milliseconds, so one
# lock for the whole floor costs little next to a call's seconds of waiting.
ROUTING_LOCK = "contact_center:routing"
# Sessions do not autoflush (shared.db): the queries that decide routing flush first, so they
# see the offers and state changes made earlier in the same transaction.


async def lock_routing(session: AsyncSession) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": ROUTING_LOCK}
    )


async def call(
    session: AsyncSession, call_id: uuid.UUID, *, for_update: bool = False
) -> Call | None:
    statement = select(Call).where(Call.id == call_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def current_leg(session: AsyncSession, call_id: uuid.UUID) -> CallLeg:
    await session.flush()
    statement = (
        select(CallLeg).where(CallLeg.call_id == call_id).order_by(CallLeg.id.desc()).limit(1)
    )
    leg = (await session.scalars(statement.execution_options(populate_existing=True))).first()
    assert leg is not None, "every call has a leg from its arrival"
    return leg


async def next_waiting_leg(session: AsyncSession, queues: Sequence[str]) -> CallLeg | None:
    """The most urgent call waiting in any of these queues: lowest priority number, then the
    longest waiting."""
    await session.flush()
    statement = (
        select(CallLeg)
        .where(
            CallLeg.outcome == LegOutcome.WAITING,
            CallLeg.agent_id.is_(None),
            CallLeg.queue.in_(queues),
        )
        .order_by(CallLeg.priority, CallLeg.queued_at, CallLeg.id)
        .limit(1)
        .with_for_update()
    )
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def position_in_queue(session: AsyncSession, leg: CallLeg) -> int:
    await session.flush()
    ahead = select(func.count()).where(
        CallLeg.outcome == LegOutcome.WAITING,
        CallLeg.agent_id.is_(None),
        CallLeg.queue == leg.queue,
        tuple_(CallLeg.priority, CallLeg.queued_at, CallLeg.id)
        < tuple_(leg.priority, leg.queued_at, leg.id),
    )
    return int(await session.scalar(ahead) or 0) + 1


async def waiting_by_queue(session: AsyncSession) -> dict[str, tuple[int, datetime]]:
    """Queue → (calls waiting, when the longest-waiting one joined)."""
    statement = (
        select(CallLeg.queue, func.count(), func.min(CallLeg.queued_at))
        .where(CallLeg.outcome == LegOutcome.WAITING, CallLeg.agent_id.is_(None))
        .group_by(CallLeg.queue)
    )
    return {q: (n, oldest) for q, n, oldest in (await session.execute(statement)).all()}


async def recent_handle_seconds(
    session: AsyncSession, queues: Sequence[str], *, calls: int = 50
) -> dict[str, float]:
    """Average handle time of each queue's last few handled calls: the wait estimate's pace.
    One query for all the queues asked; a queue with no handled call is absent."""
    handled = (
        select(
            CallLeg.queue,
            func.extract("epoch", CallLeg.wrapped_at - CallLeg.answered_at).label("seconds"),
            func.row_number()
            .over(partition_by=CallLeg.queue, order_by=CallLeg.wrapped_at.desc())
            .label("recency"),
        )
        .where(CallLeg.queue.in_(queues), CallLeg.wrapped_at.is_not(None))
        .subquery()
    )
    statement = (
        select(handled.c.queue, func.avg(handled.c.seconds))
        .where(handled.c.recency <= calls)
        .group_by(handled.c.queue)
    )
    return {q: float(avg) for q, avg in (await session.execute(statement)).all()}


async def blank_caller_numbers(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await session.execute(
        update(Call)
        .where(Call.customer_id == customer_id, Call.caller_number_masked.is_not(None))
        .values(caller_number_masked=None)
    )
