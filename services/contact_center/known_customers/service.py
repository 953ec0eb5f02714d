"""The projection of the customers, from ``crm.customer.v1``: what routing and the calling
rules need to know of a customer (consent, status, the value tier and its policy) and their
identifier digests, by which a caller is recognised. No HTTP, no Kafka, no commit."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import IdentifierDigest
from services.contact_center.errors import UnknownCustomer
from services.contact_center.known_customers import repository as known_customers_repository

# The identifier kinds the customer service digests (its IdentifierKind values).
PHONE = "phone"
RESIDENT_ID = "resident_id"


async def note_customer(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    at: datetime,
    identifiers: list[IdentifierDigest],
    consent: dict[str, bool],
    status: str | None = None,
    value_tier: str | None = None,
) -> None:
    """Registration or a change: consent, status, the tier if the event names it, and the
    identifier digests. The upsert writes only these columns; the tier's policy stays."""
    values: dict[str, object] = {"customer_id": customer_id, "consent": consent, "updated_at": at}
    if status is not None:
        values["status"] = status
    if value_tier is not None:
        values["value_tier"] = value_tier
    await known_customers_repository.save_known_customer(session, values)
    digests = [(i.kind, i.digest) for i in identifiers if i.kind in {PHONE, RESIDENT_ID}]
    await known_customers_repository.replace_identifiers(session, customer_id, digests)


async def note_tier(
    session: AsyncSession,
    customer_id: uuid.UUID,
    value_tier: str,
    policy: dict[str, str | int | bool] | None,
    *,
    at: datetime,
) -> None:
    """A new value tier and its service policy; consent and status stay as they are."""
    policy = policy or {}
    priority = policy.get("queue_priority")
    await known_customers_repository.save_known_customer(
        session,
        {
            "customer_id": customer_id,
            "value_tier": value_tier,
            "queue_priority": int(priority) if priority is not None else None,
            "route_to_vip_queue": bool(policy.get("route_to_vip_queue", False)),
            "updated_at": at,
        },
    )


async def check_known(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    ask_customer_service: Callable[[uuid.UUID], Awaitable[bool | None]],
) -> None:
    """Refuse a customer id that names nobody. This service's projection answers for every
    customer whose registration it has consumed; one registered a moment ago is asked of the
    customer service. When that service cannot answer, the request goes ahead: a callback the
    customer asked for is not lost to an outage elsewhere (rule 2 of the architecture)."""
    if await known_customers_repository.known_customer(session, customer_id) is not None:
        return
    if await ask_customer_service(customer_id) is False:
        raise UnknownCustomer(f"customer_id: no customer {customer_id}", field="customer_id")
