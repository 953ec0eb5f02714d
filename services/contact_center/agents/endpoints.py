"""The contact centre's HTTP API for the agents under ``/v1``. Parse, call the service, shape
the answer."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from services.contact_center.agents import repository as agents_repository
from services.contact_center.agents import service
from services.contact_center.agents.schemas import (
    AgentAfterChange,
    AgentCreate,
    AgentRead,
    AgentStateChange,
)
from services.contact_center.calls.waiting import maybe_call_read
from services.contact_center.dependencies import SettingsDep, reported_at
from services.contact_center.errors import AgentNotFound
from services.contact_center.models import Agent, AgentState
from shared.auth.http import requires_scope
from shared.auth.roles import AGENTS_STATE
from shared.http import SessionDep
from shared.problems import get_or_404

router = APIRouter(prefix="/v1")

AgentPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_]{1,29}$")]


def _agent_read(agent: Agent) -> AgentRead:
    read = AgentRead.model_validate(agent, from_attributes=True)
    # When an agent went idle means something only while they are available.
    if agent.state != AgentState.AVAILABLE:
        return read.model_copy(update={"idle_since": None})
    return read


@router.post("/agents", status_code=status.HTTP_201_CREATED, tags=["agents"])
async def add_agent(body: AgentCreate, session: SessionDep, settings: SettingsDep) -> AgentRead:
    """An agent joins the floor, signed out until they say they are available."""
    return _agent_read(await service.add_agent(session, body, now=reported_at(body, settings)))


@router.get("/agents", tags=["agents"])
async def list_agents(session: SessionDep, state: AgentState | None = None) -> list[AgentRead]:
    return [_agent_read(a) for a in await agents_repository.agents(session, state=state)]


@router.get("/agents/{agent_id}", tags=["agents"])
async def read_agent(agent_id: AgentPath, session: SessionDep) -> AgentRead:
    agent = await get_or_404(
        agents_repository.agent(session, agent_id), AgentNotFound(f"no agent {agent_id}")
    )
    return _agent_read(agent)


@router.put("/agents/{agent_id}/state", tags=["agents"], openapi_extra=requires_scope(AGENTS_STATE))
async def set_agent_state(
    agent_id: AgentPath, body: AgentStateChange, session: SessionDep, settings: SettingsDep
) -> AgentAfterChange:
    """Available, on a break or signed out. An agent becoming available is offered the most
    urgent waiting call for their skills at once."""
    agent, offered = await service.set_agent_state(
        session, agent_id, body.state, reported_at(body, settings)
    )
    return AgentAfterChange(
        agent=_agent_read(agent),
        offered_call=await maybe_call_read(session, offered, settings=settings),
    )
