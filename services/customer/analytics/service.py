"""Customer value analytics (客户价值分析): the value pyramid and the 20:80 rule, how customers
move between tiers, and who is drifting away — satisfied or not."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.analytics import repository as analytics_repository
from services.customer.analytics.schemas import (
    DriftingCustomer,
    MigrationCell,
    RfmScore,
    SegmentMigration,
    TierValue,
    ValuePyramid,
)
from services.customer.config import Settings
from services.customer.valuation.segmentation import TIER_RANK, ValueTier

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
