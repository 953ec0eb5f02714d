"""The call floor's rules (ACD): which queue and priority a call gets, which agent is offered
it, and what each desk action does to the call and the agent. No HTTP, no Kafka, no commit:
the endpoint owns the transaction, and the events go to the outbox inside it.

Every routing decision runs under one advisory lock (``repository.lock_routing``), so a call
arriving and an agent freeing up at the same moment always meet."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.contact_center import CallEnded, CallStarted, ComplaintFromCall
from contracts.customer import InteractionRecorded
from services.contact_center import outbound, repository
from services.contact_center.config import Settings
from services.contact_center.errors import (
    AgentBusy,
    AgentExists,
    AgentNotFound,
    CallNotFound,
    CallStateConflict,
    OutOfOrder,
)
from services.contact_center.identification import Identification
from services.contact_center.models import (
    SELF_SET_STATES,
    TALKING_STATUSES,
    WAITING_STATUSES,
    Agent,
    AgentState,
    Call,
    CallLeg,
    CallStatus,
    LegOutcome,
    Skill,
)
from services.contact_center.schemas import (
    AgentCreate,
    CallArrival,
    CallbackCreate,
    Transfer,
    WrapUp,
)
from shared.masking import mask_phone
from shared.outbox import record_event, record_events


def moment(at: datetime | None, *, now: datetime, settings: Settings) -> datetime:
    """When the switch says something happened: not ahead of our clock beyond the skew."""
    if at is None:
        return now
    if at > now + timedelta(seconds=settings.clock_skew_seconds):
        raise OutOfOrder(f"at: {at.isoformat()} is ahead of the service's clock", field="at")
    return at


def _not_before(at: datetime, last: datetime | None, what: str) -> None:
    if last is not None and at < last:
        raise OutOfOrder(
            f"at: {at.isoformat()} is before the {what}'s last event ({last.isoformat()})",
            field="at",
        )


# --- Queue and priority -----------------------------------------------------------------------


def choose_queue(arrival: CallArrival, identity: Identification, settings: Settings) -> Skill:
    """The tier's policy first (premium to the VIP queue), then what the IVR chose."""
    if identity.route_to_vip_queue:
        return Skill.VIP
    if arrival.queue is not None:
        return arrival.queue
    for choice in reversed(arrival.ivr_path):
        if choice in settings.ivr_queues:
            return settings.ivr_queues[choice]
    return Skill.GENERAL


def priority_of(identity: Identification, settings: Settings) -> int:
    if identity.queue_priority is None:
        return settings.default_queue_priority
    return identity.queue_priority


# --- Agents -----------------------------------------------------------------------------------


async def add_agent(session: AsyncSession, body: AgentCreate, *, now: datetime) -> Agent:
    added = await repository.add_agent(
        session,
        {
            "id": body.id, "name": body.name, "skills": [str(s) for s in body.skills],
            "state": AgentState.OFFLINE, "state_since": now, "idle_since": None,
            "current_call_id": None, "created_at": now,
        },
    )  # fmt: skip
    if not added:
        raise AgentExists(f"agent {body.id} exists", field="id")
    await repository.record_state_spell(session, body.id, AgentState.OFFLINE, now)
    return await _agent(session, body.id)


async def _agent(session: AsyncSession, agent_id: str, *, for_update: bool = False) -> Agent:
    found = await repository.agent(session, agent_id, for_update=for_update)
    if found is None:
        raise AgentNotFound(f"no agent {agent_id}", field="agent_id")
    return found


async def _move_agent(
    session: AsyncSession,
    agent: Agent,
    state: AgentState,
    at: datetime,
    *,
    call_id: uuid.UUID | None = None,
    idle_since: datetime | None = None,
) -> None:
    if agent.state != state:
        await repository.record_state_spell(session, agent.id, state, at)
        agent.state_since = at
    agent.state = state
    agent.current_call_id = call_id
    # Kept while the agent works: an offer the caller abandons gives the agent their old
    # place in the idle order back. Only read for available agents.
    if state is AgentState.AVAILABLE:
        agent.idle_since = idle_since or at


async def set_agent_state(
    session: AsyncSession, agent_id: str, state: str, at: datetime
) -> tuple[Agent, Call | None]:
    """An agent signs in, takes a break or signs out; on becoming available they are offered
    the most urgent call waiting for their skills."""
    await repository.lock_routing(session)
    agent = await _agent(session, agent_id, for_update=True)
    if AgentState(agent.state) not in SELF_SET_STATES:
        raise AgentBusy(
            f"agent {agent_id} is {agent.state}; finish the call first", state=agent.state
        )
    _not_before(at, agent.state_since, "agent")
    target = AgentState(state)
    if target is AgentState(agent.state):
        return agent, None
    await _move_agent(session, agent, target, at)
    offered = await _offer_next(session, agent, at) if target is AgentState.AVAILABLE else None
    return agent, offered


async def _offer_next(session: AsyncSession, agent: Agent, at: datetime) -> Call | None:
    leg = await repository.next_waiting_leg(session, agent.skills)
    if leg is None:
        return None
    call = await repository.call(session, leg.call_id, for_update=True)
    assert call is not None
    await _offer(session, call, leg, agent, at)
    return call


async def _offer(
    session: AsyncSession, call: Call, leg: CallLeg, agent: Agent, at: datetime
) -> None:
    # An agent freed at `at` may be offered a call that joined earlier: the offer is `at`.
    offered_at = max(at, leg.queued_at)
    leg.agent_id, leg.offered_at = agent.id, offered_at
    call.status, call.agent_id, call.last_event_at = CallStatus.OFFERED, agent.id, offered_at
    await _move_agent(session, agent, AgentState.ON_CALL, offered_at, call_id=call.id)


# --- Inbound calls ----------------------------------------------------------------------------


async def receive_call(
    session: AsyncSession,
    arrival: CallArrival,
    identity: Identification,
    *,
    settings: Settings,
    at: datetime,
) -> Call:
    queue = choose_queue(arrival, identity, settings)
    priority = priority_of(identity, settings)
    call = Call(
        id=uuid.uuid4(), direction="inbound",
        caller_number_masked=mask_phone(arrival.caller_number) if arrival.caller_number else None,
        dialled_number=arrival.dialled_number, ivr_path=list(arrival.ivr_path),
        customer_id=identity.customer_id, identified_by=identity.identified_by,
        value_tier=identity.value_tier, priority=priority, queue=queue,
        status=CallStatus.WAITING, arrived_at=at, queued_at=at, last_event_at=at,
        hold_seconds=0.0, transfers=0, complaint_requested=False,
    )  # fmt: skip
    session.add(call)
    leg = CallLeg(
        call_id=call.id, queue=queue, priority=priority, queued_at=at,
        outcome=LegOutcome.WAITING,
    )  # fmt: skip
    session.add(leg)
    await repository.lock_routing(session)
    await session.flush()
    agent = await repository.longest_idle_agent(session, queue)
    if agent is not None:
        await _offer(session, call, leg, agent, at)
    await record_event(
        session,
        CallStarted(
            call_id=call.id, customer_id=call.customer_id, direction=call.direction,
            identified_by=call.identified_by, value_tier=call.value_tier, queue=queue,
            priority=priority, started_at=at,
        ),
    )  # fmt: skip
    return call


async def _call(session: AsyncSession, call_id: uuid.UUID) -> Call:
    found = await repository.call(session, call_id, for_update=True)
    if found is None:
        raise CallNotFound(f"no call {call_id}")
    return found


def _require(call: Call, allowed: frozenset[CallStatus] | set[CallStatus], action: str) -> None:
    if CallStatus(call.status) not in allowed:
        raise CallStateConflict(
            f"a {call.status} call cannot be {action}",
            call_status=call.status,
        )


async def answer(session: AsyncSession, call_id: uuid.UUID, agent_id: str, at: datetime) -> Call:
    await repository.lock_routing(session)
    call = await _call(session, call_id)
    _require(call, {CallStatus.OFFERED}, "answered")
    if call.agent_id != agent_id:
        raise CallStateConflict(
            f"the call is offered to agent {call.agent_id}, not {agent_id}", call_status=call.status
        )
    _not_before(at, call.last_event_at, "call")
    leg = await repository.current_leg(session, call.id)
    leg.answered_at = at
    call.status, call.last_event_at = CallStatus.CONNECTED, at
    call.answered_at = call.answered_at or at
    return call


async def hold(session: AsyncSession, call_id: uuid.UUID, at: datetime) -> Call:
    call = await _call(session, call_id)
    _require(call, {CallStatus.CONNECTED}, "put on hold")
    _not_before(at, call.last_event_at, "call")
    call.status, call.hold_started_at, call.last_event_at = CallStatus.ON_HOLD, at, at
    return call


def _end_hold(call: Call, at: datetime) -> None:
    if call.hold_started_at is not None:
        call.hold_seconds += (at - call.hold_started_at).total_seconds()
        call.hold_started_at = None


async def resume(session: AsyncSession, call_id: uuid.UUID, at: datetime) -> Call:
    call = await _call(session, call_id)
    _require(call, {CallStatus.ON_HOLD}, "resumed")
    _not_before(at, call.last_event_at, "call")
    _end_hold(call, at)
    call.status, call.last_event_at = CallStatus.CONNECTED, at
    return call


async def transfer(
    session: AsyncSession, call_id: uuid.UUID, body: Transfer, at: datetime
) -> tuple[Call, Call | None]:
    """Hand the caller to a queue or a named agent (a blind transfer). The transferring agent
    is free at once; the answer also gives the call they are offered next, if any."""
    await repository.lock_routing(session)
    call = await _call(session, call_id)
    _require(call, TALKING_STATUSES, "transferred")
    _not_before(at, call.last_event_at, "call")
    target_agent = None
    if body.agent_id is not None:
        if body.agent_id == call.agent_id:
            raise AgentBusy("a call cannot be transferred to the agent who has it")
        target_agent = await _agent(session, body.agent_id, for_update=True)
        if target_agent.state != AgentState.AVAILABLE:
            raise AgentBusy(
                f"agent {body.agent_id} is {target_agent.state}", state=target_agent.state
            )
    _end_hold(call, at)
    leg = await repository.current_leg(session, call.id)
    leg.released_at, leg.wrapped_at, leg.outcome = at, at, LegOutcome.TRANSFERRED
    from_agent = await _agent(session, leg.agent_id or "", for_update=True)
    queue = body.queue or Skill(call.queue)
    new_leg = CallLeg(
        call_id=call.id, queue=queue, priority=call.priority, queued_at=at,
        outcome=LegOutcome.WAITING,
    )  # fmt: skip
    session.add(new_leg)
    await session.flush()
    call.queue, call.queued_at, call.transfers = queue, at, call.transfers + 1
    call.status, call.agent_id, call.last_event_at = CallStatus.WAITING, None, at
    if target_agent is None:
        target_agent = await repository.longest_idle_agent(session, queue)
    if target_agent is not None:
        await _offer(session, call, new_leg, target_agent, at)
    await _move_agent(session, from_agent, AgentState.AVAILABLE, at)
    return call, await _offer_next(session, from_agent, at)


async def hang_up(
    session: AsyncSession, call_id: uuid.UUID, at: datetime
) -> tuple[Call, Call | None]:
    """The line closes. Before an agent answered, the call is abandoned (and an agent it was
    ringing for is free again, at their old place in the idle order); after, the agent goes
    to wrap-up."""
    await repository.lock_routing(session)
    call = await _call(session, call_id)
    _require(call, WAITING_STATUSES | TALKING_STATUSES, "hung up")
    _not_before(at, call.last_event_at, "call")
    leg = await repository.current_leg(session, call.id)
    leg.released_at = at
    call.released_at, call.last_event_at = at, at
    if CallStatus(call.status) in TALKING_STATUSES:
        _end_hold(call, at)
        call.status = CallStatus.WRAP_UP
        agent = await _agent(session, call.agent_id or "", for_update=True)
        await _move_agent(session, agent, AgentState.WRAP_UP, at, call_id=call.id)
        return call, None
    leg.outcome, call.status, call.ended_at = LegOutcome.ABANDONED, CallStatus.ABANDONED, at
    next_call = None
    if leg.agent_id is not None:
        agent = await _agent(session, leg.agent_id, for_update=True)
        await _move_agent(session, agent, AgentState.AVAILABLE, at, idle_since=agent.idle_since)
        next_call = await _offer_next(session, agent, at)
    await record_event(
        session,
        CallEnded(
            call_id=call.id, customer_id=call.customer_id, outcome="abandoned", queue=call.queue,
            agent_id=None, wrap_up_code=None, resolved=None, transfers=call.transfers,
            wait_seconds=(at - call.arrived_at).total_seconds(), handle_seconds=None,
            ended_at=at, complaint=None,
        ),
    )  # fmt: skip
    return call, next_call


@dataclass(frozen=True)
class WrappedUp:
    call: Call
    next_call: Call | None


async def wrap_up(
    session: AsyncSession, call_id: uuid.UUID, body: WrapUp, at: datetime, *, settings: Settings
) -> WrappedUp:
    """The agent finishes the record: wrap-up code, notes, and a complaint or a callback taken
    on the call. The call is published as a contact on the customer's timeline, and the agent
    is offered the next call."""
    await repository.lock_routing(session)
    call = await _call(session, call_id)
    _require(call, TALKING_STATUSES | {CallStatus.WRAP_UP}, "wrapped up")
    _not_before(at, call.last_event_at, "call")
    if body.complaint is not None and call.customer_id is None:
        raise CallStateConflict(
            "complaint: the caller is not identified; record the complaint with the "
            "complainant's details at the complaints service",
            call_status=call.status,
            field="complaint",
        )
    leg = await repository.current_leg(session, call.id)
    if call.released_at is None:
        _end_hold(call, at)
        call.released_at = leg.released_at = at
    leg.wrapped_at, leg.outcome = at, LegOutcome.ANSWERED
    call.status, call.ended_at, call.last_event_at = CallStatus.COMPLETED, at, at
    call.wrap_up_code, call.notes, call.resolved = body.wrap_up_code, body.notes, body.resolved
    call.complaint_requested = body.complaint is not None
    agent = await _agent(session, leg.agent_id or "", for_update=True)
    answered_at = call.answered_at or at
    events: list[CallEnded | InteractionRecorded] = [
        CallEnded(
            call_id=call.id, customer_id=call.customer_id, outcome="completed", queue=call.queue,
            agent_id=agent.id, wrap_up_code=body.wrap_up_code, resolved=body.resolved,
            transfers=call.transfers, wait_seconds=(answered_at - call.arrived_at).total_seconds(),
            handle_seconds=(at - answered_at).total_seconds(), ended_at=at,
            complaint=ComplaintFromCall(
                category=body.complaint.category, description=body.complaint.description
            ) if body.complaint else None,
        )
    ]  # fmt: skip
    if call.customer_id is not None:
        events.append(
            InteractionRecorded(
                customer_id=call.customer_id, interaction_id=call.id, channel="phone",
                kind=f"{call.direction}_call:{body.wrap_up_code}", occurred_at=call.arrived_at,
            )
        )  # fmt: skip
    await record_events(session, events)
    if body.callback is not None:
        asked = body.callback
        callback = await outbound.schedule_callback(
            session,
            CallbackCreate(
                customer_id=call.customer_id, phone_number=asked.phone_number,
                requested_for=asked.requested_for, queue=asked.queue or Skill(call.queue),
                agent_id=asked.agent_id, note=asked.note,
            ),
            call_id=call.id, settings=settings, now=at,
        )  # fmt: skip
        call.callback_id = callback.id
    await _move_agent(session, agent, AgentState.AVAILABLE, at)
    return WrappedUp(call, await _offer_next(session, agent, at))
