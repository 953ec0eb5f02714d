"""The call floor's rules (ACD): what each desk action does to the call and the agent. No
HTTP, no Kafka, no commit: the endpoint owns the transaction, and the events go to the outbox
inside it.

Every routing decision runs under one advisory lock (``calls_repository.lock_routing``), so a
call arriving and an agent freeing up at the same moment always meet."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.contact_center import CallEnded, CallStarted, ComplaintFromCall
from contracts.customer import InteractionRecorded
from services.contact_center.agents import repository as agents_repository
from services.contact_center.callbacks import service as callbacks
from services.contact_center.callbacks.schemas import CallbackCreate
from services.contact_center.calls import repository as calls_repository
from services.contact_center.calls import routing
from services.contact_center.calls.identification import Identification
from services.contact_center.calls.lifecycle import CallAction, Party, move_for
from services.contact_center.calls.schemas import CallArrival, CallbackOnCall, Transfer, WrapUp
from services.contact_center.config import Settings
from services.contact_center.errors import AgentBusy, CallNotFound, CallStateConflict
from services.contact_center.models import (
    Agent,
    AgentState,
    Call,
    CallLeg,
    CallStatus,
    LegOutcome,
    Skill,
)
from services.contact_center.reported_time import not_before
from shared.masking import mask_phone
from shared.outbox import record_event, record_events
from shared.problems import get_or_404


def _new_call(
    arrival: CallArrival, identity: Identification, *, queue: Skill, priority: int, at: datetime
) -> Call:
    number = arrival.caller_number
    return Call(
        id=uuid.uuid4(),
        direction="inbound",
        caller_number_masked=mask_phone(number) if number else None,
        dialled_number=arrival.dialled_number,
        ivr_path=list(arrival.ivr_path),
        customer_id=identity.customer_id,
        identified_by=identity.identified_by,
        value_tier=identity.value_tier,
        priority=priority,
        queue=queue,
        status=CallStatus.WAITING,
        arrived_at=at,
        queued_at=at,
        last_event_at=at,
        hold_seconds=0.0,
        transfers=0,
        complaint_requested=False,
    )


async def receive_call(
    session: AsyncSession,
    arrival: CallArrival,
    identity: Identification,
    *,
    settings: Settings,
    at: datetime,
) -> Call:
    queue = routing.choose_queue(arrival, identity, settings)
    priority = routing.priority_of(identity, settings)
    call = _new_call(arrival, identity, queue=queue, priority=priority, at=at)
    session.add(call)
    leg = CallLeg(
        call_id=call.id, queue=queue, priority=priority, queued_at=at, outcome=LegOutcome.WAITING
    )
    session.add(leg)
    await calls_repository.lock_routing(session)
    await session.flush()
    agent = await agents_repository.longest_idle_agent(session, queue)
    if agent is not None:
        await routing.offer(session, call, leg, agent=agent, at=at)
    await record_event(
        session,
        CallStarted(
            call_id=call.id,
            customer_id=call.customer_id,
            direction=call.direction,
            identified_by=call.identified_by,
            value_tier=call.value_tier,
            queue=queue,
            priority=priority,
            started_at=at,
        ),
    )
    return call


async def _call(session: AsyncSession, call_id: uuid.UUID) -> Call:
    return await get_or_404(
        calls_repository.call(session, call_id, for_update=True), CallNotFound(f"no call {call_id}")
    )


async def answer(session: AsyncSession, call_id: uuid.UUID, agent_id: str, at: datetime) -> Call:
    await calls_repository.lock_routing(session)
    call = await _call(session, call_id)
    move = move_for(call.status, CallAction.ANSWER)
    if move.by is Party.OFFERED_AGENT and call.agent_id != agent_id:
        raise CallStateConflict(
            f"the call is offered to agent {call.agent_id}, not {agent_id}", call_status=call.status
        )
    not_before(at, call.last_event_at, "call")
    leg = await calls_repository.current_leg(session, call.id)
    leg.answered_at = at
    call.status, call.last_event_at = move.to, at
    call.answered_at = call.answered_at or at
    return call


async def hold(session: AsyncSession, call_id: uuid.UUID, at: datetime) -> Call:
    call = await _call(session, call_id)
    move = move_for(call.status, CallAction.HOLD)
    not_before(at, call.last_event_at, "call")
    call.status, call.hold_started_at, call.last_event_at = move.to, at, at
    return call


def _end_hold(call: Call, at: datetime) -> None:
    if call.hold_started_at is not None:
        call.hold_seconds += (at - call.hold_started_at).total_seconds()
        call.hold_started_at = None


async def resume(session: AsyncSession, call_id: uuid.UUID, at: datetime) -> Call:
    call = await _call(session, call_id)
    move = move_for(call.status, CallAction.RESUME)
    not_before(at, call.last_event_at, "call")
    _end_hold(call, at)
    call.status, call.last_event_at = move.to, at
    return call


async def _transfer_target(session: AsyncSession, call: Call, body: Transfer) -> Agent | None:
    """The named agent a call is transferred to: free, and not the one who has it."""
    if body.agent_id is None:
        return None
    if body.agent_id == call.agent_id:
        raise AgentBusy("a call cannot be transferred to the agent who has it")
    target = await routing.agent_on_floor(session, body.agent_id, for_update=True)
    if target.state != AgentState.AVAILABLE:
        raise AgentBusy(f"agent {body.agent_id} is {target.state}", state=target.state)
    return target


async def transfer(
    session: AsyncSession, call_id: uuid.UUID, body: Transfer, at: datetime
) -> tuple[Call, Call | None]:
    """Hand the caller to a queue or a named agent (a blind transfer). The transferring agent
    is free at once; the answer also gives the call they are offered next, if any."""
    await calls_repository.lock_routing(session)
    call = await _call(session, call_id)
    move = move_for(call.status, CallAction.TRANSFER)
    not_before(at, call.last_event_at, "call")
    target_agent = await _transfer_target(session, call, body)
    _end_hold(call, at)
    leg = await calls_repository.current_leg(session, call.id)
    leg.released_at, leg.wrapped_at, leg.outcome = at, at, LegOutcome.TRANSFERRED
    from_agent = await routing.agent_on_floor(session, leg.agent_id or "", for_update=True)
    queue = body.queue or Skill(call.queue)
    new_leg = CallLeg(
        call_id=call.id,
        queue=queue,
        priority=call.priority,
        queued_at=at,
        outcome=LegOutcome.WAITING,
    )
    session.add(new_leg)
    await session.flush()
    call.queue, call.queued_at, call.transfers = queue, at, call.transfers + 1
    call.status, call.agent_id, call.last_event_at = move.to, None, at
    if target_agent is None:
        target_agent = await agents_repository.longest_idle_agent(session, queue)
    if target_agent is not None:
        await routing.offer(session, call, new_leg, agent=target_agent, at=at)
    await routing.move_agent(session, from_agent, AgentState.AVAILABLE, at=at)
    return call, await routing.offer_next(session, from_agent, at=at)


async def hang_up(
    session: AsyncSession, call_id: uuid.UUID, at: datetime
) -> tuple[Call, Call | None]:
    """The line closes. Before an agent answered, the call is abandoned (and an agent it was
    ringing for is free again, at their old place in the idle order); after, the agent goes
    to wrap-up."""
    await calls_repository.lock_routing(session)
    call = await _call(session, call_id)
    move = move_for(call.status, CallAction.HANG_UP)
    not_before(at, call.last_event_at, "call")
    leg = await calls_repository.current_leg(session, call.id)
    leg.released_at = at
    call.released_at, call.last_event_at = at, at
    if move.to is CallStatus.WRAP_UP:
        _end_hold(call, at)
        call.status = move.to
        agent = await routing.agent_on_floor(session, call.agent_id or "", for_update=True)
        await routing.move_agent(session, agent, AgentState.WRAP_UP, at=at, call_id=call.id)
        return call, None
    leg.outcome, call.status, call.ended_at = LegOutcome.ABANDONED, move.to, at
    next_call = None
    if leg.agent_id is not None:
        agent = await routing.agent_on_floor(session, leg.agent_id, for_update=True)
        await routing.move_agent(
            session, agent, AgentState.AVAILABLE, at=at, idle_since=agent.idle_since
        )
        next_call = await routing.offer_next(session, agent, at=at)
    await record_event(
        session,
        CallEnded(
            call_id=call.id,
            customer_id=call.customer_id,
            outcome="abandoned",
            queue=call.queue,
            agent_id=None,
            wrap_up_code=None,
            resolved=None,
            transfers=call.transfers,
            wait_seconds=(at - call.arrived_at).total_seconds(),
            handle_seconds=None,
            ended_at=at,
            complaint=None,
        ),
    )
    return call, next_call


@dataclass(frozen=True)
class WrappedUp:
    call: Call
    next_call: Call | None


def _completed_events(
    call: Call, agent: Agent, body: WrapUp, *, at: datetime
) -> list[CallEnded | InteractionRecorded]:
    """The call's end, and for a known caller a contact on their timeline."""
    answered_at = call.answered_at or at
    complaint = body.complaint
    events: list[CallEnded | InteractionRecorded] = [
        CallEnded(
            call_id=call.id,
            customer_id=call.customer_id,
            outcome="completed",
            queue=call.queue,
            agent_id=agent.id,
            wrap_up_code=body.wrap_up_code,
            resolved=body.resolved,
            transfers=call.transfers,
            wait_seconds=(answered_at - call.arrived_at).total_seconds(),
            handle_seconds=(at - answered_at).total_seconds(),
            ended_at=at,
            complaint=ComplaintFromCall(
                category=complaint.category, description=complaint.description
            )
            if complaint
            else None,
        )
    ]
    if call.customer_id is not None:
        events.append(
            InteractionRecorded(
                customer_id=call.customer_id,
                interaction_id=call.id,
                channel="phone",
                kind=f"{call.direction}_call:{body.wrap_up_code}",
                occurred_at=call.arrived_at,
            )
        )
    return events


async def _schedule_callback(
    session: AsyncSession, call: Call, asked: CallbackOnCall, *, settings: Settings, at: datetime
) -> uuid.UUID:
    callback = await callbacks.schedule_callback(
        session,
        CallbackCreate(
            customer_id=call.customer_id,
            phone_number=asked.phone_number,
            requested_for=asked.requested_for,
            queue=asked.queue or Skill(call.queue),
            agent_id=asked.agent_id,
            note=asked.note,
        ),
        call_id=call.id,
        settings=settings,
        now=at,
    )
    return callback.id


async def wrap_up(
    session: AsyncSession, call_id: uuid.UUID, body: WrapUp, at: datetime, *, settings: Settings
) -> WrappedUp:
    """The agent finishes the record: wrap-up code, notes, and a complaint or a callback taken
    on the call. The call is published as a contact on the customer's timeline, and the agent
    is offered the next call."""
    await calls_repository.lock_routing(session)
    call = await _call(session, call_id)
    move = move_for(call.status, CallAction.WRAP_UP)
    not_before(at, call.last_event_at, "call")
    if body.complaint is not None and call.customer_id is None:
        raise CallStateConflict(
            "complaint: the caller is not identified; record the complaint with the "
            "complainant's details at the complaints service",
            call_status=call.status,
            field="complaint",
        )
    leg = await calls_repository.current_leg(session, call.id)
    if call.released_at is None:
        _end_hold(call, at)
        call.released_at = leg.released_at = at
    leg.wrapped_at, leg.outcome = at, LegOutcome.ANSWERED
    call.status, call.ended_at, call.last_event_at = move.to, at, at
    call.wrap_up_code, call.notes, call.resolved = body.wrap_up_code, body.notes, body.resolved
    call.complaint_requested = body.complaint is not None
    agent = await routing.agent_on_floor(session, leg.agent_id or "", for_update=True)
    await record_events(session, _completed_events(call, agent, body, at=at))
    if body.callback is not None:
        call.callback_id = await _schedule_callback(
            session, call, body.callback, settings=settings, at=at
        )
    await routing.move_agent(session, agent, AgentState.AVAILABLE, at=at)
    return WrappedUp(call, await routing.offer_next(session, agent, at=at))
