"""The contact centre's HTTP API for inbound calls under ``/v1``: the arrival from the switch
and the desk's actions on a call. Parse, call the service, shape the answer."""

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from services.contact_center.calls import identification, screen_pop, service
from services.contact_center.calls import repository as calls_repository
from services.contact_center.calls.customer_client import CustomerClient
from services.contact_center.calls.identification import Identification, Lookup
from services.contact_center.calls.schemas import (
    AnswerCall,
    CallAfterWrapUp,
    CallAndNext,
    CallArrival,
    CallArrived,
    CallRead,
    Transfer,
    WrapUp,
)
from services.contact_center.calls.waiting import call_read, maybe_call_read
from services.contact_center.config import Settings
from services.contact_center.dependencies import (
    CustomerClientDep,
    EventsClientDep,
    SettingsDep,
    reported_at,
)
from services.contact_center.errors import CallNotFound
from services.contact_center.models import IdentifiedBy
from services.contact_center.schemas import Timed
from shared.auth.http import requires_scope
from shared.auth.roles import CALLS_OFFER
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.problems import get_or_404

router = APIRouter(prefix="/v1")

CallId = Annotated[uuid.UUID, Path(description="The call")]


async def _identify(
    arrival: CallArrival, session: SessionDep, settings: Settings, customers: CustomerClient
) -> Identification:
    found = await identification.identify(session, arrival, settings=settings)
    if not isinstance(found, Lookup):
        return found
    # Not in our projection (yet): ask the customer service once.
    answer = await customers.lookup(found)
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
    customers: CustomerClientDep,
    events: EventsClientDep,
    key: IdempotencyKey = None,
) -> Response:
    """A call arrives from the switch: identify the caller, queue the call by skill and tier,
    offer it to the longest-idle agent with the skill, and answer with the screen pop:
    agents offer from its ``next_best_actions``, the events service's ranking, first entry
    first (``open_opportunities`` lists the same opportunities unranked, for reference).
    ``Idempotency-Key`` (the switch's own call id) makes a retried arrival one call."""
    at = reported_at(body, settings)

    async def arrive() -> tuple[CallArrived, dict[str, str]]:
        identity = await _identify(body, session, settings, customers)
        # The view and the ranking are fetched together, before routing takes its lock, so a
        # slow customer or events service delays only this caller's pop (by the longer of the
        # two waits, not their sum), never the routing of anyone else's call.
        view, ranking = (
            await asyncio.gather(
                customers.view(identity.customer_id),
                events.next_best_actions(identity.customer_id, limit=settings.screen_pop_actions),
            )
            if identity.customer_id
            else (None, None)
        )
        call = await service.receive_call(session, body, identity, settings=settings, at=at)
        pop = screen_pop.screen_pop(identity, view, ranking, settings=settings)
        answer = CallArrived(call=await call_read(session, call, settings=settings), screen_pop=pop)
        return answer, {"Location": f"/v1/calls/{call.id}"}

    return await answer_once(
        session,
        key=key,
        scope="POST /v1/calls",
        request_body=body,
        status_code=status.HTTP_201_CREATED,
        produce=arrive,
    )


@router.get("/calls/{call_id}", tags=["calls"])
async def read_call(call_id: CallId, session: SessionDep, settings: SettingsDep) -> CallRead:
    """The call now: while it waits, its place in the queue and the estimated wait."""
    call = await get_or_404(
        calls_repository.call(session, call_id), CallNotFound(f"no call {call_id}")
    )
    return await call_read(session, call, settings=settings)


@router.post("/calls/{call_id}/answer", tags=["calls"])
async def answer_call(
    call_id: CallId, body: AnswerCall, session: SessionDep, settings: SettingsDep
) -> CallRead:
    """The agent the call is offered to picks it up."""
    call = await service.answer(session, call_id, body.agent_id, reported_at(body, settings))
    return await call_read(session, call, settings=settings)


@router.post("/calls/{call_id}/hold", tags=["calls"])
async def hold_call(
    call_id: CallId, session: SessionDep, settings: SettingsDep, body: Timed | None = None
) -> CallRead:
    call = await service.hold(session, call_id, reported_at(body, settings))
    return await call_read(session, call, settings=settings)


@router.post("/calls/{call_id}/resume", tags=["calls"])
async def resume_call(
    call_id: CallId, session: SessionDep, settings: SettingsDep, body: Timed | None = None
) -> CallRead:
    call = await service.resume(session, call_id, reported_at(body, settings))
    return await call_read(session, call, settings=settings)


@router.post("/calls/{call_id}/transfer", tags=["calls"])
async def transfer_call(
    call_id: CallId, body: Transfer, session: SessionDep, settings: SettingsDep
) -> CallAndNext:
    """Blind transfer to a queue (the call keeps its priority) or to an available agent."""
    call, next_call = await service.transfer(session, call_id, body, reported_at(body, settings))
    return CallAndNext(
        call=await call_read(session, call, settings=settings),
        next_call=await maybe_call_read(session, next_call, settings=settings),
    )


@router.post("/calls/{call_id}/hang-up", tags=["calls"])
async def hang_up(
    call_id: CallId, session: SessionDep, settings: SettingsDep, body: Timed | None = None
) -> CallAndNext:
    """The line closed. Before an agent answered, the call is abandoned; after, the agent
    goes to wrap-up."""
    call, next_call = await service.hang_up(session, call_id, reported_at(body, settings))
    return CallAndNext(
        call=await call_read(session, call, settings=settings),
        next_call=await maybe_call_read(session, next_call, settings=settings),
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
        call=await call_read(session, done.call, settings=settings),
        callback_id=done.call.callback_id,
        next_call=await maybe_call_read(session, done.next_call, settings=settings),
    )
