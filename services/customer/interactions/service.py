"""The customer's timeline: contacts recorded by the channels, each once."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import InteractionRecorded
from services.customer.customers import service as customers_service
from services.customer.interactions import repository as interactions_repository
from services.customer.interactions.schemas import InteractionCreate
from shared.outbox import record_event


async def record_interaction(
    session: AsyncSession, request: InteractionCreate, *, source: str
) -> tuple[uuid.UUID, bool]:
    """Record a channel contact on the customer's timeline; a repeat of the same channel id
    is answered with the first one (returns its id and whether it is new)."""
    customer = await customers_service.get_customer(session, request.customer_id)
    interaction_id = uuid.uuid4()
    inserted = await interactions_repository.add_interaction(
        session,
        {
            "id": interaction_id,
            "customer_id": customer.id,
            "channel": request.channel,
            "kind": request.kind,
            "summary": request.summary,
            "occurred_at": request.occurred_at,
            "source": source,
            "external_id": request.external_id,
        },
    )
    if inserted is None:
        existing = await interactions_repository.interaction_by_external_id(
            session, request.external_id
        )
        return existing.id, False
    await record_event(
        session,
        InteractionRecorded(
            customer_id=customer.id,
            interaction_id=interaction_id,
            channel=request.channel,
            kind=request.kind,
            occurred_at=request.occurred_at,
        ),
    )
    return interaction_id, True
