"""Handlers of ``crm.opportunities.v1``: the opportunities the contact centre is to call about
join the call list, and leave it when the detector closes them."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.opportunities import OpportunityClosed, OpportunityCreated, OpportunityUpdated
from services.contact_center.outbound import service as outbound
from shared.consumer import Handlers
from shared.envelope import EventEnvelope


async def opportunity_created(
    session: AsyncSession, event: OpportunityCreated, envelope: EventEnvelope
) -> None:
    await outbound.note_opportunity(session, event, now=envelope.time)


async def opportunity_changed(
    session: AsyncSession, event: OpportunityUpdated | OpportunityClosed, envelope: EventEnvelope
) -> None:
    await outbound.note_opportunity_status(
        session, event.opportunity_id, event.status, event.outcome
    )


HANDLERS: Handlers = {
    OpportunityCreated: opportunity_created,
    OpportunityUpdated: opportunity_changed,
    OpportunityClosed: opportunity_changed,
}
