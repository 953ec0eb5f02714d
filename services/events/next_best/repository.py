"""The next best action's queries: the customer's context and open opportunities, two
statements whatever the customer's history, and the adaptive models' evidence."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.models import Opportunity
from services.events.repository.opportunities import OPEN_STATUSES
from services.events.rules import ActionKind
from shared.adaptive_model import BinCounts, Evidence

# The predictor of the row that counts an action's responses in total.
TOTAL = ""

# Offers are counted as the detector's cap counts them (see ``detector.reached``): made, not
# held out, not service recovery, whatever became of them since.
_CONTEXT = text(
    "SELECT p.status, p.consent, p.open_complaints, p.manager_id, p.value_tier, p.quadrant,"
    " p.loyalty, p.lifecycle_stage,"
    " p.last_activity_at,"
    " (SELECT d.closing_balance FROM customer_days d WHERE d.customer_id = p.customer_id"
    "  AND d.closing_balance IS NOT NULL ORDER BY d.day DESC LIMIT 1) AS balance_now,"
    " (SELECT d.closing_balance FROM customer_days d WHERE d.customer_id = p.customer_id"
    "  AND d.closing_balance IS NOT NULL AND d.day <= :month_ago ORDER BY d.day DESC LIMIT 1)"
    "  AS balance_month_ago,"
    " (SELECT coalesce(array_agg(DISTINCT h.product_type), '{}') FROM customer_holdings h"
    "  WHERE h.customer_id = p.customer_id AND h.open) AS products_held,"
    " (SELECT coalesce(sum(d.conversations), 0) FROM customer_days d"
    "  WHERE d.customer_id = p.customer_id AND d.day >= :since_day) AS conversations,"
    " (SELECT count(*) FROM opportunities o WHERE o.customer_id = p.customer_id"
    "  AND o.created_at >= :since_at AND NOT o.control_group AND o.action <> :recovery)"
    "  AS offers"
    " FROM customer_profiles p WHERE p.customer_id = :customer_id"
)


@dataclass(frozen=True)
class ContextRow:
    status: str
    consent: dict[str, bool]
    open_complaints: int
    manager_id: str | None
    products_held: list[str]
    conversations: int
    offers: int
    value_tier: str | None
    quadrant: str | None
    loyalty: str | None
    lifecycle_stage: str | None
    last_activity_at: datetime | None
    balance_now: Decimal | None
    balance_month_ago: Decimal | None


async def context_of(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    since_day: date,
    since_at: datetime,
    month_ago: date,
) -> ContextRow | None:
    row = (
        await session.execute(
            _CONTEXT,
            {
                "customer_id": customer_id,
                "since_day": since_day,
                "since_at": since_at,
                "month_ago": month_ago,
                "recovery": ActionKind.SERVICE_RECOVERY.value,
            },
        )
    ).one_or_none()
    return None if row is None else ContextRow(**row._mapping)


async def open_offers(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[Opportunity]:
    """The customer's open opportunities (held-out ones are never offered)."""
    statement = (
        select(Opportunity)
        .where(
            Opportunity.customer_id == customer_id,
            Opportunity.status.in_(OPEN_STATUSES),
            Opportunity.control_group.is_(False),
        )
        .order_by(Opportunity.created_at, Opportunity.id)
    )
    return (await session.scalars(statement)).all()


_EVIDENCE = text(
    "SELECT action_id, predictor, bin, positives, negatives FROM action_evidence"
    " WHERE action_id = ANY(:actions)"
)


async def evidence(session: AsyncSession, actions: Sequence[str]) -> dict[str, Evidence]:
    """Each action's model as its counts stand (one statement, a few hundred rows)."""
    models: dict[str, Evidence] = {}
    for row in await session.execute(_EVIDENCE, {"actions": list(actions)}):
        model = models.setdefault(row.action_id, Evidence())
        if row.predictor == TOTAL:
            model.positives, model.negatives = row.positives, row.negatives
        else:
            model.add(row.predictor, row.bin, BinCounts(row.positives, row.negatives))
    return models
