"""Ties between customers: households, corporate groups (集团客户), related parties, referrals.

Each tie is kept from both sides (a parent company's subsidiary is the subsidiary's parent),
so either customer's view lists it without a second query shape."""

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.customers import service as customers_service
from services.customer.errors import InvalidRelationship
from services.customer.models import CustomerKind, Relationship
from services.customer.relationships import repository as relationships_repository
from services.customer.relationships.schemas import RelationshipCreate, RelationshipRead

INVERSE = {
    "household": "household",
    "parent_company": "subsidiary",
    "subsidiary": "parent_company",
    "related_party": "related_party",
    "referred_by": "referred",
    "referred": "referred_by",
}

# A corporate group is made of companies; a household of people.
CORPORATE_ONLY = frozenset({"parent_company", "subsidiary"})
INDIVIDUAL_ONLY = frozenset({"household"})


async def add_relationship(
    session: AsyncSession, customer_id: uuid.UUID, request: RelationshipCreate
) -> Sequence[Relationship]:
    if request.related_customer_id == customer_id:
        raise InvalidRelationship(
            "related_customer_id: a customer is not related to itself",
            field="related_customer_id",
        )
    customer = await customers_service.get_customer(session, customer_id)
    related = await customers_service.get_customer(session, request.related_customer_id)
    kinds = {customer.kind, related.kind}
    if request.kind in CORPORATE_ONLY and kinds != {CustomerKind.CORPORATE}:
        raise InvalidRelationship(f"kind: a {request.kind} tie is between companies", field="kind")
    if request.kind in INDIVIDUAL_ONLY and kinds != {CustomerKind.INDIVIDUAL}:
        raise InvalidRelationship(f"kind: a {request.kind} tie is between people", field="kind")
    await relationships_repository.add_relationship_pair(
        session,
        [
            {
                "customer_id": customer_id,
                "related_customer_id": related.id,
                "kind": request.kind,
                "since": request.since,
            },
            {
                "customer_id": related.id,
                "related_customer_id": customer_id,
                "kind": INVERSE[request.kind],
                "since": request.since,
            },
        ],
    )
    return await relationships_repository.relationships_of(session, customer_id)


async def relationships(session: AsyncSession, customer_id: uuid.UUID) -> list[RelationshipRead]:
    await customers_service.get_customer(session, customer_id)
    return [
        RelationshipRead.model_validate(r, from_attributes=True)
        for r in await relationships_repository.relationships_of(session, customer_id)
    ]
