"""Callbacks: a call the customer asked for (from the web, the app, the IVR or an agent on a
call), scheduled and tried until reached. No HTTP, no Kafka, no commit."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.contact_center import CallbackScheduled
from contracts.customer import InteractionRecorded
from services.contact_center.callbacks import repository as callbacks_repository
from services.contact_center.callbacks.schemas import CallbackAttempt, CallbackCreate
from services.contact_center.config import Settings
from services.contact_center.errors import CallbackNotFound, CallingRuleRefused
from services.contact_center.models import Callback, CallbackStatus
from shared.outbox import record_event
from shared.problems import get_or_404


async def schedule_callback(
    session: AsyncSession,
    body: CallbackCreate,
    *,
    call_id: uuid.UUID | None,
    settings: Settings,
    now: datetime,
) -> Callback:
    callback = Callback(
        id=uuid.uuid4(),
        customer_id=body.customer_id,
        call_id=call_id,
        phone_number=body.phone_number,
        requested_for=body.requested_for,
        next_attempt_at=body.requested_for,
        queue=body.queue,
        agent_id=body.agent_id,
        note=body.note,
        attempts=0,
        max_attempts=settings.max_call_attempts,
        status=CallbackStatus.SCHEDULED,
        last_result=None,
        created_at=now,
    )
    session.add(callback)
    await record_event(
        session,
        CallbackScheduled(
            callback_id=callback.id,
            customer_id=body.customer_id,
            call_id=call_id,
            queue=str(body.queue),
            agent_id=body.agent_id,
            requested_for=body.requested_for,
        ),
    )
    return callback


async def _callback(session: AsyncSession, callback_id: uuid.UUID) -> Callback:
    return await get_or_404(
        callbacks_repository.callback(session, callback_id, for_update=True),
        CallbackNotFound(f"no callback {callback_id}"),
    )


def _callback_open(callback: Callback) -> None:
    if callback.status != CallbackStatus.SCHEDULED:
        raise CallingRuleRefused(f"the callback is {callback.status}", rule=callback.status)


async def attempt_callback(
    session: AsyncSession,
    callback_id: uuid.UUID,
    body: CallbackAttempt,
    at: datetime,
    *,
    settings: Settings,
) -> Callback:
    """The customer asked for this call, so marketing consent and calling hours do not apply;
    only the attempts are limited."""
    callback = await _callback(session, callback_id)
    _callback_open(callback)
    callback.attempts += 1
    callback.last_result = body.result
    if body.result == "reached":
        callback.status = CallbackStatus.COMPLETED
    elif body.result == "wrong_number" or callback.attempts >= callback.max_attempts:
        callback.status = CallbackStatus.FAILED
    else:
        callback.next_attempt_at = at + timedelta(minutes=settings.retry_after_minutes)
    if body.result == "reached" and callback.customer_id is not None:
        await record_event(
            session,
            InteractionRecorded(
                customer_id=callback.customer_id,
                interaction_id=uuid.uuid4(),
                channel="phone",
                kind="callback",
                occurred_at=at,
            ),
        )
    return callback


async def cancel_callback(session: AsyncSession, callback_id: uuid.UUID) -> Callback:
    callback = await _callback(session, callback_id)
    _callback_open(callback)
    callback.status = CallbackStatus.CANCELLED
    return callback
