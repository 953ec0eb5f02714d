"""The contact centre's HTTP API under ``/v1``: inbound calls, agents, queues, statistics.
Parse, call the service, shape the answer."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from services.contact_center import identification, repository, service, statistics, views
from services.contact_center.config import Settings
from services.contact_center.dependencies import DirectoryDep, SettingsDep, reported_at
from services.contact_center.directory import CustomerDirectory
from services.contact_center.errors import AgentNotFound, CallNotFound
from services.contact_center.identification import Identification, Lookup
from services.contact_center.models import AgentState, IdentifiedBy
from services.contact_center.schemas import (
    AgentAfterChange,
    AgentCreate,
    AgentRead,
    AgentStateChange,
    AnswerCall,
    CallAfterWrapUp,
    CallAndNext,
    CallArrival,
    CallArrived,
    CallRead,
    LiveStats,
    QueueRead,
    StatsReport,
    Timed,
    Transfer,
    WrapUp,
)
from shared.auth.http import requires_scope
from shared.auth.roles import AGENTS_STATE, CALLS_OFFER
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.problems import ProblemError

router = APIRouter(prefix="/v1")

CallId = Annotated[uuid.UUID, Path(description="The call")]
AgentPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_]{1,29}$")]
MAX_STATS_DAYS = 92


async def _identify(
    arrival: CallArrival, session: SessionDep, settings: Settings, directory: CustomerDirectory
) -> Identification:
    found = await identification.identify(session, arrival, settings=settings)
    if not isinstance(found, Lookup):
        return found
    # Not in our projection (yet): ask the customer service once.
    answer = await directory.lookup(found)
    if answer is None:
        return identification.UNKNOWN
    customer_id, tier = answer
    how = IdentifiedBy.VERIFIED_IDENTITY if found.verified else IdentifiedBy.CUSTOMER_SERVICE_LOOKUP
    return await identification.known(session, customer_id, how, value_tier=tier)


@router.post(
    "/calls",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=requires_scope(CALLS_OFFER),
    response_model=CallArrived,
    tags=["calls"],
)
async def receive_call(
    body: CallArrival,
    session: SessionDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    key: IdempotencyKey = None,
) -> Response:
    """A call arrives from the switch: identify the caller, queue the call by skill and tier,
    offer it to the longest-idle agent with the skill, and answer with the screen pop.
    ``Idempotency-Key`` (the switch's own call id) makes a retried arrival one call."""
    at = reported_at(body, settings)

    async def arrive() -> tuple[CallArrived, dict[str, str]]:
        identity = await _identify(body, session, settings, directory)
        # The view is fetched before routing takes its lock, so a slow customer service
        # delays only this caller's pop, never the routing of anyone else's call.
        view = await directory.view(identity.customer_id) if identity.customer_id else None
        call = await service.receive_call(session, body, identity, settings=settings, at=at)
        pop = views.screen_pop(identity, view, settings=settings)
        answer = CallArrived(
            call=await views.call_read(session, call, settings=settings), screen_pop=pop
        )
        return answer, {"Location": f"/v1/calls/{call.id}"}

    return await answer_once(
        session, key=key, scope="POST /v1/calls", request_body=body,
        status_code=status.HTTP_201_CREATED, produce=arrive,
    )  # fmt: skip


@router.get("/calls/{call_id}", tags=["calls"])
async def read_call(call_id: CallId, session: SessionDep, settings: SettingsDep) -> CallRead:
    """The call now: while it waits, its place in the queue and the estimated wait."""
    call = await repository.call(session, call_id)
    if call is None:
        raise CallNotFound(f"no call {call_id}")
    return await views.call_read(session, call, settings=settings)


@router.post("/calls/{call_id}/answer", tags=["calls"])
async def answer_call(
    call_id: CallId, body: AnswerCall, session: SessionDep, settings: SettingsDep
) -> CallRead:
    """The agent the call is offered to picks it up."""
    call = await service.answer(session, call_id, body.agent_id, reported_at(body, settings))
    return await views.call_read(session, call, settings=settings)


@router.post("/calls/{call_id}/hold", tags=["calls"])
async def hold_call(
    call_id: CallId, session: SessionDep, settings: SettingsDep, body: Timed | None = None
) -> CallRead:
    call = await service.hold(session, call_id, reported_at(body, settings))
    return await views.call_read(session, call, settings=settings)


@router.post("/calls/{call_id}/resume", tags=["calls"])
async def resume_call(
    call_id: CallId, session: SessionDep, settings: SettingsDep, body: Timed | None = None
) -> CallRead:
    call = await service.resume(session, call_id, reported_at(body, settings))
    return await views.call_read(session, call, settings=settings)


@router.post("/calls/{call_id}/transfer", tags=["calls"])
async def transfer_call(
    call_id: CallId, body: Transfer, session: SessionDep, settings: SettingsDep
) -> CallAndNext:
    """Blind transfer to a queue (the call keeps its priority) or to an available agent."""
    call, next_call = await service.transfer(session, call_id, body, reported_at(body, settings))
    return CallAndNext(
        call=await views.call_read(session, call, settings=settings),
        next_call=await views.maybe_call_read(session, next_call, settings=settings),
    )


@router.post("/calls/{call_id}/hang-up", tags=["calls"])
async def hang_up(
    call_id: CallId, session: SessionDep, settings: SettingsDep, body: Timed | None = None
) -> CallAndNext:
    """The line closed. Before an agent answered, the call is abandoned; after, the agent
    goes to wrap-up."""
    call, next_call = await service.hang_up(session, call_id, reported_at(body, settings))
    return CallAndNext(
        call=await views.call_read(session, call, settings=settings),
        next_call=await views.maybe_call_read(session, next_call, settings=settings),
    )


@router.post("/calls/{call_id}/wrap-up", tags=["calls"])
async def wrap_up(
    call_id: CallId, body: WrapUp, session: SessionDep, settings: SettingsDep
) -> CallAfterWrapUp:
    """Finish the call's record: a wrap-up code, notes, and a complaint or a callback taken on
    the call. A complaint is opened by the complaints service from the ``call.ended`` event."""
    done = await service.wrap_up(
        session, call_id, body, reported_at(body, settings), settings=settings
    )
    return CallAfterWrapUp(
        call=await views.call_read(session, done.call, settings=settings),
        callback_id=done.call.callback_id,
        next_call=await views.maybe_call_read(session, done.next_call, settings=settings),
    )


# --- Agents and queues ------------------------------------------------------------------------


@router.post("/agents", status_code=status.HTTP_201_CREATED, tags=["agents"])
async def add_agent(body: AgentCreate, session: SessionDep, settings: SettingsDep) -> AgentRead:
    """An agent joins the floor, signed out until they say they are available."""
    return views.agent_read(await service.add_agent(session, body, now=reported_at(body, settings)))


@router.get("/agents", tags=["agents"])
async def list_agents(session: SessionDep, state: AgentState | None = None) -> list[AgentRead]:
    return [views.agent_read(a) for a in await repository.agents(session, state=state)]


@router.get("/agents/{agent_id}", tags=["agents"])
async def read_agent(agent_id: AgentPath, session: SessionDep) -> AgentRead:
    agent = await repository.agent(session, agent_id)
    if agent is None:
        raise AgentNotFound(f"no agent {agent_id}")
    return views.agent_read(agent)


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
        agent=views.agent_read(agent),
        offered_call=await views.maybe_call_read(session, offered, settings=settings),
    )


@router.get("/queues", tags=["queues"])
async def list_queues(session: SessionDep, settings: SettingsDep) -> list[QueueRead]:
    """Each queue now: calls waiting, the longest wait, agents, and the wait a new caller
    can expect."""
    return await views.queues(session, now=datetime.now(UTC), settings=settings)


# --- Statistics -------------------------------------------------------------------------------


@router.get("/stats", tags=["statistics"])
async def stats(
    session: SessionDep,
    settings: SettingsDep,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    bucket_minutes: Annotated[int | None, Query(ge=1, le=1440)] = None,
) -> StatsReport:
    """Service level, speed of answer, handle time, abandonment, first-contact resolution and
    occupancy per queue and per agent over a period (the last 24 hours by default), and per
    interval of ``bucket_minutes``."""
    now = datetime.now(UTC)
    end = to or now
    start = from_ or end - timedelta(days=1)
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise ProblemError(f"{name}: give a time zone", field=name)
    if start >= end:
        raise ProblemError("from must be before to", field="from")
    if end - start > timedelta(days=MAX_STATS_DAYS):
        raise ProblemError(f"the period is at most {MAX_STATS_DAYS} days", field="from")
    return await statistics.report(
        session, start, end, now=now, settings=settings, bucket_minutes=bucket_minutes
    )


@router.get("/stats/live", tags=["statistics"])
async def live_stats(session: SessionDep, settings: SettingsDep) -> LiveStats:
    now = datetime.now(UTC)
    return LiveStats(
        at=now,
        queues=await views.queues(session, now=now, settings=settings),
        agents_by_state=await repository.agent_counts_by_state(session),
    )
