"""What the customer service answers: its read models, with personal data masked.

Responses are built field by field from explicit output models, never by dumping a row, so a
column added tomorrow does not leak into an answer."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer import repository
from services.customer.config import Settings
from services.customer.errors import CustomerNotFound
from services.customer.models import (
    Account,
    Customer,
    CustomerKind,
    IdentifierKind,
)
from services.customer.satisfaction import INDEX_WINDOW
from services.customer.schemas import (
    AccountRead,
    CustomerPage,
    CustomerRead,
    CustomerSummary,
    CustomerView,
    InteractionRead,
    LookupResult,
    MonthlyFigures,
    OpenComplaintRead,
    OpenOpportunityRead,
    RelationshipRead,
    SegmentChangeRead,
    SegmentRead,
    SegmentsAsOf,
    TransactionRead,
)
from services.customer.service import consent_flags, get_customer, months_back
from services.customer.valuation import FEES_WINDOW, balances_cny, customer_value
from shared.masking import (
    mask_account,
    mask_email,
    mask_name,
    mask_phone,
    mask_resident_id,
    mask_social_credit_code,
)
from shared.pagination import decode_cursor, encode_cursor

RECENT = 10
FIGURE_MONTHS = 6
# The view's lists arrive from the database as JSON arrays (repository.customer_view_data).
_ACCOUNTS = TypeAdapter(list[AccountRead])  # their numbers in full, until masked
_RELATIONSHIPS = TypeAdapter(list[RelationshipRead])
_COMPLAINTS = TypeAdapter(list[OpenComplaintRead])
_OPPORTUNITIES = TypeAdapter(list[OpenOpportunityRead])
_TRANSACTIONS = TypeAdapter(list[TransactionRead])
_INTERACTIONS = TypeAdapter(list[InteractionRead])
_FIGURES = TypeAdapter(list[MonthlyFigures])


def _masked_address(address: dict[str, Any]) -> dict[str, Any]:
    line = str(address.get("line", ""))
    return {**address, "line": line[:6] + "***" if len(line) > 6 else "***"}


def masked_profile(customer: Customer) -> dict[str, Any]:
    profile = dict(customer.profile)
    if "id_number" in profile:
        number = str(profile["id_number"])
        profile["id_number"] = (
            mask_resident_id(number) if profile.get("id_type") == "resident_id"
            else number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]
        )  # fmt: skip
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
    individual = customer.kind == CustomerKind.INDIVIDUAL
    return CustomerSummary(
        id=customer.id,
        kind=customer.kind,
        name=mask_name(customer.name) if individual else customer.name,
        status=customer.status,
        value_tier=customer.value_tier,
        manager_id=customer.manager_id,
    )


def account_read(account: Account) -> AccountRead:
    return AccountRead(
        account_number=mask_account(account.account_number),
        product_type=account.product_type,
        product_code=account.product_code,
        currency=account.currency,
        balance=account.balance,
        status=account.status,
        opened_on=account.opened_on,
        maturity_date=account.maturity_date,
        payoff_date=account.payoff_date,
        card_last_four=account.card_last_four,
    )


async def customer_view(
    session: AsyncSession, customer_id: uuid.UUID, *, settings: Settings
) -> CustomerView:
    now = datetime.now(UTC)
    found = await repository.customer_view_data(
        session, customer_id, recent=RECENT,
        figures_since=months_back(now.date(), FIGURE_MONTHS - 1),
        fees_since=now - FEES_WINDOW, satisfaction_since=now - INDEX_WINDOW,
    )  # fmt: skip
    if found is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    customer, lists = found
    accounts = _ACCOUNTS.validate_json(lists.accounts)
    total, _ = balances_cny(accounts, settings)
    fees = {currency: Decimal(paid) for currency, paid in lists.fees.items()}
    value = customer_value(customer, accounts, fees, settings=settings)
    for account in accounts:
        account.account_number = mask_account(account.account_number)
    return CustomerView(
        customer=customer_read(customer, settings),
        accounts=accounts,
        total_balance_cny=total.quantize(Decimal("0.01")),
        value=value,
        satisfaction_index=repository.satisfaction_index_of(lists.satisfaction),
        relationships=_RELATIONSHIPS.validate_json(lists.relationships),
        open_complaints=_COMPLAINTS.validate_json(lists.open_complaints),
        open_opportunities=_OPPORTUNITIES.validate_json(lists.open_opportunities),
        recent_transactions=_TRANSACTIONS.validate_json(lists.recent_transactions),
        recent_interactions=_INTERACTIONS.validate_json(lists.recent_interactions),
        monthly_figures=_FIGURES.validate_json(lists.monthly_figures),
    )


async def segments_as_of(
    session: AsyncSession, customer_id: uuid.UUID, as_of: datetime, *, settings: Settings
) -> SegmentsAsOf:
    await get_customer(session, customer_id)
    changes = await repository.segments_as_of(session, customer_id, as_of)
    segments = {
        dimension: (
            SegmentChangeRead(
                dimension=c.dimension,
                previous=c.previous,
                current=c.current,
                reason=c.reason,
                effective_at=c.effective_at,
            )
            if (c := changes.get(dimension)) is not None
            else None
        )
        for dimension in ("value_tier", "loyalty", "usage_density", "lifecycle_stage")
    }
    tier = changes.get("value_tier")
    policy = (
        settings.tier_policies[tier.current].model_dump(mode="json") if tier is not None else None
    )
    return SegmentsAsOf(as_of=as_of, segments=segments, policy=policy)


async def lookup(session: AsyncSession, kind: IdentifierKind, value: str) -> LookupResult:
    matches = await repository.customers_by_identifier(session, kind, value)
    return LookupResult(matches=[customer_summary(c) for c in matches])


async def search(
    session: AsyncSession,
    criteria: repository.CustomerFilter,
    *,
    cursor: str | None,
    limit: int,
) -> CustomerPage:
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.search_customers(session, criteria, after=after, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return CustomerPage(
        items=[customer_summary(c) for c in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more and page else None,
    )
