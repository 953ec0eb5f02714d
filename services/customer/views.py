"""What the customer service answers: its read models, with personal data masked.

Responses are built field by field from explicit output models, never by dumping a row, so a
column added tomorrow does not leak into an answer."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer import repository
from services.customer.config import Settings
from services.customer.models import (
    Account,
    Customer,
    CustomerKind,
    IdentifierKind,
    Interaction,
    PostedTransaction,
)
from services.customer.satisfaction import satisfaction_index
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
from services.customer.valuation import balances_cny, customer_value
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


def transaction_read(row: PostedTransaction) -> TransactionRead:
    return TransactionRead(
        transaction_id=row.transaction_id,
        direction=row.direction,
        amount=row.amount,
        currency=row.currency,
        balance_after=row.balance_after,
        kind=row.kind,
        channel=row.channel,
        counterparty_name=row.counterparty_name,
        booked_at=row.booked_at,
    )


def interaction_read(row: Interaction) -> InteractionRead:
    return InteractionRead(
        id=row.id,
        channel=row.channel,
        kind=row.kind,
        summary=row.summary,
        occurred_at=row.occurred_at,
        source=row.source,
    )


async def customer_view(
    session: AsyncSession, customer_id: uuid.UUID, *, settings: Settings
) -> CustomerView:
    customer = await get_customer(session, customer_id)
    accounts = await repository.accounts_of(session, customer.id)
    total, _ = balances_cny(accounts, settings)
    now = datetime.now(UTC)
    since = months_back(now.date(), FIGURE_MONTHS - 1)
    return CustomerView(
        customer=customer_read(customer, settings),
        accounts=[account_read(a) for a in accounts],
        total_balance_cny=total.quantize(Decimal("0.01")),
        value=await customer_value(session, customer, accounts, settings=settings, at=now),
        satisfaction_index=await satisfaction_index(session, customer.id, at=now),
        relationships=[
            RelationshipRead(related_customer_id=r.related_customer_id, kind=r.kind, since=r.since)
            for r in await repository.relationships_of(session, customer.id)
        ],
        open_complaints=[
            OpenComplaintRead(
                complaint_id=c.complaint_id,
                category=c.category,
                priority=c.priority,
                step=c.step,
                received_at=c.received_at,
                due_at=c.due_at,
                escalation_level=c.escalation_level,
            )
            for c in await repository.open_complaints_of(session, customer.id)
        ],
        open_opportunities=[
            OpenOpportunityRead(
                opportunity_id=o.opportunity_id,
                action=o.action,
                product=o.product,
                priority=o.priority,
                status=o.status,
                owner=o.owner,
                due_at=o.due_at,
                expires_at=o.expires_at,
            )
            for o in await repository.open_opportunities_of(session, customer.id)
        ],
        recent_transactions=[
            transaction_read(t)
            for t in await repository.recent_transactions(session, customer.id, limit=RECENT)
        ],
        recent_interactions=[
            interaction_read(i)
            for i in await repository.recent_interactions(session, customer.id, limit=RECENT)
        ],
        monthly_figures=[
            MonthlyFigures(
                month=f.month,
                currency=f.currency,
                money_in=f.money_in,
                money_out=f.money_out,
                transaction_count=f.transaction_count,
            )
            for f in await repository.monthly_flows(session, customer.id, since=since)
        ],
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
