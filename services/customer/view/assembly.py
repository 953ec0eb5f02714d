"""The 360 view and the segments explanation, assembled from this service's own data.

The view's lists arrive as JSON arrays read in one statement (``view_repository``) and are
validated straight into the answer models; account numbers are masked on the way out."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts.schemas import AccountRead, TransactionRead
from services.customer.config import Settings
from services.customer.customers.answers import customer_read
from services.customer.customers.service import get_customer
from services.customer.errors import CustomerNotFound
from services.customer.groups.schemas import GroupMembershipRead
from services.customer.interactions.schemas import InteractionRead
from services.customer.relationships.schemas import RelationshipRead
from services.customer.surveys import repository as surveys_repository
from services.customer.valuation.money import FEES_WINDOW, balances_cny, customer_value
from services.customer.valuation.segmentation import satisfaction_quadrant
from services.customer.view import repository as view_repository
from services.customer.view.repository import ViewWindows
from services.customer.view.schemas import (
    AttritionRiskRead,
    CustomerView,
    MonthlyFigures,
    OpenComplaintRead,
    OpenOpportunityRead,
    SegmentChangeRead,
    SegmentsAsOf,
)
from shared.masking import mask_account
from shared.problems import get_or_404


def months_back(today: date, months: int) -> date:
    first = today.replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


RECENT = 10
FIGURE_MONTHS = 6


def view_windows(now: datetime) -> ViewWindows:
    """The view's reach at ``now``: its latest postings and contacts, six months of figures,
    a year of fees, and the satisfaction index's window."""
    return ViewWindows(
        recent=RECENT,
        figures_since=months_back(now.date(), FIGURE_MONTHS - 1),
        fees_since=now - FEES_WINDOW,
        satisfaction_since=now - surveys_repository.INDEX_WINDOW,
    )


# The view's lists arrive from the database as JSON arrays (view_repository.customer_view_data).
_ACCOUNTS = TypeAdapter(list[AccountRead])  # their numbers in full, until masked
_RELATIONSHIPS = TypeAdapter(list[RelationshipRead])
_COMPLAINTS = TypeAdapter(list[OpenComplaintRead])
_OPPORTUNITIES = TypeAdapter(list[OpenOpportunityRead])
_TRANSACTIONS = TypeAdapter(list[TransactionRead])
_INTERACTIONS = TypeAdapter(list[InteractionRead])
_FIGURES = TypeAdapter(list[MonthlyFigures])


async def customer_view(
    session: AsyncSession, customer_id: uuid.UUID, *, settings: Settings
) -> CustomerView:
    now = datetime.now(UTC)
    customer, lists = await get_or_404(
        view_repository.customer_view_data(session, customer_id, view_windows(now)),
        CustomerNotFound(f"no customer {customer_id}"),
    )
    accounts = _ACCOUNTS.validate_json(lists.accounts)
    total, _ = balances_cny(accounts, settings)
    fees = {currency: Decimal(paid) for currency, paid in lists.fees.items()}
    attrition = (
        None
        if lists.attrition_risk is None
        else AttritionRiskRead.model_validate_json(lists.attrition_risk)
    )
    value = customer_value(customer, accounts, fees, settings=settings, attrition=attrition)
    for account in accounts:
        account.account_number = mask_account(account.account_number)
    # Placed on the unrounded average, as the drifting list compares it.
    satisfaction = None if lists.satisfaction is None else Decimal(str(lists.satisfaction))
    return CustomerView(
        customer=customer_read(customer, settings),
        accounts=accounts,
        total_balance_cny=total.quantize(Decimal("0.01")),
        fee_discount_percent=settings.tier_policies[customer.value_tier].fee_discount_percent,
        value=value,
        attrition_risk=attrition,
        satisfaction_index=surveys_repository.satisfaction_index_of(lists.satisfaction),
        quadrant=satisfaction_quadrant(
            customer.loyalty, satisfaction, satisfied_from=settings.satisfied_from
        ),
        relationships=_RELATIONSHIPS.validate_json(lists.relationships),
        group=None if lists.group is None else GroupMembershipRead.model_validate_json(lists.group),
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
    changes = await view_repository.segments_as_of(session, customer_id, as_of)
    segments = {
        dimension: (
            SegmentChangeRead.model_validate(change, from_attributes=True)
            if (change := changes.get(dimension)) is not None
            else None
        )
        for dimension in (
            "value_tier",
            "loyalty",
            "usage_density",
            "lifecycle_stage",
            "attrition_risk",
        )
    }
    tier = changes.get("value_tier")
    policy = (
        settings.tier_policies[tier.current].model_dump(mode="json") if tier is not None else None
    )
    return SegmentsAsOf(as_of=as_of, segments=segments, policy=policy)
