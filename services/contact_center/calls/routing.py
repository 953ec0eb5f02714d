"""Routing (ACD): which queue and priority a call gets, which agent is offered it, and the
agent's state as calls come and go.

Every routing decision runs under one advisory lock (``calls_repository.lock_routing``), so a
call arriving and an agent freeing up at the same moment always meet."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.agents import repository as agents_repository
from services.contact_center.calls import repository as calls_repository
from services.contact_center.calls.identification import Identification
from services.contact_center.calls.lifecycle import CallAction, move_for
from services.contact_center.calls.schemas import CallArrival
from services.contact_center.config import Settings
from services.contact_center.errors import AgentNotFound
from services.contact_center.models import Agent, AgentState, Call, CallLeg, Skill
from shared.problems import get_or_404


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


async def agent_on_floor(
    session: AsyncSession, agent_id: str, *, for_update: bool = False
) -> Agent:
    return await get_or_404(
        agents_repository.agent(session, agent_id, for_update=for_update),
        AgentNotFound(f"no agent {agent_id}", field="agent_id"),
    )


async def move_agent(
    session: AsyncSession,
    agent: Agent,
    state: AgentState,
    *,
    at: datetime,
    call_id: uuid.UUID | None = None,
    idle_since: datetime | None = None,
) -> None:
    if agent.state != state:
        await agents_repository.record_state_spell(session, agent.id, state, at)
        agent.state_since = at
    agent.state = state
    agent.current_call_id = call_id
    # Kept while the agent works: an offer the caller abandons gives the agent their old
    # place in the idle order back. Only read for available agents.
    if state is AgentState.AVAILABLE:
        agent.idle_since = idle_since or at


async def offer_next(session: AsyncSession, agent: Agent, *, at: datetime) -> Call | None:
    """The most urgent call waiting for the agent's skills, offered to them."""
    leg = await calls_repository.next_waiting_leg(session, agent.skills)
    if leg is None:
        return None
    call = await calls_repository.call(session, leg.call_id, for_update=True)
    assert call is not None
    await offer(session, call, leg, agent=agent, at=at)
    return call


async def offer(
    session: AsyncSession, call: Call, leg: CallLeg, *, agent: Agent, at: datetime
) -> None:
    # An agent freed at `at` may be offered a call that joined earlier: the offer is `at`.
    offered_at = max(at, leg.queued_at)
    leg.agent_id, leg.offered_at = agent.id, offered_at
    moved_to = move_for(call.status, CallAction.OFFER).to
    call.status, call.agent_id, call.last_event_at = moved_to, agent.id, offered_at
    await move_agent(session, agent, AgentState.ON_CALL, at=offered_at, call_id=call.id)
