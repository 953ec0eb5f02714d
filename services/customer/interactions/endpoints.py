"""HTTP API of the customer's timeline of contacts."""

import uuid

from fastapi import APIRouter, Depends, Response, status

from services.customer.access import customer_in_reach
from services.customer.dependencies import SettingsDep
from services.customer.interactions import service as interactions_service
from services.customer.interactions.schemas import InteractionCreate
from shared.http import SessionDep

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post("/interactions", status_code=status.HTTP_201_CREATED, tags=["interactions"])
async def record_interaction(
    body: InteractionCreate, session: SessionDep, settings: SettingsDep, response: Response
) -> dict[str, uuid.UUID]:
    """Record a contact on the customer's timeline; a repeated ``external_id`` is answered
    with the first recording (200)."""
    interaction_id, created = await interactions_service.record_interaction(
        session, body, source=settings.event_source
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return {"id": interaction_id}
