"""Handlers of the events the complaints service consumes: what it keeps of the customers
(their value tier sets a complaint's priority; a downgrade or a closing after a complaint is a
customer the bank may have lost)."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints import repository
from services.customer.events import CustomerRegistered, CustomerSegmentChanged, CustomerUpdated
from shared.consumer import Handlers
from shared.envelope import EventEnvelope

VALUE_TIER = "value_tier"
CLOSED = "closed"


async def customer_registered(
    session: AsyncSession, event: CustomerRegistered, envelope: EventEnvelope
) -> None:
    await repository.note_customer_tier(session, event.customer_id, event.value_tier)


async def segment_changed(
    session: AsyncSession, event: CustomerSegmentChanged, envelope: EventEnvelope
) -> None:
    if event.dimension != VALUE_TIER:
        return
    downgraded_at = event.effective_at if event.direction == "downgrade" else None
    await repository.note_customer_tier(
        session, event.customer_id, event.current, downgraded_at=downgraded_at
    )


async def customer_updated(
    session: AsyncSession, event: CustomerUpdated, envelope: EventEnvelope
) -> None:
    if event.status == CLOSED:
        await repository.note_customer_closed(session, event.customer_id, envelope.time)


HANDLERS: Handlers = {
    CustomerRegistered: customer_registered,
    CustomerSegmentChanged: segment_changed,
    CustomerUpdated: customer_updated,
}
