"""The contact centre's HTTP API for calls it makes: callbacks, the outbound call list and
the do-not-call register."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.contact_center import outbound, repository, views
from services.contact_center.dependencies import SettingsDep, reported_at
from services.contact_center.errors import CallbackNotFound
from services.contact_center.models import CallbackStatus, OutboundStatus
from services.contact_center.schemas import (
    CallbackAttempt,
    CallbackCreate,
    CallbackRead,
    CallList,
    DoNotCallRead,
    DoNotCallRequest,
    OutboundAttempt,
    OutboundEntryRead,
)
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.problems import NotFound

router = APIRouter(prefix="/v1")

Limit = Annotated[int, Query(ge=1, le=500)]


# --- Callbacks --------------------------------------------------------------------------------


@router.post(
    "/callbacks",
    status_code=status.HTTP_201_CREATED,
    response_model=CallbackRead,
    tags=["callbacks"],
)
async def schedule_callback(
    body: CallbackCreate, session: SessionDep, settings: SettingsDep, key: IdempotencyKey = None
) -> Response:
    """A customer asks to be called back (web, app, IVR "call me back" option)."""

    async def schedule() -> tuple[CallbackRead, dict[str, str]]:
        callback = await outbound.schedule_callback(
            session, body, call_id=None, settings=settings, now=datetime.now(UTC)
        )
        return views.callback_read(callback), {"Location": f"/v1/callbacks/{callback.id}"}

    return await answer_once(
        session, key=key, scope="POST /v1/callbacks", request_body=body,
        status_code=status.HTTP_201_CREATED, produce=schedule,
    )  # fmt: skip


@router.get("/callbacks", tags=["callbacks"])
async def list_callbacks(
    session: SessionDep,
    status_: Annotated[CallbackStatus | None, Query(alias="status")] = None,
    due_by: datetime | None = None,
    limit: Limit = 100,
) -> list[CallbackRead]:
    """Callbacks by when they are next due; ``status=scheduled&due_by=<now>`` is the work."""
    found = await repository.callbacks(session, status=status_, due_by=due_by, limit=limit)
    return [views.callback_read(c) for c in found]


@router.get("/callbacks/{callback_id}", tags=["callbacks"])
async def read_callback(callback_id: uuid.UUID, session: SessionDep) -> CallbackRead:
    callback = await repository.callback(session, callback_id)
    if callback is None:
        raise CallbackNotFound(f"no callback {callback_id}")
    return views.callback_read(callback)


@router.post("/callbacks/{callback_id}/attempts", tags=["callbacks"])
async def attempt_callback(
    callback_id: uuid.UUID, body: CallbackAttempt, session: SessionDep, settings: SettingsDep
) -> CallbackRead:
    """The result of one try: reached completes it; after the last try it has failed."""
    at = reported_at(body, settings)
    callback = await outbound.attempt_callback(session, callback_id, body, at, settings=settings)
    return views.callback_read(callback)


@router.post("/callbacks/{callback_id}/cancel", tags=["callbacks"])
async def cancel_callback(callback_id: uuid.UUID, session: SessionDep) -> CallbackRead:
    return views.callback_read(await outbound.cancel_callback(session, callback_id))


# --- The outbound call list -------------------------------------------------------------------


@router.get("/outbound/call-list", tags=["outbound"])
async def call_list(session: SessionDep, settings: SettingsDep, limit: Limit = 50) -> CallList:
    """Who to call now, by the opportunity's priority and then the earliest due: only
    customers with marketing consent for phone calls, not on the do-not-call register, with
    attempts left, within calling hours. Empty outside calling hours."""
    now = datetime.now(UTC)
    found = await outbound.call_list(session, now=now, settings=settings, limit=limit)
    return CallList(
        items=[await views.entry_read(session, e, now=now, settings=settings) for e in found],
        within_calling_hours=outbound.within_calling_hours(now, settings),
        calling_hours=outbound.calling_hours_text(settings),
    )


@router.get("/outbound/entries", tags=["outbound"])
async def list_entries(
    session: SessionDep,
    settings: SettingsDep,
    status_: Annotated[OutboundStatus | None, Query(alias="status")] = None,
    customer_id: uuid.UUID | None = None,
    limit: Limit = 100,
) -> list[OutboundEntryRead]:
    """Every entry, callable or not; ``blocked_by`` names the rule that stops a call now."""
    now = datetime.now(UTC)
    found = await repository.entries(session, status=status_, customer_id=customer_id, limit=limit)
    return [await views.entry_read(session, e, now=now, settings=settings) for e in found]


@router.get("/outbound/entries/{entry_id}", tags=["outbound"])
async def read_entry(
    entry_id: uuid.UUID, session: SessionDep, settings: SettingsDep
) -> OutboundEntryRead:
    found = await outbound.entry(session, entry_id)
    return await views.entry_read(session, found, now=datetime.now(UTC), settings=settings)


@router.post("/outbound/entries/{entry_id}/attempts", tags=["outbound"])
async def record_attempt(
    entry_id: uuid.UUID, body: OutboundAttempt, session: SessionDep, settings: SettingsDep
) -> OutboundEntryRead:
    """The result of one dial, published as ``outbound.attempted``. Refused with 409
    ``calling-rule`` when a calling rule forbids the call at that moment."""
    at = reported_at(body, settings)
    found = await outbound.record_attempt(session, entry_id, body, at, settings=settings)
    return await views.entry_read(session, found, now=at, settings=settings)


@router.put("/outbound/do-not-call/{customer_id}", tags=["outbound"])
async def add_do_not_call(
    customer_id: uuid.UUID, body: DoNotCallRequest, session: SessionDep
) -> DoNotCallRead:
    """The customer asked not to be called for sales; callbacks they ask for still happen."""
    now = datetime.now(UTC)
    await outbound.add_to_do_not_call(session, customer_id, body.reason, body.source, now=now)
    listed = await repository.do_not_call(session, customer_id)
    assert listed is not None
    return DoNotCallRead(
        customer_id=listed.customer_id, reason=listed.reason, source=listed.source,
        added_at=listed.added_at,
    )  # fmt: skip


@router.delete(
    "/outbound/do-not-call/{customer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["outbound"],
)
async def remove_do_not_call(customer_id: uuid.UUID, session: SessionDep) -> Response:
    if not await repository.remove_do_not_call(session, customer_id):
        raise NotFound(f"customer {customer_id} is not on the do-not-call register")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
