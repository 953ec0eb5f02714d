"""Customer value analytics (客户价值分析): the value pyramid and the 20:80 rule, how customers
move between tiers, and who is drifting away — satisfied or not; and the measures of a
relationship's depth: share of wallet, retention rate, products per customer."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.analytics import repository as analytics_repository
from services.customer.analytics.periods import CalendarPeriod
from services.customer.analytics.schemas import (
    DriftingCustomer,
    MigrationCell,
    ProductCount,
    ProductsPerCustomer,
    Retention,
    RetentionGroup,
    RfmScore,
    SegmentMigration,
    ShareBand,
    TierProducts,
    TierValue,
    TierWallet,
    ValuePyramid,
    WalletDistribution,
)
from services.customer.config import Settings
from services.customer.models import ProductType
from services.customer.valuation.segmentation import TIER_RANK, ValueTier
from shared.problems import InvalidField

YEAR = timedelta(days=365)
PLACES = Decimal("0.0001")


def _parameters(settings: Settings, now: datetime) -> dict[str, Any]:
    model = settings.profit_model
    return analytics_repository.valuation_parameters(
        rates=settings.fx_rates_to_cny,
        since=now - YEAR,
        deposit_margin=model.deposit_margin,
        loan_margin=model.loan_margin,
        cost_to_serve=model.cost_to_serve,
    )


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(PLACES) if whole else Decimal("0")


async def value_pyramid(session: AsyncSession, *, settings: Settings) -> ValuePyramid:
    parameters = _parameters(settings, datetime.now(UTC))
    rows = await analytics_repository.value_by_tier(session, parameters)
    customers = sum(row.customers for row in rows)
    aum = sum((Decimal(row.aum) for row in rows), Decimal("0"))
    tiers = sorted(
        (
            TierValue(
                tier=row.value_tier,
                customers=row.customers,
                customer_share=_share(Decimal(row.customers), Decimal(customers)),
                aum_cny=Decimal(row.aum).quantize(Decimal("0.01")),
                aum_share=_share(Decimal(row.aum), aum),
                contribution_cny=Decimal(row.contribution).quantize(Decimal("0.01")),
            )
            for row in rows
        ),
        key=lambda t: -TIER_RANK[ValueTier(t.tier)],
    )
    top = await analytics_repository.top_fifth_share(session, parameters)
    return ValuePyramid(
        tiers=tiers,
        top_fifth_aum_share=_share(Decimal(top.top_aum), Decimal(top.all_aum)),
        top_fifth_contribution_share=_share(
            Decimal(top.top_contribution), Decimal(top.all_contribution)
        ),
        profitable=top.profitable,
        marginal=top.marginal,
        loss_making=top.loss_making,
    )


async def segment_migration(
    session: AsyncSession, *, start: datetime, end: datetime
) -> SegmentMigration:
    rows = await analytics_repository.tier_migration(session, start=start, end=end)
    cells = [
        MigrationCell(from_tier=r.from_tier, to_tier=r.to_tier, customers=r.customers) for r in rows
    ]
    moved = [c for c in cells if c.from_tier != "new" and c.from_tier != c.to_tier]
    upgrades = sum(
        c.customers
        for c in moved
        if TIER_RANK[ValueTier(c.to_tier)] > TIER_RANK[ValueTier(c.from_tier)]
    )
    downgrades = sum(c.customers for c in moved) - upgrades
    return SegmentMigration(
        start=start, end=end, cells=cells, upgrades=upgrades, downgrades=downgrades
    )


async def drifting(
    session: AsyncSession, *, settings: Settings, satisfied_only: bool, limit: int
) -> list[DriftingCustomer]:
    now = datetime.now(UTC)
    rows = await analytics_repository.drifting_customers(
        session,
        _parameters(settings, now),
        satisfied_from=settings.satisfied_from if satisfied_only else None,
        survey_since=now - YEAR,
        limit=limit,
    )
    return [
        DriftingCustomer(
            id=row.id,
            name=row.name,
            value_tier=row.value_tier,
            manager_id=row.manager_id,
            aum_cny=Decimal(row.aum).quantize(Decimal("0.01")),
            contribution_cny=Decimal(row.contribution).quantize(Decimal("0.01")),
            satisfaction_index=(
                None
                if row.satisfaction_index is None
                else Decimal(row.satisfaction_index).quantize(Decimal("0.1"))
            ),
        )
        for row in rows
    ]


async def rfm(session: AsyncSession, *, settings: Settings, limit: int) -> list[RfmScore]:
    now = datetime.now(UTC)
    rows = await analytics_repository.rfm_scores(
        session, rates=settings.fx_rates_to_cny, now=now, since=now - YEAR, limit=limit
    )
    return [
        RfmScore(
            id=row.id,
            name=row.name,
            value_tier=row.value_tier,
            recency_days=int(row.recency_days),
            frequency=row.frequency,
            monetary_cny=Decimal(row.monetary).quantize(Decimal("0.01")),
            recency=row.r_score,
            frequency_score=row.f_score,
            monetary=row.m_score,
            rfm=f"{row.r_score}{row.f_score}{row.m_score}",
        )
        for row in rows
    ]


def _by_tier_rank(tier: str) -> int:
    """Premium first; a group that is no tier (``unrecorded``) last."""
    return -TIER_RANK[ValueTier(tier)] if tier in set(ValueTier) else 1


CENTS = Decimal("0.01")


def _money(value: Any) -> Decimal:
    return Decimal(value).quantize(CENTS)


BANDS = [Decimal("0"), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal("1")]


def _tier_wallet(row: Any) -> TierWallet:
    counts = [row.quarter_1, row.quarter_2, row.quarter_3, row.quarter_4]
    assets, elsewhere = Decimal(row.known_aum), Decimal(row.elsewhere)
    return TierWallet(
        tier=row.value_tier or "all",
        customers=row.customers,
        known=row.known,
        bank_assets_cny=_money(assets),
        declared_elsewhere_cny=_money(elsewhere),
        share=_share(assets, assets + elsewhere) if row.known else None,
        mean_share=None if row.mean_share is None else Decimal(row.mean_share).quantize(PLACES),
        bands=[
            ShareBand(lower=BANDS[i], upper=BANDS[i + 1], customers=count)
            for i, count in enumerate(counts)
        ],
        outflows_to_other_banks_cny=_money(row.outflow),
        customers_with_outflows=row.with_outflow,
    )


async def wallet_distribution(
    session: AsyncSession,
    *,
    settings: Settings,
    start: datetime,
    end: datetime,
    branch_code: str | None,
) -> WalletDistribution:
    rows = await analytics_repository.wallet_by_tier(
        session,
        _parameters(settings, datetime.now(UTC)),
        start=start,
        end=end,
        branch_code=branch_code,
    )
    tiers = [_tier_wallet(row) for row in rows if row.value_tier is not None]
    (everyone,) = [_tier_wallet(row) for row in rows if row.value_tier is None]
    return WalletDistribution(
        start=start,
        end=end,
        tiers=sorted(tiers, key=lambda t: _by_tier_rank(t.tier)),
        total=everyone,
    )


class RetentionBy(StrEnum):
    TIER = "tier"
    COHORT = "cohort"


class Cohort(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


# How PostgreSQL's to_char names a cohort: 2026-03, 2026-Q1.
_COHORT_FORMAT = {Cohort.MONTH: "YYYY-MM", Cohort.QUARTER: 'YYYY-"Q"Q'}


def _retention_group(group: str, active: int, closed: int, lapsed: int) -> RetentionGroup:
    retained = active - closed - lapsed
    return RetentionGroup(
        group=group,
        active_at_start=active,
        retained=retained,
        closed=closed,
        lapsed=lapsed,
        retention_rate=_share(Decimal(retained), Decimal(active)) if active else None,
    )


async def retention(
    session: AsyncSession,
    *,
    settings: Settings,
    period: CalendarPeriod,
    by: RetentionBy,
    cohort: Cohort,
    branch_code: str | None,
    now: datetime,
) -> Retention:
    """Attrition as the bank's own data shows it: the relationship closed (or erased), or
    lapsed, no posting or interaction for the non-cooperative idle days (180)."""
    if period.start >= now:
        raise InvalidField("period", "has not begun", where="query")
    end = min(period.end, now)
    idle_days = settings.loyalty_thresholds.non_cooperative_idle_days
    rows = await analytics_repository.retention(
        session,
        start=period.start,
        end=end,
        idle=timedelta(days=idle_days),
        by_tier=by is RetentionBy.TIER,
        cohort_format=_COHORT_FORMAT[cohort],
        zone=settings.bank_zone.key,
        branch_code=branch_code,
    )
    groups = [
        _retention_group(row.grouped, row.active_at_start, row.closed, row.lapsed) for row in rows
    ]

    def order(group: RetentionGroup) -> tuple[int, str]:
        return (_by_tier_rank(group.group) if by is RetentionBy.TIER else 0, group.group)

    return Retention(
        period=period.label,
        start=period.start,
        end=end,
        complete=end == period.end,
        by=by,
        cohort=cohort if by is RetentionBy.COHORT else None,
        lapse_after_days=idle_days,
        groups=sorted(groups, key=order),
        total=_retention_group(
            "all",
            sum(g.active_at_start for g in groups),
            sum(g.closed for g in groups),
            sum(g.lapsed for g in groups),
        ),
    )


def _tier_products(tier: str, counts: dict[int, int]) -> TierProducts:
    customers = sum(counts.values())
    held = sum(products * n for products, n in counts.items())
    return TierProducts(
        tier=tier,
        customers=customers,
        mean_products=(Decimal(held) / customers).quantize(CENTS) if customers else Decimal("0"),
        distribution=[ProductCount(products=p, customers=counts[p]) for p in sorted(counts)],
    )


async def products_per_customer(
    session: AsyncSession, *, branch_code: str | None
) -> ProductsPerCustomer:
    rows = await analytics_repository.products_held(session, branch_code=branch_code)
    by_tier: dict[str, dict[int, int]] = {}
    everyone: dict[int, int] = {}
    for row in rows:
        by_tier.setdefault(row.value_tier, {})[row.products] = row.customers
        everyone[row.products] = everyone.get(row.products, 0) + row.customers
    return ProductsPerCustomer(
        product_kinds=[kind.value for kind in ProductType],
        tiers=[
            _tier_products(tier, counts)
            for tier, counts in sorted(by_tier.items(), key=lambda t: _by_tier_rank(t[0]))
        ],
        total=_tier_products("all", everyone),
    )
