"""Contacts the contact centre records arrive as ``interaction.recorded`` and join the
customer's timeline."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import InteractionRecorded
from services.customer.config import Settings
from services.customer.interactions import service as interactions_service
from services.customer.interactions.schemas import InteractionCreate
from shared.consumer import Handler, Handlers
from shared.envelope import EventEnvelope


def timeline(settings: Settings) -> Handler:
    """A contact another service recorded, added to the customer's timeline."""

    async def add_to_timeline(
        session: AsyncSession, event: InteractionRecorded, envelope: EventEnvelope
    ) -> None:
        if envelope.source == settings.event_source:
            return  # our own recording, already on the timeline
        await interactions_service.record_interaction(
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
    return {InteractionRecorded: timeline(settings)}
