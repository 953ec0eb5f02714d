"""The contact centre's HTTP API for the calls it makes under ``/v1``: the outbound call list
and the do-not-call register. Parse, call the service, shape the answer."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.config import Settings
from services.contact_center.dependencies import EventsClientDep, SettingsDep, reported_at
from services.contact_center.models import OutboundEntry, OutboundStatus
from services.contact_center.outbound import repository as outbound_repository
from services.contact_center.outbound import service
from services.contact_center.outbound.schemas import (
    CallList,
    CallListEntry,
    DoNotCallRead,
    DoNotCallRequest,
    OutboundAttempt,
    OutboundEntryRead,
)
from shared.http import SessionDep
from shared.problems import NotFound

router = APIRouter(prefix="/v1")

Limit = Annotated[int, Query(ge=1, le=500)]


async def _entry_read(
    session: AsyncSession, entry: OutboundEntry, *, now: datetime, settings: Settings
) -> OutboundEntryRead:
    return OutboundEntryRead(
        id=entry.id,
        opportunity_id=entry.opportunity_id,
        customer_id=entry.customer_id,
        rule_id=entry.rule_id,
        action=entry.action,
        product=entry.product,
        priority=entry.priority,
        facts=entry.facts,
        script=settings.script_for(entry.action, entry.product),
        due_at=entry.due_at,
        expires_at=entry.expires_at,
        status=entry.status,
        attempts=entry.attempts,
        next_attempt_at=entry.next_attempt_at,
        last_result=entry.last_result,
        withdrawn_reason=entry.withdrawn_reason,
        blocked_by=await service.rules_for(session, entry, now=now, settings=settings),
    )


@router.get("/outbound/call-list", tags=["outbound"])
async def call_list(
    session: SessionDep, settings: SettingsDep, events: EventsClientDep, limit: Limit = 50
) -> CallList:
    """Who to call now, in the order of the events service's next-best-action ranking (the
    one the screen pop shows): service recovery first, then the expected value. Only
    customers with marketing consent for phone calls, not on the do-not-call register, with
    attempts left, within calling hours, and nothing the ranking withholds. Empty outside
    calling hours; by the opportunity's priority when the ranking cannot be had
    (``ordered_by``, ``degraded``)."""
    now = datetime.now(UTC)
    found = await service.call_list(session, now=now, settings=settings, limit=limit, events=events)
    items = [
        CallListEntry(
            **(await _entry_read(session, c.entry, now=now, settings=settings)).model_dump(),
            expected_value=c.expected_value,
        )
        for c in found.items
    ]
    return CallList(
        items=items,
        ordered_by=found.ordered_by,
        degraded=found.degraded,
        within_calling_hours=service.within_calling_hours(now, settings),
        calling_hours=service.calling_hours_text(settings),
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
    found = await outbound_repository.entries(
        session, status=status_, customer_id=customer_id, limit=limit
    )
    return [await _entry_read(session, e, now=now, settings=settings) for e in found]


@router.get("/outbound/entries/{entry_id}", tags=["outbound"])
async def read_entry(
    entry_id: uuid.UUID, session: SessionDep, settings: SettingsDep
) -> OutboundEntryRead:
    found = await service.entry(session, entry_id)
    return await _entry_read(session, found, now=datetime.now(UTC), settings=settings)


@router.post("/outbound/entries/{entry_id}/attempts", tags=["outbound"])
async def record_attempt(
    entry_id: uuid.UUID, body: OutboundAttempt, session: SessionDep, settings: SettingsDep
) -> OutboundEntryRead:
    """The result of one dial, published as ``outbound.attempted``. Refused with 409
    ``calling-rule`` when a calling rule forbids the call at that moment."""
    at = reported_at(body, settings)
    found = await service.record_attempt(session, entry_id, body, at, settings=settings)
    return await _entry_read(session, found, now=at, settings=settings)


@router.put("/outbound/do-not-call/{customer_id}", tags=["outbound"])
async def add_do_not_call(
    customer_id: uuid.UUID, body: DoNotCallRequest, session: SessionDep
) -> DoNotCallRead:
    """The customer asked not to be called for sales; callbacks they ask for still happen."""
    now = datetime.now(UTC)
    await service.add_to_do_not_call(session, customer_id, body.reason, body.source, now=now)
    listed = await outbound_repository.do_not_call(session, customer_id)
    assert listed is not None
    return DoNotCallRead.model_validate(listed, from_attributes=True)


@router.delete(
    "/outbound/do-not-call/{customer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["outbound"],
)
async def remove_do_not_call(customer_id: uuid.UUID, session: SessionDep) -> Response:
    if not await outbound_repository.remove_do_not_call(session, customer_id):
        raise NotFound(f"customer {customer_id} is not on the do-not-call register")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
