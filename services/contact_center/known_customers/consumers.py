"""Handlers of the customer events that keep the projection: registration, changes, and a
new value tier with its routing policy."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import CustomerRegistered, CustomerSegmentChanged, CustomerUpdated
from services.contact_center.known_customers import service as known_customers
from shared.consumer import Handlers
from shared.envelope import EventEnvelope

VALUE_TIER = "value_tier"


async def customer_registered(
    session: AsyncSession, event: CustomerRegistered, envelope: EventEnvelope
) -> None:
    await known_customers.note_customer(
        session,
        event.customer_id,
        at=envelope.time,
        identifiers=event.identifiers,
        consent=event.consent,
        status="active",
        value_tier=event.value_tier,
    )


async def customer_updated(
    session: AsyncSession, event: CustomerUpdated, envelope: EventEnvelope
) -> None:
    await known_customers.note_customer(
        session,
        event.customer_id,
        at=envelope.time,
        identifiers=event.identifiers,
        consent=event.consent,
        status=event.status,
    )


async def segment_changed(
    session: AsyncSession, event: CustomerSegmentChanged, envelope: EventEnvelope
) -> None:
    if event.dimension == VALUE_TIER:
        await known_customers.note_tier(
            session, event.customer_id, event.current, event.policy, at=envelope.time
        )


HANDLERS: Handlers = {
    CustomerRegistered: customer_registered,
    CustomerUpdated: customer_updated,
    CustomerSegmentChanged: segment_changed,
}
