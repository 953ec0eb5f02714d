"""Keeping each customer's segments current: gather the facts, decide, record what changed.

Runs when an event changes a customer's inputs (the service consumes its own transaction and
account events, so ingest stays fast and valuation follows within moments) and for everyone
in a batch. Every change is kept with its reason and published as ``segment_changed``."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.customer import UNPLACED, CustomerSegmentChanged
from services.customer.accounts import repository as accounts_repository
from services.customer.attrition import service as attrition_service
from services.customer.config import Settings
from services.customer.managers.service import ensure_manager
from services.customer.models import (
    Account,
    Customer,
    CustomerStatus,
    SegmentChange,
)
from services.customer.surveys import repository as surveys_repository
from services.customer.valuation import repository as valuation_repository
from services.customer.valuation.facts import decide_with_settings, facts_of
from services.customer.valuation.segmentation import (
    TIER_RANK,
    SegmentDecision,
    SegmentDimension,
    SegmentFacts,
    ValueTier,
    decide_value_tier,
    satisfaction_quadrant,
)
from shared.adaptive_model import Evidence
from shared.outbox import record_event


@dataclass(frozen=True)
class ValuationInputs:
    """What valuing some customers reads, for all of them at once: four statements for a
    consumer's run of a hundred customers, where reading per customer took four each."""

    customers: dict[uuid.UUID, Customer]  # locked
    accounts: dict[uuid.UUID, list[Account]]
    money: dict[uuid.UUID, valuation_repository.MoneyFacts]
    satisfaction: dict[uuid.UUID, Decimal]  # the unrounded index; absent without answers


async def valuation_inputs(
    session: AsyncSession,
    customer_ids: Sequence[uuid.UUID],
    *,
    at: datetime,
    money: Mapping[uuid.UUID, valuation_repository.MoneyFacts] | None = None,
) -> ValuationInputs:
    """With ``money``, the money facts read already at ``at`` (of these customers at least)."""
    if not customer_ids:
        return ValuationInputs({}, {}, {}, {})
    customers = await valuation_repository.customers_for_update(session, customer_ids)
    ids = [c.id for c in customers]
    if money is None:
        money = await valuation_repository.money_facts(session, ids, now=at)
    return ValuationInputs(
        customers={c.id: c for c in customers},
        accounts=await accounts_repository.accounts_of_customers(session, ids),
        money=dict(money),
        satisfaction=await surveys_repository.satisfaction_averages_at(session, ids, at=at),
    )


@dataclass(frozen=True)
class MovingCustomers:
    """The customers of a run whose segments move, in id order, and their money facts."""

    ids: list[uuid.UUID]
    money: dict[uuid.UUID, valuation_repository.MoneyFacts]


async def mark_standing_valued(
    session: AsyncSession,
    asked: Mapping[uuid.UUID, datetime],
    *,
    settings: Settings,
    at: datetime,
) -> MovingCustomers:
    """Decide again the customers (locked) of ``asked``, each with the time of the latest
    event that asks, and mark valued those whose segments all stand; returns the ones whose
    segments move, for :func:`revalue_customer` to record and publish.

    Most revaluations move nothing. Deciding them from plain rows and marking them in one
    statement spares a consumer's run the loading of a hundred customers and their accounts
    as objects and the unit of work's update of each: what :func:`revalue_customer` would
    have done for them is exactly to stamp ``valued_at``. A customer who is not active, or
    was valued after the event that asks, is left as it is, as that function leaves them."""
    due = [
        customer
        for customer in await valuation_repository.standings(session, list(asked))
        if customer.status == CustomerStatus.ACTIVE
        and (customer.valued_at is None or customer.valued_at < asked[customer.id])
    ]
    ids = [customer.id for customer in due]
    balances = await accounts_repository.balances_of_customers(session, ids)
    money = await valuation_repository.money_facts(session, ids, now=at)
    standing: list[uuid.UUID] = []
    moving: list[uuid.UUID] = []
    for customer in due:
        accounts = balances.get(customer.id, [])
        facts = facts_of(customer, accounts, money.get(customer.id), settings=settings, at=at)
        stands = all(
            getattr(customer, decision.dimension) == decision.value
            for decision in decide_with_settings(facts, settings)
        )
        (standing if stands else moving).append(customer.id)
    await valuation_repository.mark_valued(session, standing, at=at)
    return MovingCustomers(sorted(moving), {c: money[c] for c in moving if c in money})


def direction_of(dimension: SegmentDimension, previous: str | None, current: str) -> str:
    if previous is None:
        return "initial"
    if dimension is not SegmentDimension.VALUE_TIER:
        return "lateral"
    before, after = TIER_RANK[ValueTier(previous)], TIER_RANK[ValueTier(current)]
    return "upgrade" if after > before else "downgrade" if after < before else "lateral"


def _policy(settings: Settings, tier: str) -> dict[str, str | int | bool]:
    return {
        key: (str(value) if isinstance(value, Decimal) else value)
        for key, value in settings.tier_policies[tier].model_dump().items()
    }


async def _apply(
    session: AsyncSession,
    customer: Customer,
    decision: SegmentDecision,
    *,
    settings: Settings,
    facts: SegmentFacts,
    at: datetime,
) -> bool:
    previous: str | None = getattr(customer, decision.dimension)
    if previous == decision.value:
        return False
    change, event = _segment_move(
        customer, decision, previous, settings=settings, facts=facts, at=at
    )
    await valuation_repository.add_segment_change(session, change)
    await record_event(session, event)
    return True


def _segment_move(
    customer: Customer,
    decision: SegmentDecision,
    previous: str | None,
    *,
    settings: Settings,
    facts: SegmentFacts,
    at: datetime,
) -> tuple[SegmentChange, CustomerSegmentChanged]:
    """Move the customer to the decided segment: the history's row and the event."""
    setattr(customer, decision.dimension, decision.value)
    change = SegmentChange(
        customer_id=customer.id,
        dimension=decision.dimension,
        previous=previous,
        current=decision.value,
        reason=decision.reason,
        facts=_facts_record(facts),
        effective_at=at,
    )
    is_tier = decision.dimension is SegmentDimension.VALUE_TIER
    event = CustomerSegmentChanged(
        customer_id=customer.id,
        dimension=decision.dimension,
        previous=previous,
        current=decision.value,
        direction=direction_of(decision.dimension, previous, decision.value),
        reason=decision.reason,
        policy=_policy(settings, decision.value) if is_tier else None,
        effective_at=at,
    )
    return change, event


def _facts_record(facts: SegmentFacts) -> dict[str, str | int | None]:
    return {
        "aum_cny": str(facts.aum_cny),
        "loan_balance_cny": str(facts.loan_balance_cny),
        "open_products": facts.open_products,
        "tenure_days": facts.tenure_days,
        "inflow_90d_cny": str(facts.inflow_90d_cny),
        "inflow_previous_90d_cny": str(facts.inflow_previous_90d_cny),
        "transactions_90d": facts.transactions_90d,
        "days_since_activity": facts.days_since_activity,
        "restriction": facts.restriction,
    }


async def place_in_quadrant(
    session: AsyncSession,
    customer: Customer,
    *,
    settings: Settings,
    at: datetime,
    inputs: ValuationInputs | None = None,
) -> bool:
    """Place the customer (locked) in their satisfaction/loyalty quadrant by the rule the 360
    view reads it by, and publish a move; returns whether they moved. Asked in the transaction
    that changes an input: a survey answer, a loyalty change, and the batch for answers that
    aged out of the index's window. Not kept in the segment history: the event carries the
    reason, and the view reads the quadrant live."""
    satisfaction = (
        await surveys_repository.satisfaction_average_at(session, customer.id, at=at)
        if inputs is None
        else inputs.satisfaction.get(customer.id)
    )
    quadrant = satisfaction_quadrant(
        customer.loyalty, satisfaction, satisfied_from=settings.satisfied_from
    )
    current = UNPLACED if quadrant is None else quadrant.value
    previous = customer.quadrant
    if (previous or UNPLACED) == current:
        return False
    customer.quadrant = current
    index = "no answer" if satisfaction is None else f"{satisfaction:.1f}"
    await record_event(
        session,
        CustomerSegmentChanged(
            customer_id=customer.id,
            dimension=SegmentDimension.QUADRANT,
            previous=previous,
            current=current,
            direction=direction_of(SegmentDimension.QUADRANT, previous, current),
            reason=(
                f"satisfaction index {index} (satisfied from {settings.satisfied_from}), "
                f"loyalty {customer.loyalty or 'not valued'}"
            ),
            policy=None,
            effective_at=at,
        ),
    )
    return True


async def record_initial_tier(
    session: AsyncSession, customer: Customer, *, settings: Settings, at: datetime
) -> None:
    """A new customer starts in a tier before any money moved: the history begins here."""
    change, event = initial_tier(customer, settings=settings, at=at)
    await valuation_repository.add_segment_change(session, change)
    await record_event(session, event)


def initial_tier(
    customer: Customer, *, settings: Settings, at: datetime
) -> tuple[SegmentChange, CustomerSegmentChanged]:
    """Place a new customer in their first tier: the history's first row and its event."""
    facts = SegmentFacts(
        aum_cny=Decimal("0"),
        loan_balance_cny=Decimal("0"),
        open_products=0,
        tenure_days=0,
        inflow_90d_cny=Decimal("0"),
        inflow_previous_90d_cny=Decimal("0"),
        transactions_90d=0,
        days_since_activity=None,
        restriction=customer.profile.get("restriction"),
    )
    decision = decide_value_tier(facts, settings.value_thresholds)
    return _segment_move(customer, decision, None, settings=settings, facts=facts, at=at)


async def revalue_customer(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    settings: Settings,
    at: datetime,
    unless_valued_since: datetime | None = None,
    inputs: ValuationInputs | None = None,
    recheck_quadrant: bool = False,
    attrition_evidence: Evidence | None = None,
) -> list[str]:
    """Decide every dimension again; returns the dimensions that changed.

    The quadrant is placed again when the loyalty changed, or always with
    ``recheck_quadrant`` (the batch: survey answers leave the index's window with time).
    With ``attrition_evidence`` (the batch, once a run), the customer is observed for the
    attrition model and their risk read again.

    With ``unless_valued_since`` (the time of the event that asks), nothing is done if the
    customer was valued after it: a batch of a thousand transactions is one valuation, not a
    thousand. ``inputs`` read for several customers at once (:func:`valuation_inputs`) must
    include this one; without them, this customer's are read."""
    if inputs is None:
        inputs = await valuation_inputs(session, [customer_id], at=at)
    customer = inputs.customers.get(customer_id)
    if customer is None or customer.status != CustomerStatus.ACTIVE:
        # A closed or erased customer is not valued again (nor is one by the batch): an
        # event consumed after the erasure must not publish anything more about them.
        return []
    if (
        unless_valued_since is not None
        and customer.valued_at is not None
        and customer.valued_at >= unless_valued_since
    ):
        return []
    customer.valued_at = at
    facts = facts_of(
        customer,
        inputs.accounts.get(customer.id, []),
        inputs.money.get(customer.id),
        settings=settings,
        at=at,
    )
    changed = []
    for decision in decide_with_settings(facts, settings):
        if await _apply(session, customer, decision, settings=settings, facts=facts, at=at):
            changed.append(decision.dimension.value)
    if (recheck_quadrant or SegmentDimension.LOYALTY in changed) and await place_in_quadrant(
        session, customer, settings=settings, at=at, inputs=inputs
    ):
        changed.append(SegmentDimension.QUADRANT.value)
    if attrition_evidence is not None and await attrition_service.assess(
        session,
        customer,
        facts,
        inputs.accounts.get(customer.id, []),
        evidence=attrition_evidence,
        settings=settings,
        at=at,
    ):
        changed.append(SegmentDimension.ATTRITION_RISK.value)
    if SegmentDimension.VALUE_TIER in changed:
        await ensure_manager(
            session,
            customer,
            settings=settings,
            reason=f"tier {customer.value_tier} needs a manager",
            at=at,
        )
    return changed


async def revalue_everyone(
    sessions: async_sessionmaker[AsyncSession],
    *,
    settings: Settings,
    at: datetime,
    page: int = 500,
) -> dict[str, int]:
    """The batch: every active customer decided again, each in a transaction of its own (a
    failure stops at one customer, and the run can be repeated: unchanged segments record
    nothing). Catches what time alone changes, such as dormancy. First, the attrition
    observations whose horizon has passed are learned; everyone's risk is then read from
    the model as it stands after them."""
    changed: dict[str, int] = {"customers": 0}
    learned = await attrition_service.learn_due_observations(sessions, settings=settings, at=at)
    if learned:
        changed["attrition_learned"] = learned
    evidence = await attrition_service.current_evidence(sessions)
    after: uuid.UUID | None = None
    while True:
        async with sessions() as session:
            ids = await valuation_repository.active_customer_ids(session, after=after, limit=page)
        if not ids:
            return changed
        for customer_id in ids:
            async with sessions() as session, session.begin():
                for dimension in await revalue_customer(
                    session,
                    customer_id,
                    settings=settings,
                    at=at,
                    recheck_quadrant=True,
                    attrition_evidence=evidence,
                ):
                    changed[dimension] = changed.get(dimension, 0) + 1
            changed["customers"] += 1
        after = ids[-1]
