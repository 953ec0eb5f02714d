"""A customer erased on their request (``crm.customer.erased.v1``).

Their cases stay whole: the description, the history, the deadlines and the decisions are the
record the regulator may ask for, and the customer id they carry no longer leads to anyone.
What goes is what identifies the person: the contact details given with a case. The standing
kept of the customer (tier, when they were downgraded or left) stays too: it says nothing of
who they were, and without it the count of customers lost after a complaint would drop them.
No HTTP, no Kafka, no commit."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.repository import complaints as complaints_repository


async def erase_customer(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """A second delivery finds nothing left to clear."""
    await complaints_repository.clear_complainants(session, customer_id)
