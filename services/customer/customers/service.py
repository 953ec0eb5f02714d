"""The customer service's rules for customers: registration, change, closing, lookup.

Functions take the request's session and never commit; they raise problems that carry their
HTTP status, and record the events they cause in the outbox of the same transaction."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import CustomerRegistered, CustomerUpdated, IdentifierDigest
from contracts.identifiers import identifier_digest
from services.customer.accounts import repository as accounts_repository
from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.customers.schemas import (
    CorporateCreate,
    CustomerClose,
    CustomerUpdate,
    IdType,
    IndividualCreate,
)
from services.customer.errors import (
    ConcurrentDuplicate,
    CustomerClosed,
    CustomerNotFound,
    DuplicateCustomer,
    OpenAccountsRemain,
    StaleVersion,
)
from services.customer.managers import service as managers_service
from services.customer.models import (
    AccountStatus,
    Customer,
    CustomerKind,
    CustomerStatus,
    IdentifierKind,
)
from services.customer.valuation.segmentation import ValueTier
from services.customer.valuation.service import record_initial_tier
from shared.db import unique_violation_as
from shared.outbox import record_event
from shared.problems import get_or_404

# The identifiers that come from the profile (cards and accounts come with their products).
PROFILE_IDENTIFIERS = (
    IdentifierKind.RESIDENT_ID,
    IdentifierKind.PASSPORT,
    IdentifierKind.SOCIAL_CREDIT_CODE,
    IdentifierKind.PHONE,
    IdentifierKind.EMAIL,
)


def _now() -> datetime:
    return datetime.now(UTC)


def identifiers_for(customer: Customer) -> list[tuple[IdentifierKind, str]]:
    """The lookup identifiers a customer's profile gives."""
    profile = customer.profile
    found: list[tuple[IdentifierKind, str]] = []
    if customer.kind == CustomerKind.INDIVIDUAL:
        kind = (
            IdentifierKind.RESIDENT_ID
            if profile.get("id_type") == IdType.RESIDENT_ID
            else IdentifierKind.PASSPORT
        )
        found.append((kind, profile["id_number"]))
    else:
        found.append((IdentifierKind.SOCIAL_CREDIT_CODE, profile["social_credit_code"]))
    found += [(IdentifierKind.PHONE, phone) for phone in profile.get("phones", [])]
    found += [(IdentifierKind.EMAIL, email) for email in profile.get("emails", [])]
    return found


def _digests(
    identifiers: list[tuple[IdentifierKind, str]], settings: Settings
) -> list[IdentifierDigest]:
    key = settings.identifier_key.get_secret_value().encode()
    return [
        IdentifierDigest(kind=kind, digest=identifier_digest(kind, value, key=key))
        for kind, value in identifiers
    ]


async def _sync_identifiers(
    session: AsyncSession, customer: Customer, identifiers: list[tuple[IdentifierKind, str]]
) -> None:
    by_kind: dict[IdentifierKind, list[str]] = {}
    for kind, value in identifiers:
        by_kind.setdefault(kind, []).append(value)
    for kind in PROFILE_IDENTIFIERS:
        await customers_repository.replace_identifiers(
            session, customer.id, kind, by_kind.get(kind, [])
        )


def new_customer(request: IndividualCreate | CorporateCreate) -> Customer:
    """The customer a registration makes, before anything is written."""
    profile: dict[str, Any] = request.profile.model_dump(mode="json")
    return Customer(
        id=uuid.uuid4(),
        kind=CustomerKind(request.kind),
        name=request.name,
        status=CustomerStatus.ACTIVE,
        version=1,
        branch_code=request.branch_code,
        profile={**profile, "preferred_channel": request.preferred_channel},
        consent=consent_record(request.consent, source="registration"),
        value_tier=ValueTier.ORDINARY,
        last_activity_at=None,
    )


def registered_event(
    customer: Customer, identifiers: list[tuple[IdentifierKind, str]], *, settings: Settings
) -> CustomerRegistered:
    return CustomerRegistered(
        customer_id=customer.id,
        kind=customer.kind,
        branch_code=customer.branch_code,
        value_tier=customer.value_tier,
        identifiers=_digests(identifiers, settings),
        consent=consent_flags(customer),
        preferred_channel=customer.profile["preferred_channel"],
        birth_month_day=_birth_month_day(customer),
    )


async def register_customer(
    session: AsyncSession, request: IndividualCreate | CorporateCreate, *, settings: Settings
) -> Customer:
    customer = new_customer(request)
    identifiers = identifiers_for(customer)
    document_kind, document_number = identifiers[0]
    owner = await customers_repository.identifier_owner(session, document_kind, document_number)
    if owner is not None:
        raise DuplicateCustomer(
            f"a customer with this {document_kind.replace('_', ' ')} exists", customer_id=str(owner)
        )
    session.add(customer)
    await session.flush()
    # A registration of the same document may have committed since the check (revision 0022).
    concurrently = ConcurrentDuplicate(
        f"a customer with this {document_kind.replace('_', ' ')} was registered concurrently;"
        " retry to learn who"
    )
    with unique_violation_as(concurrently):
        await _sync_identifiers(session, customer, identifiers)
    await record_event(session, registered_event(customer, identifiers, settings=settings))
    await record_initial_tier(session, customer, settings=settings, at=_now())
    return customer


def _birth_month_day(customer: Customer) -> str | None:
    birth = customer.profile.get("birth_date")
    return str(birth)[5:10] if birth else None


def consent_record(
    flags: dict[Any, bool],
    *,
    source: str,
    at: datetime | None = None,
    recorded_by: str | None = None,
) -> dict[str, Any]:
    """Each channel's consent with when and through which channel the customer gave it, and
    who recorded it (a marketing contact must be able to show it had leave)."""
    when = (at or _now()).isoformat()
    return {
        str(channel): {"granted": granted, "at": when, "source": source, "recorded_by": recorded_by}
        for channel, granted in flags.items()
    }


def consent_flags(customer: Customer) -> dict[str, bool]:
    return {channel: bool(entry["granted"]) for channel, entry in customer.consent.items()}


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    return await get_or_404(
        customers_repository.get_customer(session, customer_id),
        CustomerNotFound(f"no customer {customer_id}"),
    )


async def locked_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    return await get_or_404(
        customers_repository.get_customer(session, customer_id, for_update=True),
        CustomerNotFound(f"no customer {customer_id}"),
    )


def ensure_version(customer: Customer, version: int) -> None:
    """The caller changes what they read: a stale ``version`` is a 409."""
    if customer.version != version:
        raise StaleVersion(
            f"version {version} is stale; the customer is at version {customer.version}",
            current_version=customer.version,
        )


async def locked_for_change(
    session: AsyncSession, customer_id: uuid.UUID, version: int
) -> Customer:
    """The customer locked for an update at ``version``: 409 if stale or no longer active."""
    customer = await locked_customer(session, customer_id)
    ensure_version(customer, version)
    if customer.status != CustomerStatus.ACTIVE:
        raise CustomerClosed(f"customer {customer_id} is closed")
    return customer


PROFILE_FIELDS = ("phones", "emails", "addresses", "occupation", "income_band", "restriction")


async def update_customer(
    session: AsyncSession, customer_id: uuid.UUID, change: CustomerUpdate, *, settings: Settings
) -> Customer:
    customer = await locked_for_change(session, customer_id, change.version)
    given = change.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    changed: list[str] = []
    profile = dict(customer.profile)
    for field, value in given.items():
        if field in PROFILE_FIELDS:
            if profile.get(field) != value:
                profile[field] = value
                changed.append(field)
        elif field == "preferred_channel":
            if profile.get("preferred_channel") != value:
                profile["preferred_channel"] = value
                changed.append(field)
        elif getattr(customer, field) != value:
            setattr(customer, field, value)
            changed.append(field)
    if not changed:
        return customer
    customer.profile = profile
    customer.version += 1
    customer.updated_at = _now()
    identifiers = identifiers_for(customer)
    await _sync_identifiers(session, customer, identifiers)
    await record_event(session, updated_event(customer, changed, settings=settings))
    return customer


def updated_event(customer: Customer, changed: list[str], *, settings: Settings) -> CustomerUpdated:
    return CustomerUpdated(
        customer_id=customer.id,
        version=customer.version,
        status=customer.status,
        changed_fields=sorted(changed),
        identifiers=_digests(identifiers_for(customer), settings),
        consent=consent_flags(customer),
        preferred_channel=customer.profile.get("preferred_channel"),
    )


async def close_customer(
    session: AsyncSession, customer_id: uuid.UUID, request: CustomerClose, *, settings: Settings
) -> Customer:
    customer = await locked_for_change(session, customer_id, request.version)
    still_open = [
        a.account_number
        for a in await accounts_repository.accounts_of(session, customer.id)
        if a.status == AccountStatus.OPEN
    ]
    if still_open:
        raise OpenAccountsRemain(
            f"{len(still_open)} account(s) must be closed first", open_accounts=len(still_open)
        )
    customer.status = CustomerStatus.CLOSED
    customer.closed_at = _now()
    customer.version += 1
    customer.updated_at = customer.closed_at
    customer.profile = {**customer.profile, "closing_reason": request.reason}
    await record_event(session, updated_event(customer, ["status"], settings=settings))
    if customer.manager_id is not None:
        await managers_service.room_freed(
            session, customer.manager_id, settings=settings, why="a customer closed"
        )
    return customer
