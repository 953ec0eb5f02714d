"""What the customer service keeps of other services' events, so that the 360 view shows open
complaints and open opportunities without calling anyone on a channel's path, and the timeline
every case, closed ones too.

Per-customer order holds on the bus (the key is the customer id), so a closing event never
overtakes the one that opened; a complaint from a non-customer is not the view's concern."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.complaints import (
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintStepCompleted,
)
from contracts.opportunities import OpportunityClosed, OpportunityCreated, OpportunityUpdated
from services.customer.projections import CaseKind
from services.customer.timeline import repository as timeline_repository
from services.customer.view import repository as view_repository
from shared.consumer import Handlers
from shared.envelope import EventEnvelope

CLOSED_OPPORTUNITY = frozenset({"accepted", "declined", "expired"})


async def complaint_received(
    session: AsyncSession, event: ComplaintReceived, envelope: EventEnvelope
) -> None:
    if event.customer_id is None:
        return
    await view_repository.upsert_open_complaint(
        session,
        {
            "complaint_id": event.complaint_id,
            "customer_id": event.customer_id,
            "category": event.category,
            "priority": event.priority,
            "step": "record",
            "received_at": event.received_at,
            "due_at": event.due_at,
            "escalation_level": 0,
        },
    )
    await timeline_repository.open_case(
        session,
        {
            "case_id": event.complaint_id,
            "customer_id": event.customer_id,
            "kind": CaseKind.COMPLAINT,
            "channel": event.channel,
            "subject": event.category,
            "detail": event.priority,
            "opened_at": event.received_at,
        },
    )


async def complaint_step_completed(
    session: AsyncSession, event: ComplaintStepCompleted, envelope: EventEnvelope
) -> None:
    if event.customer_id is None or event.next_step is None:
        return
    await view_repository.update_open_complaint(
        session, event.complaint_id, step=event.next_step, due_at=event.due_at
    )


async def complaint_escalated(
    session: AsyncSession, event: ComplaintEscalated, envelope: EventEnvelope
) -> None:
    if event.customer_id is not None:
        await view_repository.update_open_complaint(
            session, event.complaint_id, escalation_level=event.level
        )


async def complaint_closed(
    session: AsyncSession, event: ComplaintClosed, envelope: EventEnvelope
) -> None:
    await view_repository.remove_open_complaint(session, event.complaint_id)
    await timeline_repository.set_case_status(
        session, event.complaint_id, event.outcome, closed_at=event.closed_at
    )


async def opportunity_created(
    session: AsyncSession, event: OpportunityCreated, envelope: EventEnvelope
) -> None:
    await view_repository.upsert_open_opportunity(
        session,
        {
            "opportunity_id": event.opportunity_id,
            "customer_id": event.customer_id,
            "action": event.action,
            "product": event.product,
            "priority": event.priority,
            "status": "open",
            "owner": event.owner,
            "owner_id": event.owner_id,
            "due_at": event.due_at,
            "expires_at": event.expires_at,
        },
    )
    # The event carries no creation time of its own: the moment it was published is it.
    await timeline_repository.open_case(
        session,
        {
            "case_id": event.opportunity_id,
            "customer_id": event.customer_id,
            "kind": CaseKind.OPPORTUNITY,
            "channel": event.channel,
            "subject": event.action,
            "detail": event.product,
            "opened_at": envelope.time,
        },
    )


async def opportunity_updated(
    session: AsyncSession, event: OpportunityUpdated, envelope: EventEnvelope
) -> None:
    closed = event.status in CLOSED_OPPORTUNITY
    await timeline_repository.set_case_status(
        session, event.opportunity_id, event.status, closed_at=event.updated_at if closed else None
    )
    if closed:
        await view_repository.remove_open_opportunity(session, event.opportunity_id)
    else:
        await view_repository.update_open_opportunity(
            session, event.opportunity_id, status=event.status
        )


async def opportunity_closed(
    session: AsyncSession, event: OpportunityClosed, envelope: EventEnvelope
) -> None:
    await view_repository.remove_open_opportunity(session, event.opportunity_id)
    await timeline_repository.set_case_status(
        session, event.opportunity_id, event.status, closed_at=event.closed_at
    )


HANDLERS: Handlers = {
    ComplaintReceived: complaint_received,
    ComplaintStepCompleted: complaint_step_completed,
    ComplaintEscalated: complaint_escalated,
    ComplaintClosed: complaint_closed,
    OpportunityCreated: opportunity_created,
    OpportunityUpdated: opportunity_updated,
    OpportunityClosed: opportunity_closed,
}
