"""Handlers of the events the complaints service consumes: what it keeps of the customers
(their value tier sets a complaint's priority; a downgrade or a closing after a complaint is a
customer the bank may have lost; an erased customer's contact details go), and the complaints
agents take on calls."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.contact_center import CallEnded
from contracts.customer import (
    CustomerErased,
    CustomerRegistered,
    CustomerSegmentChanged,
    CustomerUpdated,
)
from services.complaints import erasure
from services.complaints.config import Settings
from services.complaints.models import ComplaintChannel
from services.complaints.receiving import receive_complaint
from services.complaints.repository import complaints as complaints_repository
from services.complaints.schemas import ComplaintCreate
from shared.consumer import Handler, Handlers
from shared.envelope import EventEnvelope

VALUE_TIER = "value_tier"
CLOSED = "closed"


async def customer_registered(
    session: AsyncSession, event: CustomerRegistered, envelope: EventEnvelope
) -> None:
    await complaints_repository.note_customer_tier(session, event.customer_id, event.value_tier)


async def segment_changed(
    session: AsyncSession, event: CustomerSegmentChanged, envelope: EventEnvelope
) -> None:
    if event.dimension != VALUE_TIER:
        return
    downgraded_at = event.effective_at if event.direction == "downgrade" else None
    await complaints_repository.note_customer_tier(
        session, event.customer_id, event.current, downgraded_at=downgraded_at
    )


async def customer_updated(
    session: AsyncSession, event: CustomerUpdated, envelope: EventEnvelope
) -> None:
    if event.status == CLOSED:
        await complaints_repository.note_customer_closed(session, event.customer_id, envelope.time)


async def customer_erased(
    session: AsyncSession, event: CustomerErased, envelope: EventEnvelope
) -> None:
    await erasure.erase_customer(session, event.customer_id)


def _complaint_from_call(settings: Settings) -> Handler:
    async def open_case(session: AsyncSession, event: CallEnded, envelope: EventEnvelope) -> None:
        if event.complaint is None or event.customer_id is None:
            return
        body = ComplaintCreate(
            customer_id=event.customer_id,
            channel=ComplaintChannel.PHONE,
            category=event.complaint.category,
            description=event.complaint.description,
            call_id=str(event.call_id),
            received_at=event.ended_at,
        )
        await receive_complaint(session, body, settings=settings, now=datetime.now(UTC))

    return open_case


def build_handlers(settings: Settings) -> Handlers:
    return {
        CustomerRegistered: customer_registered,
        CustomerSegmentChanged: segment_changed,
        CustomerUpdated: customer_updated,
        CustomerErased: customer_erased,
        CallEnded: _complaint_from_call(settings),
    }
