"""Handlers of the events the contact centre consumes: the customers (identifier digests, the
tier and its routing policy, consent, their erasure) and the opportunities it is to call
about."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import (
    CustomerErased,
    CustomerRegistered,
    CustomerSegmentChanged,
    CustomerUpdated,
)
from contracts.opportunities import OpportunityClosed, OpportunityCreated, OpportunityUpdated
from services.contact_center import erasure, identification, outbound
from shared.consumer import Handlers
from shared.envelope import EventEnvelope

VALUE_TIER = "value_tier"


async def customer_registered(
    session: AsyncSession, event: CustomerRegistered, envelope: EventEnvelope
) -> None:
    await identification.note_customer(
        session, event.customer_id, at=envelope.time, identifiers=event.identifiers,
        consent=event.consent, status="active", value_tier=event.value_tier,
    )  # fmt: skip


async def customer_updated(
    session: AsyncSession, event: CustomerUpdated, envelope: EventEnvelope
) -> None:
    await identification.note_customer(
        session, event.customer_id, at=envelope.time, identifiers=event.identifiers,
        consent=event.consent, status=event.status,
    )  # fmt: skip


async def customer_erased(
    session: AsyncSession, event: CustomerErased, envelope: EventEnvelope
) -> None:
    await erasure.erase_customer(
        session, event.customer_id, reference=event.request_reference, at=event.erased_at
    )


async def segment_changed(
    session: AsyncSession, event: CustomerSegmentChanged, envelope: EventEnvelope
) -> None:
    if event.dimension == VALUE_TIER:
        await identification.note_tier(
            session, event.customer_id, event.current, event.policy, at=envelope.time
        )


async def opportunity_created(
    session: AsyncSession, event: OpportunityCreated, envelope: EventEnvelope
) -> None:
    await outbound.note_opportunity(session, event, now=envelope.time)


async def opportunity_changed(
    session: AsyncSession, event: OpportunityUpdated | OpportunityClosed, envelope: EventEnvelope
) -> None:
    await outbound.note_opportunity_status(session, event.opportunity_id, event.status)


HANDLERS: Handlers = {
    CustomerRegistered: customer_registered,
    CustomerUpdated: customer_updated,
    CustomerErased: customer_erased,
    CustomerSegmentChanged: segment_changed,
    OpportunityCreated: opportunity_created,
    OpportunityUpdated: opportunity_changed,
    OpportunityClosed: opportunity_changed,
}
