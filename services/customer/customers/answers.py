"""The customer as answered, personal data masked.

Answers are built field by field from explicit output models, never by dumping a row, so a
column added tomorrow does not leak into an answer."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.customers.schemas import (
    CustomerPage,
    CustomerRead,
    CustomerSummary,
    LookupResult,
    SegmentRead,
)
from services.customer.customers.service import consent_flags
from services.customer.models import Customer, IdentifierKind
from shared.masking import (
    mask_email,
    mask_phone,
    mask_resident_id,
    mask_social_credit_code,
)
from shared.pagination import decode_cursor, encode_cursor


def _masked_address(address: dict[str, Any]) -> dict[str, Any]:
    line = str(address.get("line", ""))
    return {**address, "line": line[:6] + "***" if len(line) > 6 else "***"}


def masked_profile(customer: Customer) -> dict[str, Any]:
    profile = dict(customer.profile)
    if "id_number" in profile:
        number = str(profile["id_number"])
        profile["id_number"] = (
            mask_resident_id(number)
            if profile.get("id_type") == "resident_id"
            else number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]
        )
    if "social_credit_code" in profile:
        profile["social_credit_code"] = mask_social_credit_code(profile["social_credit_code"])
    profile["phones"] = [mask_phone(p) for p in profile.get("phones", [])]
    profile["emails"] = [mask_email(e) for e in profile.get("emails", [])]
    profile["addresses"] = [_masked_address(a) for a in profile.get("addresses", [])]
    return profile


PERSONAL_FIELDS = ("id_number", "social_credit_code", "phones", "emails", "addresses")


def personal_fields_of(customer: Customer) -> list[str]:
    return [name for name in PERSONAL_FIELDS if customer.profile.get(name)]


def customer_read(customer: Customer, settings: Settings, *, masked: bool = True) -> CustomerRead:
    policy = settings.tier_policies[customer.value_tier].model_dump(mode="json")
    return CustomerRead(
        id=customer.id,
        kind=customer.kind,
        name=customer.name,
        status=customer.status,
        version=customer.version,
        branch_code=customer.branch_code,
        manager_id=customer.manager_id,
        preferred_channel=customer.profile.get("preferred_channel"),
        consent=consent_flags(customer),
        profile=masked_profile(customer) if masked else dict(customer.profile),
        segments=SegmentRead(
            value_tier=customer.value_tier,
            loyalty=customer.loyalty,
            usage_density=customer.usage_density,
            lifecycle_stage=customer.lifecycle_stage,
            policy=policy,
        ),
        last_activity_at=customer.last_activity_at,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


def customer_summary(customer: Customer) -> CustomerSummary:
    """A customer in a list, the name masked by the one rule of every list (``MaskedName``,
    as on the analytics lists), whatever the customer's kind."""
    return CustomerSummary(
        id=customer.id,
        kind=customer.kind,
        name=customer.name,
        status=customer.status,
        value_tier=customer.value_tier,
        manager_id=customer.manager_id,
    )


async def lookup(session: AsyncSession, kind: IdentifierKind, value: str) -> LookupResult:
    matches = await customers_repository.customers_by_identifier(session, kind, value)
    return LookupResult(matches=[customer_summary(c) for c in matches])


async def search(
    session: AsyncSession,
    criteria: customers_repository.CustomerFilter,
    *,
    cursor: str | None,
    limit: int,
) -> CustomerPage:
    after = decode_cursor(cursor) if cursor else None
    rows = await customers_repository.search_customers(
        session, criteria, after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    return CustomerPage(
        items=[customer_summary(c) for c in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more and page else None,
    )
