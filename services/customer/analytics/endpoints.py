"""HTTP API of the customer value analytics (客户价值分析)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.customer.access import customer_in_reach
from services.customer.analytics import service as analytics_service
from services.customer.analytics.periods import calendar_period
from services.customer.analytics.schemas import (
    DriftingCustomer,
    ProductsPerCustomer,
    Retention,
    RfmScore,
    SegmentMigration,
    ValuePyramid,
    WalletDistribution,
)
from services.customer.analytics.service import Cohort, RetentionBy
from services.customer.dependencies import NowDep, SettingsDep
from services.customer.managers import service as managers_service
from services.customer.managers.schemas import UnservedCustomerRead
from shared.http import SessionDep
from shared.periods import InvalidPeriod, Moment, end_of, period, start_of

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])

OUTFLOW_PERIOD = timedelta(days=90)
BranchCode = Annotated[
    str | None, Query(max_length=20, description="Only the customers of this branch.")
]


@router.get("/analytics/value-pyramid", tags=["analytics"])
async def value_pyramid(session: SessionDep, settings: SettingsDep) -> ValuePyramid:
    """Customers, assets and contribution by tier; the top 20%'s share (20:80 rule); how
    many customers are profitable, marginal or loss-making."""
    return await analytics_service.value_pyramid(session, settings=settings)


@router.get("/analytics/segment-migration", tags=["analytics"])
async def segment_migration(
    session: SessionDep, settings: SettingsDep, start: Moment, end: Moment | None = None
) -> SegmentMigration:
    """The tier matrix: how many customers went from each tier at ``start`` to each at
    ``end`` (default now); a date alone is that day's start, or end, in the bank's time
    zone."""
    since = start_of(start, settings.bank_zone)
    until = end_of(end, settings.bank_zone) if end is not None else datetime.now(UTC)
    if until <= since:
        raise InvalidPeriod("end", "must be after start")
    return await analytics_service.segment_migration(session, start=since, end=until)


@router.get("/analytics/drifting", tags=["analytics"])
async def drifting_customers(
    session: SessionDep,
    settings: SettingsDep,
    satisfied_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DriftingCustomer]:
    """Customers drifting away (游离), most valuable first. ``satisfied_only`` keeps those
    whose surveys say they are satisfied: satisfaction is not loyalty."""
    return await analytics_service.drifting(
        session, settings=settings, satisfied_only=satisfied_only, limit=limit
    )


@router.get("/analytics/rfm", tags=["analytics"])
async def rfm_scores(
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RfmScore]:
    """Recency, frequency and monetary scores (1-5 by quintile over the last year), best
    customers first."""
    return await analytics_service.rfm(session, settings=settings, limit=limit)


@router.get("/analytics/unserved", tags=["analytics"])
async def unserved_customers(
    session: SessionDep,
    settings: SettingsDep,
    branch_code: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[UnservedCustomerRead]:
    """Customers whose tier requires a manager and who have none, longest waiting first, with
    since when and why; a manager registered with room takes them."""
    return await managers_service.unserved(
        session, settings=settings, branch_code=branch_code, limit=limit
    )


@router.get("/analytics/share-of-wallet", tags=["analytics"])
async def share_of_wallet(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    start: Annotated[Moment | None, Query(alias="from")] = None,
    end: Annotated[Moment | None, Query(alias="to")] = None,
    branch_code: BranchCode = None,
) -> WalletDistribution:
    """Share of wallet (客户占有率) by tier where customers declared what they hold elsewhere:
    how many did, the bank's share of their wealth, its spread in quarter bands; and the
    transfers to other banks over the period (the last 90 days unless given)."""
    since, until = period(start, end, zone=settings.bank_zone, now=now, default=OUTFLOW_PERIOD)
    return await analytics_service.wallet_distribution(
        session, settings=settings, start=since, end=until, branch_code=branch_code
    )


@router.get("/analytics/retention", tags=["analytics"])
async def retention(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    label: Annotated[
        str,
        Query(
            alias="period",
            max_length=7,
            pattern=r"^(199[0-9]|20[0-9][0-9]|2100)(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
            description="2026, 2026-Q1 or 2026-03.",
        ),
    ],
    by: RetentionBy = RetentionBy.TIER,
    cohort: Annotated[Cohort, Query(description="The cohorts' length, by cohort.")] = (
        Cohort.QUARTER
    ),
    branch_code: BranchCode = None,
) -> Retention:
    """Retention rate (客户保持率): of the customers active at the period's start, the share
    still active at its end (neither closed nor lapsed), by their tier then or by the month or
    quarter they became customers. A period still running ends now."""
    return await analytics_service.retention(
        session,
        settings=settings,
        period=calendar_period(label, settings.bank_zone),
        by=by,
        cohort=cohort,
        branch_code=branch_code,
        now=now,
    )


@router.get("/analytics/products-per-customer", tags=["analytics"])
async def products_per_customer(
    session: SessionDep, branch_code: BranchCode = None
) -> ProductsPerCustomer:
    """Cross-sell depth: how many kinds of product (current, term deposit, loan, card,
    wealth) each active customer holds open, its distribution and mean by tier."""
    return await analytics_service.products_per_customer(session, branch_code=branch_code)
