"""Attrition risk learned from observed attrition, in the valuation batch.

Each run keeps the month's first observation of every active customer (their features then)
and reads each one's risk from the model with today's features. Before valuing anyone, the
run learns every observation whose horizon has passed: attrited if the relationship closed
or the balances ran down within it, else retained; one observation a transaction, counted
and marked learned together, so a rerun or a second replica learns nothing twice."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.customer import CustomerSegmentChanged
from services.customer.accounts import repository as accounts_repository
from services.customer.attrition import repository
from services.customer.attrition.features import (
    ATTRITED,
    AttritionFacts,
    Outcome,
    features_of,
    outcome_of,
    risk_band,
)
from services.customer.attrition.models import AttritionObservation, AttritionRisk
from services.customer.config import Settings
from services.customer.history import repository as history_repository
from services.customer.models import Account, Customer, SegmentChange
from services.customer.valuation.money import ASSET_PRODUCTS, to_cny
from services.customer.valuation.segmentation import SegmentDimension, SegmentFacts
from shared.adaptive_model import Evidence, Prior, propensity
from shared.outbox import record_event

TREND_DAYS = 90


async def assets_at(
    session: AsyncSession,
    customer_id: uuid.UUID,
    accounts: Sequence[Account],
    moment: datetime,
    settings: Settings,
) -> Decimal:
    """Deposits and wealth in CNY at a moment, from each posting's balance after it."""
    balances = await history_repository.balances_as_of(session, customer_id, moment)
    day = moment.date()
    total = Decimal("0")
    for account in accounts:
        held = account.opened_on <= day and (account.closed_on is None or account.closed_on > day)
        if held and account.product_type in ASSET_PRODUCTS:
            balance = balances.get(account.account_number, Decimal("0"))
            total += to_cny(balance, account.currency, settings)
    return total


async def assess(
    session: AsyncSession,
    customer: Customer,
    facts: SegmentFacts,
    accounts: Sequence[Account],
    *,
    evidence: Evidence,
    settings: Settings,
    at: datetime,
) -> bool:
    """Observe the customer (locked, segments decided) for the month and read their risk;
    returns whether the risk moved to another band (published as a segment change)."""
    model = settings.attrition
    trend_from = at - timedelta(days=TREND_DAYS)
    features = features_of(
        AttritionFacts(
            value_tier=customer.value_tier,
            loyalty=customer.loyalty,
            quadrant=customer.quadrant,
            tenure_days=facts.tenure_days,
            open_products=facts.open_products,
            assets_cny=facts.aum_cny,
            assets_90d_ago_cny=await assets_at(
                session, customer.id, accounts, trend_from, settings
            ),
            days_since_activity=facts.days_since_activity,
            complaints_90d=await repository.complaints_between(
                session, customer.id, since=trend_from, until=at
            ),
        )
    )
    answer = propensity(evidence, features, Prior(model.base_rate, model.prior_strength))
    band = risk_band(answer.mean, model)
    ranked = sorted(answer.contributions.items(), key=lambda item: -abs(item[1]))
    previous = await repository.replace_risk(
        session,
        AttritionRisk(
            customer_id=customer.id,
            probability=answer.mean,
            band=band,
            contributions=[
                {"predictor": p, "bin": features[p], "log_odds": round(v, 4)} for p, v in ranked
            ],
            responses=evidence.responses,
            attritions=evidence.positives,
            computed_at=at,
        ),
    )
    month = repository.month_of(at)
    # A risk read this month was read with the month's observation, in its transaction: a
    # daily batch keeps the month's observation once and skips the insert the other days.
    if previous is None or repository.month_of(previous[1]) != month:
        await repository.add_observation(
            session,
            AttritionObservation(
                id=uuid.uuid4(),
                customer_id=customer.id,
                month=month,
                observed_at=at,
                horizon_ends_at=at + timedelta(days=model.horizon_days),
                features=features,
                assets_cny=facts.aum_cny.quantize(Decimal("0.01")),
            ),
        )
    was = None if previous is None else previous[0]
    if was == band:
        return False
    await _publish_band(session, customer, was, band, answer.mean, features, ranked, at=at)
    return True


async def _publish_band(
    session: AsyncSession,
    customer: Customer,
    was: str | None,
    band: str,
    probability: float,
    features: dict[str, str],
    ranked: list[tuple[str, float]],
    *,
    at: datetime,
) -> None:
    why = ", ".join(f"{p} {features[p]} {v:+.2f}" for p, v in ranked[:3]) or "base rate only"
    reason = f"attrition risk {probability:.1%} ({why})"
    session.add(
        SegmentChange(
            customer_id=customer.id,
            dimension=SegmentDimension.ATTRITION_RISK,
            previous=was,
            current=band,
            reason=reason,
            facts=dict(features),
            effective_at=at,
        )
    )
    await record_event(
        session,
        CustomerSegmentChanged(
            customer_id=customer.id,
            dimension=SegmentDimension.ATTRITION_RISK,
            previous=was,
            current=band,
            direction="initial" if was is None else "lateral",
            reason=reason,
            policy=None,
            effective_at=at,
        ),
    )


async def _outcome(
    session: AsyncSession, observation: AttritionObservation, settings: Settings
) -> Outcome:
    customer_id, end = observation.customer_id, observation.horizon_ends_at
    customer = await session.get(Customer, customer_id)
    accounts = await accounts_repository.accounts_of(session, customer_id)
    closed: str | None = None
    if customer is not None and customer.closed_at is not None and customer.closed_at <= end:
        closed = f"relationship closed on {customer.closed_at.date().isoformat()}"
    else:
        held = [a for a in accounts if a.opened_on <= end.date()]
        closings = [
            a.closed_on for a in held if a.closed_on is not None and a.closed_on <= end.date()
        ]
        if held and len(closings) == len(held) and max(closings) > observation.observed_at.date():
            closed = f"every account closed by {max(closings).isoformat()}"
    return outcome_of(
        observed_assets=observation.assets_cny,
        assets_at_horizon=await assets_at(session, customer_id, accounts, end, settings),
        relationship_closed=closed,
        model=settings.attrition,
    )


async def _learn(
    session: AsyncSession, observation: AttritionObservation, *, settings: Settings, at: datetime
) -> None:
    outcome = await _outcome(session, observation, settings)
    await repository.count_response(
        session, observation.features, attrited=outcome.label == ATTRITED
    )
    observation.outcome = outcome.label
    observation.reason = outcome.reason[:200]
    observation.learned_at = at


async def forget_customer(
    session: AsyncSession, customer_id: uuid.UUID, *, settings: Settings, at: datetime
) -> None:
    """An erased customer's observations and risk go. Those not learned yet are learned
    first: erasure follows the closing of the relationship, so each one's outcome is known
    already (attrited, if the closing fell within its horizon), and leaving them out would
    hide from the model the very customers who left."""
    for observation in await repository.unlearned_of(session, customer_id):
        await _learn(session, observation, settings=settings, at=at)
    await session.flush()
    await repository.forget_customer(session, customer_id)


async def learn_due_observations(
    sessions: async_sessionmaker[AsyncSession], *, settings: Settings, at: datetime
) -> int:
    """Label and learn every observation whose horizon has passed by ``at``; returns how many
    were learned by this call."""
    learned = 0
    while True:
        async with sessions() as session, session.begin():
            observation = await repository.next_due_observation(session, at=at)
            if observation is None:
                return learned
            await _learn(session, observation, settings=settings, at=at)
        learned += 1


async def current_evidence(sessions: async_sessionmaker[AsyncSession]) -> Evidence:
    async with sessions() as session:
        return await repository.evidence(session)
