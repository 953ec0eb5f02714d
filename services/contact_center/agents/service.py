"""The agents' own rules: an agent joins the floor signed out, and sets themselves available,
on a break or signed out; the other states follow from the calls they take. No HTTP, no
Kafka, no commit."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.agents import repository as agents_repository
from services.contact_center.agents.schemas import AgentCreate
from services.contact_center.calls import repository as calls_repository
from services.contact_center.calls import routing
from services.contact_center.errors import AgentBusy, AgentExists
from services.contact_center.models import SELF_SET_STATES, Agent, AgentState, Call
from services.contact_center.reported_time import not_before


async def add_agent(session: AsyncSession, body: AgentCreate, *, now: datetime) -> Agent:
    added = await agents_repository.add_agent(
        session,
        {
            "id": body.id,
            "name": body.name,
            "skills": [str(s) for s in body.skills],
            "state": AgentState.OFFLINE,
            "state_since": now,
            "idle_since": None,
            "current_call_id": None,
            "created_at": now,
        },
    )
    if not added:
        raise AgentExists(f"agent {body.id} exists", field="id")
    await agents_repository.record_state_spell(session, body.id, AgentState.OFFLINE, now)
    return await routing.agent_on_floor(session, body.id)


async def set_agent_state(
    session: AsyncSession, agent_id: str, state: str, at: datetime
) -> tuple[Agent, Call | None]:
    """An agent signs in, takes a break or signs out; on becoming available they are offered
    the most urgent call waiting for their skills."""
    await calls_repository.lock_routing(session)
    agent = await routing.agent_on_floor(session, agent_id, for_update=True)
    if AgentState(agent.state) not in SELF_SET_STATES:
        raise AgentBusy(
            f"agent {agent_id} is {agent.state}; finish the call first", state=agent.state
        )
    not_before(at, agent.state_since, "agent")
    target = AgentState(state)
    if target is AgentState(agent.state):
        return agent, None
    await routing.move_agent(session, agent, target, at=at)
    if target is AgentState.AVAILABLE:
        return agent, await routing.offer_next(session, agent, at=at)
    return agent, None
