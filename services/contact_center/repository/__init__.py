"""Every query of the contact centre, but the statistics (``stats.py``)."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, any_, delete, func, literal, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.models import (
    STAFFED_STATES,
    Agent,
    AgentState,
    AgentStateSpell,
    Call,
    Callback,
    CallbackStatus,
    CallLeg,
    CustomerIdentifier,
    DoNotCall,
    KnownCustomer,
    LegOutcome,
    OutboundEntry,
    OutboundStatus,
)
from shared.bulk import upsert

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


# --- What the customer service says -----------------------------------------------------------


async def known_customer(session: AsyncSession, customer_id: uuid.UUID) -> KnownCustomer | None:
    return await session.get(KnownCustomer, customer_id)


async def save_known_customer(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert, or overwrite only the columns ``values`` names; an insert takes the column
    defaults for the rest (no consent, active, no policy yet)."""
    await upsert(session, KnownCustomer, values, key="customer_id")


async def replace_identifiers(
    session: AsyncSession, customer_id: uuid.UUID, digests: Sequence[tuple[str, str]]
) -> None:
    await session.execute(
        delete(CustomerIdentifier).where(CustomerIdentifier.customer_id == customer_id)
    )
    if digests:
        rows = [{"kind": k, "digest": d, "customer_id": customer_id} for k, d in set(digests)]
        await session.execute(insert(CustomerIdentifier).on_conflict_do_nothing(), rows)


async def customers_with(session: AsyncSession, kind: str, digest: str) -> list[uuid.UUID]:
    statement = select(CustomerIdentifier.customer_id).where(
        CustomerIdentifier.kind == kind, CustomerIdentifier.digest == digest
    )
    return list(await session.scalars(statement))


# --- Agents -----------------------------------------------------------------------------------


async def agent(session: AsyncSession, agent_id: str, *, for_update: bool = False) -> Agent | None:
    statement = select(Agent).where(Agent.id == agent_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def add_agent(session: AsyncSession, values: dict[str, Any]) -> bool:
    statement = insert(Agent).values(**values).on_conflict_do_nothing().returning(Agent.id)
    return (await session.scalar(statement)) is not None


async def agents(session: AsyncSession, *, state: str | None = None) -> list[Agent]:
    statement = select(Agent).order_by(Agent.id)
    if state is not None:
        statement = statement.where(Agent.state == state)
    return list(await session.scalars(statement))


async def longest_idle_agent(session: AsyncSession, queue: str) -> Agent | None:
    await session.flush()
    statement = (
        select(Agent)
        .where(Agent.state == AgentState.AVAILABLE, literal(queue) == any_(Agent.skills))
        .order_by(Agent.idle_since, Agent.id)
        .limit(1)
        .with_for_update()
    )
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def record_state_spell(
    session: AsyncSession, agent_id: str, state: str, at: datetime
) -> None:
    await session.flush()  # the spell added by the previous change, so it is closed here
    await session.execute(
        update(AgentStateSpell)
        .where(AgentStateSpell.agent_id == agent_id, AgentStateSpell.ended_at.is_(None))
        .values(ended_at=at)
    )
    session.add(AgentStateSpell(agent_id=agent_id, state=state, started_at=at))


async def agents_by_skill(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Skill → (agents staffed, agents available)."""
    skill = func.unnest(Agent.skills).label("skill")
    inner = select(skill, Agent.state).where(Agent.state.in_(STAFFED_STATES)).subquery()
    statement = select(
        inner.c.skill,
        func.count(),
        func.count().filter(inner.c.state == AgentState.AVAILABLE),
    ).group_by(inner.c.skill)
    return {s: (staffed, free) for s, staffed, free in (await session.execute(statement)).all()}


async def agent_counts_by_state(session: AsyncSession) -> dict[str, int]:
    statement = select(Agent.state, func.count()).group_by(Agent.state)
    return {state: n for state, n in (await session.execute(statement)).all()}


# --- Calls and their legs ---------------------------------------------------------------------


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


# --- Callbacks --------------------------------------------------------------------------------


async def callback(
    session: AsyncSession, callback_id: uuid.UUID, *, for_update: bool = False
) -> Callback | None:
    statement = select(Callback).where(Callback.id == callback_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def callbacks(
    session: AsyncSession, *, status: str | None, due_by: datetime | None, limit: int
) -> list[Callback]:
    statement = select(Callback).order_by(Callback.next_attempt_at, Callback.id).limit(limit)
    if status is not None:
        statement = statement.where(Callback.status == status)
    if due_by is not None:
        statement = statement.where(Callback.next_attempt_at <= due_by)
    return list(await session.scalars(statement))


async def cancel_scheduled_callbacks(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await session.execute(
        update(Callback)
        .where(Callback.customer_id == customer_id, Callback.status == CallbackStatus.SCHEDULED)
        .values(status=CallbackStatus.CANCELLED)
    )


async def replace_callback_numbers(
    session: AsyncSession, customer_id: uuid.UUID, phone_number: str
) -> None:
    await session.execute(
        update(Callback)
        .where(Callback.customer_id == customer_id, Callback.phone_number != phone_number)
        .values(phone_number=phone_number)
    )


# --- The outbound call list -------------------------------------------------------------------


async def add_outbound_entry(session: AsyncSession, values: dict[str, Any]) -> None:
    # An opportunity redelivered is the same entry.
    statement = insert(OutboundEntry).values(**values)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["opportunity_id"]))


async def withdraw_outbound_entry(session: AsyncSession, opportunity_id: uuid.UUID) -> None:
    await _withdraw_pending(session, OutboundEntry.opportunity_id == opportunity_id)


async def withdraw_entries_of(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await _withdraw_pending(session, OutboundEntry.customer_id == customer_id)


async def _withdraw_pending(session: AsyncSession, which: ColumnElement[bool]) -> None:
    await session.execute(
        update(OutboundEntry)
        .where(which, OutboundEntry.status == OutboundStatus.PENDING)
        .values(status=OutboundStatus.WITHDRAWN)
    )


async def outbound_entry(
    session: AsyncSession, entry_id: uuid.UUID, *, for_update: bool = False
) -> OutboundEntry | None:
    statement = select(OutboundEntry).where(OutboundEntry.id == entry_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def callable_entries(
    session: AsyncSession, *, now: datetime, max_attempts: int, consent_channel: str, limit: int
) -> list[OutboundEntry]:
    """Pending entries that every calling rule but the hour of day allows now, most urgent
    first: the opportunity's priority, then the earliest due."""
    statement = (
        select(OutboundEntry)
        .join(KnownCustomer, KnownCustomer.customer_id == OutboundEntry.customer_id)
        .outerjoin(DoNotCall, DoNotCall.customer_id == OutboundEntry.customer_id)
        .where(
            OutboundEntry.status == OutboundStatus.PENDING,
            OutboundEntry.expires_at > now,
            OutboundEntry.attempts < max_attempts,
            (OutboundEntry.next_attempt_at.is_(None)) | (OutboundEntry.next_attempt_at <= now),
            KnownCustomer.status != "closed",
            KnownCustomer.consent[consent_channel].as_boolean().is_(True),
            DoNotCall.customer_id.is_(None),
        )
        .order_by(OutboundEntry.priority.desc(), OutboundEntry.due_at, OutboundEntry.id)
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def entries(
    session: AsyncSession, *, status: str | None, customer_id: uuid.UUID | None, limit: int
) -> list[OutboundEntry]:
    statement = select(OutboundEntry).order_by(
        OutboundEntry.priority.desc(), OutboundEntry.due_at, OutboundEntry.id
    )
    if status is not None:
        statement = statement.where(OutboundEntry.status == status)
    if customer_id is not None:
        statement = statement.where(OutboundEntry.customer_id == customer_id)
    return list(await session.scalars(statement.limit(limit)))


async def do_not_call(session: AsyncSession, customer_id: uuid.UUID) -> DoNotCall | None:
    return await session.get(DoNotCall, customer_id)


async def add_do_not_call(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, DoNotCall, values, key="customer_id")


async def keep_on_do_not_call(session: AsyncSession, values: dict[str, Any]) -> None:
    """As ``add_do_not_call``, but a listing that exists keeps the date it began."""
    await upsert(session, DoNotCall, values, key="customer_id", keep=["added_at"])


async def remove_do_not_call(session: AsyncSession, customer_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(DoNotCall)
        .where(DoNotCall.customer_id == customer_id)
        .returning(DoNotCall.customer_id)
    )
    return result.first() is not None
