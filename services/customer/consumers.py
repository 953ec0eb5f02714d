"""Handlers of the events the customer service consumes.

The service consumes its own transaction and account events to keep segments current: ingest
answers at once, and valuation follows within moments, in order per customer. Contacts the
contact centre records arrive as ``interaction.recorded`` and join the customer's timeline;
complaints and opportunities are kept as projections for the 360 view.

Handlers need the service's settings (thresholds, policies), so the map is built per app."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.events import (
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintStepCompleted,
)
from services.customer import projections, service
from services.customer.config import Settings
from services.customer.events import (
    AccountClosed,
    AccountOpened,
    InteractionRecorded,
    TransactionPosted,
)
from services.customer.schemas import InteractionCreate
from services.customer.valuation import revalue_customer
from services.events.events import OpportunityClosed, OpportunityCreated, OpportunityUpdated
from shared.consumer import Handler, Handlers
from shared.envelope import EventEnvelope


def _revalue(settings: Settings) -> Handler:
    async def revalue(
        session: AsyncSession,
        event: TransactionPosted | AccountOpened | AccountClosed,
        envelope: EventEnvelope,
    ) -> None:
        await revalue_customer(
            session,
            event.customer_id,
            settings=settings,
            at=datetime.now(UTC),
            unless_valued_since=envelope.time,
        )

    return revalue


def _timeline(settings: Settings) -> Handler:
    async def add_to_timeline(
        session: AsyncSession, event: InteractionRecorded, envelope: EventEnvelope
    ) -> None:
        if envelope.source == settings.event_source:
            return  # our own recording, already on the timeline
        await service.record_interaction(
            session,
            InteractionCreate(
                external_id=f"{envelope.source}:{event.interaction_id}",
                customer_id=event.customer_id,
                channel="phone"
                if event.channel not in {"atm", "web", "mobile", "branch"}
                else event.channel,
                kind=event.kind,
                occurred_at=event.occurred_at,
            ),
            source=envelope.source,
        )

    return add_to_timeline


def build_handlers(settings: Settings) -> Handlers:
    revalue = _revalue(settings)
    return {
        TransactionPosted: revalue,
        AccountOpened: revalue,
        AccountClosed: revalue,
        InteractionRecorded: _timeline(settings),
        ComplaintReceived: projections.complaint_received,
        ComplaintStepCompleted: projections.complaint_step_completed,
        ComplaintEscalated: projections.complaint_escalated,
        ComplaintClosed: projections.complaint_closed,
        OpportunityCreated: projections.opportunity_created,
        OpportunityUpdated: projections.opportunity_updated,
        OpportunityClosed: projections.opportunity_closed,
    }
