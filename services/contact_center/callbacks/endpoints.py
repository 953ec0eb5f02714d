"""The contact centre's HTTP API for callbacks under ``/v1``. Parse, call the service, shape
the answer."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.contact_center.callbacks import repository as callbacks_repository
from services.contact_center.callbacks import service
from services.contact_center.callbacks.schemas import CallbackAttempt, CallbackCreate, CallbackRead
from services.contact_center.dependencies import CustomerClientDep, SettingsDep, reported_at
from services.contact_center.errors import CallbackNotFound
from services.contact_center.known_customers.service import check_known
from services.contact_center.models import Callback, CallbackStatus
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.masking import mask_phone
from shared.periods import Moment, end_of
from shared.problems import get_or_404

router = APIRouter(prefix="/v1")

Limit = Annotated[int, Query(ge=1, le=500)]


def _callback_read(callback: Callback) -> CallbackRead:
    read = CallbackRead.model_validate(callback, from_attributes=True)
    return read.model_copy(update={"phone_number": mask_phone(callback.phone_number)})


@router.post(
    "/callbacks",
    status_code=status.HTTP_201_CREATED,
    response_model=CallbackRead,
    tags=["callbacks"],
)
async def schedule_callback(
    body: CallbackCreate,
    session: SessionDep,
    settings: SettingsDep,
    customers: CustomerClientDep,
    key: IdempotencyKey = None,
) -> Response:
    """A customer asks to be called back (web, app, IVR "call me back" option). A
    ``customer_id`` that names no customer is a 422."""
    if body.customer_id is not None:
        await check_known(session, body.customer_id, ask_customer_service=customers.exists)

    async def schedule() -> tuple[CallbackRead, dict[str, str]]:
        callback = await service.schedule_callback(
            session, body, call_id=None, settings=settings, now=datetime.now(UTC)
        )
        return _callback_read(callback), {"Location": f"/v1/callbacks/{callback.id}"}

    return await answer_once(
        session,
        key=key,
        scope="POST /v1/callbacks",
        request_body=body,
        status_code=status.HTTP_201_CREATED,
        produce=schedule,
    )


@router.get("/callbacks", tags=["callbacks"])
async def list_callbacks(
    session: SessionDep,
    settings: SettingsDep,
    status_: Annotated[CallbackStatus | None, Query(alias="status")] = None,
    due_by: Moment | None = None,
    limit: Limit = 100,
) -> list[CallbackRead]:
    """Callbacks by when they are next due; ``status=scheduled&due_by=<now>`` is the work (a
    date alone: due by the end of that day)."""
    until = end_of(due_by, settings.bank_zone) if due_by is not None else None
    found = await callbacks_repository.callbacks(session, status=status_, due_by=until, limit=limit)
    return [_callback_read(c) for c in found]


@router.get("/callbacks/{callback_id}", tags=["callbacks"])
async def read_callback(callback_id: uuid.UUID, session: SessionDep) -> CallbackRead:
    callback = await get_or_404(
        callbacks_repository.callback(session, callback_id),
        CallbackNotFound(f"no callback {callback_id}"),
    )
    return _callback_read(callback)


@router.post("/callbacks/{callback_id}/attempts", tags=["callbacks"])
async def attempt_callback(
    callback_id: uuid.UUID, body: CallbackAttempt, session: SessionDep, settings: SettingsDep
) -> CallbackRead:
    """The result of one try: reached completes it; after the last try it has failed."""
    at = reported_at(body, settings)
    callback = await service.attempt_callback(session, callback_id, body, at, settings=settings)
    return _callback_read(callback)


@router.post("/callbacks/{callback_id}/cancel", tags=["callbacks"])
async def cancel_callback(callback_id: uuid.UUID, session: SessionDep) -> CallbackRead:
    return _callback_read(await service.cancel_callback(session, callback_id))
