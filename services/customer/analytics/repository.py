"""Queries behind the analytics: valuation of every active customer, tier migration.

Written as SQL: they are set computations over the whole book (window functions, DISTINCT ON
histories) that read best as the statements PostgreSQL runs."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

# Every active customer with assets, loans (both in CNY) and a yearly contribution estimate:
# margins on balances plus fees paid over the last year, less the cost of serving them.
# Prefixed to the statements below (hence their `nosec B608`): a constant, never input.
_VALUED = """
WITH rates AS (
    SELECT * FROM unnest(CAST(:currencies AS text[]), CAST(:rates AS numeric[]))
        AS r(currency, rate)
),
balances AS (
    SELECT a.customer_id,
        sum(a.balance * r.rate) FILTER (
            WHERE a.product_type IN ('current', 'term_deposit', 'wealth')) AS aum,
        sum(a.balance * r.rate) FILTER (WHERE a.product_type = 'loan') AS loans
    FROM accounts a JOIN rates r ON r.currency = a.currency
    WHERE a.status = 'open'
    GROUP BY a.customer_id
),
fees AS (
    SELECT t.customer_id, sum(t.amount * r.rate) AS fees
    FROM transactions t JOIN rates r ON r.currency = t.currency
    WHERE t.kind = 'fee' AND t.booked_at >= :since
    GROUP BY t.customer_id
),
valued AS (
    SELECT c.id, c.name, c.kind, c.value_tier, c.loyalty, c.manager_id,
        coalesce(b.aum, 0) AS aum,
        coalesce(b.loans, 0) AS loans,
        coalesce(b.aum, 0) * :deposit_margin + coalesce(b.loans, 0) * :loan_margin
            + coalesce(f.fees, 0) - :cost_to_serve AS contribution
    FROM customers c
    LEFT JOIN balances b ON b.customer_id = c.id
    LEFT JOIN fees f ON f.customer_id = c.id
    WHERE c.status = 'active'
)
"""


def valuation_parameters(
    *,
    rates: dict[str, Decimal],
    since: datetime,
    deposit_margin: Decimal,
    loan_margin: Decimal,
    cost_to_serve: Decimal,
) -> dict[str, Any]:
    return {
        "currencies": list(rates),
        "rates": list(rates.values()),
        "since": since,
        "deposit_margin": deposit_margin,
        "loan_margin": loan_margin,
        "cost_to_serve": cost_to_serve,
    }


async def value_by_tier(session: AsyncSession, parameters: dict[str, Any]) -> Sequence[Row[Any]]:
    statement = text(
        _VALUED + "SELECT value_tier, count(*) AS customers, sum(aum) AS aum,"  # nosec B608
        " sum(contribution) AS contribution FROM valued GROUP BY value_tier"
    )
    return (await session.execute(statement, parameters)).all()


async def top_fifth_share(session: AsyncSession, parameters: dict[str, Any]) -> Row[Any]:
    """What the most valuable 20% of customers hold and earn, against everyone."""
    statement = text(
        _VALUED + ", ranked AS (SELECT aum, contribution,"  # nosec B608
        " ntile(5) OVER (ORDER BY contribution DESC) AS fifth FROM valued)"
        " SELECT coalesce(sum(aum) FILTER (WHERE fifth = 1), 0) AS top_aum,"
        " coalesce(sum(aum), 0) AS all_aum,"
        " coalesce(sum(contribution) FILTER (WHERE fifth = 1), 0) AS top_contribution,"
        " coalesce(sum(contribution), 0) AS all_contribution,"
        " count(*) FILTER (WHERE contribution < 0) AS loss_making,"
        " count(*) FILTER (WHERE contribution >= 0 AND contribution < :cost_to_serve)"
        "   AS marginal,"
        " count(*) FILTER (WHERE contribution >= :cost_to_serve) AS profitable"
        " FROM ranked"
    )
    return (await session.execute(statement, parameters)).one()


async def drifting_customers(
    session: AsyncSession,
    parameters: dict[str, Any],
    *,
    satisfied_from: Decimal | None,
    survey_since: datetime,
    limit: int,
) -> Sequence[Row[Any]]:
    """Customers drifting away, most valuable first; with ``satisfied_from``, only those whose
    satisfaction index says they are satisfied."""
    statement = text(
        _VALUED + ", satisfaction AS (SELECT customer_id, avg(coalesce("  # nosec B608
        "   ((csat - 1) * 25.0 + nps * 10.0) / 2, (csat - 1) * 25.0, nps * 10.0)) AS idx"
        "   FROM survey_answers WHERE answered_at >= :survey_since GROUP BY customer_id)"
        " SELECT v.id, v.name, v.kind, v.value_tier, v.manager_id, v.aum, v.contribution,"
        "   s.idx AS satisfaction_index"
        " FROM valued v LEFT JOIN satisfaction s ON s.customer_id = v.id"
        " WHERE v.loyalty = 'drifting'"
        "   AND (CAST(:satisfied_from AS numeric) IS NULL OR s.idx >= :satisfied_from)"
        " ORDER BY v.aum DESC, v.id LIMIT :limit"
    )
    values = {
        **parameters,
        "satisfied_from": satisfied_from,
        "survey_since": survey_since,
        "limit": limit,
    }
    return (await session.execute(statement, values)).all()


async def tier_migration(
    session: AsyncSession, *, start: datetime, end: datetime
) -> Sequence[Row[Any]]:
    """How many customers went from each tier at ``start`` to each tier at ``end``."""
    statement = text(
        "WITH at_start AS (SELECT DISTINCT ON (customer_id) customer_id, current"
        "   FROM segment_changes WHERE dimension = 'value_tier' AND effective_at <= :start"
        "   ORDER BY customer_id, effective_at DESC, id DESC),"
        " at_end AS (SELECT DISTINCT ON (customer_id) customer_id, current"
        "   FROM segment_changes WHERE dimension = 'value_tier' AND effective_at <= :end"
        "   ORDER BY customer_id, effective_at DESC, id DESC)"
        " SELECT coalesce(s.current, 'new') AS from_tier, e.current AS to_tier,"
        "   count(*) AS customers"
        " FROM at_end e LEFT JOIN at_start s ON s.customer_id = e.customer_id"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    )
    return (await session.execute(statement, {"start": start, "end": end})).all()


async def rfm_scores(
    session: AsyncSession,
    *,
    rates: dict[str, Decimal],
    now: datetime,
    since: datetime,
    limit: int,
) -> Sequence[Row[Any]]:
    """Recency, frequency and monetary value over the period, each scored 1-5 by quintile of
    percent rank against every active customer (5 is best; ties score alike), highest first."""
    statement = text(
        "WITH rates AS (SELECT * FROM unnest(CAST(:currencies AS text[]),"
        "   CAST(:rates AS numeric[])) AS r(currency, rate)),"
        " activity AS (SELECT c.id, c.name, c.value_tier,"
        "   coalesce(extract(day FROM CAST(:now AS timestamptz) - c.last_activity_at), 100000)"
        "     AS recency_days,"
        "   count(t.transaction_id) AS frequency,"
        "   coalesce(sum(t.amount * r.rate) FILTER (WHERE t.direction = 'credit'), 0)"
        "     AS monetary"
        "   FROM customers c"
        "   LEFT JOIN transactions t ON t.customer_id = c.id AND t.booked_at >= :since"
        "   LEFT JOIN rates r ON r.currency = t.currency"
        "   WHERE c.status = 'active' GROUP BY c.id),"
        # Quintiles by percent rank, so that equal values always get equal scores.
        " scored AS (SELECT *,"
        "   least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY recency_days DESC)))::int"
        "     AS r_score,"
        "   least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY frequency)))::int AS f_score,"
        "   least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY monetary)))::int AS m_score"
        "   FROM activity)"
        " SELECT * FROM scored"
        " ORDER BY r_score + f_score + m_score DESC, monetary DESC, id LIMIT :limit"
    )
    values = {
        "currencies": list(rates),
        "rates": list(rates.values()),
        "now": now,
        "since": since,
        "limit": limit,
    }
    return (await session.execute(statement, values)).all()
