"""HTTP API of the ties between customers."""

import uuid

from fastapi import APIRouter, Depends, status

from services.customer.access import customer_in_reach
from services.customer.relationships import service as relationships_service
from services.customer.relationships.schemas import RelationshipCreate, RelationshipRead
from shared.http import SessionDep

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post(
    "/customers/{customer_id}/relationships",
    status_code=status.HTTP_201_CREATED,
    tags=["relationships"],
)
async def add_relationship(
    customer_id: uuid.UUID, body: RelationshipCreate, session: SessionDep
) -> list[RelationshipRead]:
    """Tie two customers: household, corporate group (parent/subsidiary), related party,
    referral. The other customer gets the inverse tie."""
    await relationships_service.add_relationship(session, customer_id, body)
    return await relationships_service.relationships(session, customer_id)


@router.get("/customers/{customer_id}/relationships", tags=["relationships"])
async def list_relationships(customer_id: uuid.UUID, session: SessionDep) -> list[RelationshipRead]:
    return await relationships_service.relationships(session, customer_id)
