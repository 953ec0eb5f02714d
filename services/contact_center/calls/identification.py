"""Who is calling: the caller recognised from this service's projection of the customers'
identifier digests (kept from ``crm.customer.v1``, see ``known_customers``).

The projection holds keyed digests, never numbers: a caller's number or the ID number the IVR
verified is digested with the shared key and looked up. What the projection cannot answer (a
card or account number, a customer registered a moment ago) is asked of the customer service
once, by the endpoint."""

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identifiers import InvalidIdentifier, identifier_digest, normalise_phone
from services.contact_center.calls.schemas import CallArrival
from services.contact_center.config import Settings
from services.contact_center.known_customers import repository as known_customers_repository
from services.contact_center.known_customers.service import PHONE, RESIDENT_ID
from services.contact_center.models import IdentifiedBy


@dataclass(frozen=True)
class Identification:
    customer_id: uuid.UUID | None
    identified_by: IdentifiedBy
    value_tier: str | None = None
    queue_priority: int | None = None
    route_to_vip_queue: bool = False


UNKNOWN = Identification(None, IdentifiedBy.UNKNOWN)


@dataclass(frozen=True)
class Lookup:
    """Ask the customer service: ``param`` is its lookup's query parameter."""

    param: str
    value: str
    verified: bool


def _digest(kind: str, value: str, settings: Settings) -> str:
    return identifier_digest(kind, value, key=settings.identifier_key.get_secret_value().encode())


def _phone(number: str | None) -> str | None:
    if number is None:
        return None
    try:
        return normalise_phone(number)
    except InvalidIdentifier:
        return None  # a foreign or malformed number identifies nobody; the call still counts


async def identify(
    session: AsyncSession, arrival: CallArrival, *, settings: Settings
) -> Identification | Lookup:
    """A verified identity outranks the caller's number: a phone may be shared in a household,
    an ID checked with a PIN is one person."""
    verified = arrival.verified_identity
    if verified is not None:
        if verified.kind == "resident_id":
            value = verified.value.strip().upper()
            found = await known_customers_repository.customers_with(
                session, RESIDENT_ID, _digest(RESIDENT_ID, value, settings)
            )
            if len(found) == 1:
                return await known(session, found[0], IdentifiedBy.VERIFIED_IDENTITY)
            return Lookup("id_number", value, verified=True)
        return Lookup(verified.kind, verified.value.strip(), verified=True)
    phone = _phone(arrival.caller_number)
    if phone is None:
        return UNKNOWN
    found = await known_customers_repository.customers_with(
        session, PHONE, _digest(PHONE, phone, settings)
    )
    if len(found) == 1:
        return await known(session, found[0], IdentifiedBy.CALLER_NUMBER)
    if found:
        return UNKNOWN  # a shared number: the agent asks who is speaking
    return Lookup("phone", phone, verified=False)


async def known(
    session: AsyncSession,
    customer_id: uuid.UUID,
    identified_by: IdentifiedBy,
    *,
    value_tier: str | None = None,
) -> Identification:
    """The identification with what the projection knows of the customer's tier and policy."""
    customer = await known_customers_repository.known_customer(session, customer_id)
    if customer is None:
        return Identification(customer_id, identified_by, value_tier)
    return Identification(
        customer_id,
        identified_by,
        customer.value_tier,
        customer.queue_priority,
        customer.route_to_vip_queue,
    )
