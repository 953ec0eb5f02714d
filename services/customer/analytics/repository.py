"""Queries behind the analytics: valuation of every active customer, tier migration, share of
wallet, retention, products held.

Written as SQL: they are set computations over the whole book (window functions, DISTINCT ON
histories) that read best as the statements PostgreSQL runs."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.wallet.repository import TO_OTHER_BANKS

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
    SELECT c.id, c.name, c.kind, c.value_tier, c.loyalty, c.manager_id, c.branch_code,
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
        "   coalesce(extract(day FROM CAST(:now AS timestamptz) - greatest("
        "     (SELECT max(booked_at) FROM transactions l WHERE l.customer_id = c.id),"
        "     (SELECT max(occurred_at) FROM interactions i WHERE i.customer_id = c.id))),"
        "     100000)"
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


async def wallet_by_tier(
    session: AsyncSession,
    parameters: dict[str, Any],
    *,
    start: datetime,
    end: datetime,
    branch_code: str | None,
) -> Sequence[Row[Any]]:
    """Per tier, and for everyone (``value_tier`` null): how many customers declared their
    holdings elsewhere, the bank's and the declared wealth of those, their shares in bands,
    and the transfers to other banks in [start, end) of every customer."""
    statement = text(
        _VALUED + ", declared AS (SELECT customer_id, sum(amount_cny) AS elsewhere"  # nosec B608
        "   FROM external_holdings GROUP BY customer_id),"
        " outflows AS (SELECT t.customer_id, sum(t.amount * r.rate) AS outflow"
        "   FROM transactions t JOIN rates r ON r.currency = t.currency"
        "   WHERE t.booked_at >= :start AND t.booked_at < :end AND "
        + TO_OTHER_BANKS
        + "   GROUP BY t.customer_id),"
        " shares AS (SELECT v.value_tier, v.aum, d.elsewhere, o.outflow,"
        "   CASE WHEN v.aum + d.elsewhere > 0 THEN v.aum / (v.aum + d.elsewhere) END AS share"
        "   FROM valued v LEFT JOIN declared d ON d.customer_id = v.id"
        "   LEFT JOIN outflows o ON o.customer_id = v.id"
        "   WHERE CAST(:branch_code AS text) IS NULL OR v.branch_code = :branch_code)"
        " SELECT value_tier, count(*) AS customers, count(elsewhere) AS known,"
        "   coalesce(sum(aum) FILTER (WHERE elsewhere IS NOT NULL), 0) AS known_aum,"
        "   coalesce(sum(elsewhere), 0) AS elsewhere, avg(share) AS mean_share,"
        "   count(*) FILTER (WHERE share < 0.25) AS quarter_1,"
        "   count(*) FILTER (WHERE share >= 0.25 AND share < 0.5) AS quarter_2,"
        "   count(*) FILTER (WHERE share >= 0.5 AND share < 0.75) AS quarter_3,"
        "   count(*) FILTER (WHERE share >= 0.75) AS quarter_4,"
        "   coalesce(sum(outflow), 0) AS outflow, count(outflow) AS with_outflow"
        " FROM shares GROUP BY GROUPING SETS ((value_tier), ())"
    )
    values = {**parameters, "start": start, "end": end, "branch_code": branch_code}
    return (await session.execute(statement, values)).all()


# Active at a moment: a posting or an interaction in the idle window up to it, the loyalty
# rule's test for a customer who is not non-cooperative. Written for a `customers c`.
_ACTIVE_AT = (
    "(EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id"
    "   AND t.booked_at > CAST({at} AS timestamptz) - CAST(:idle AS interval)"
    "   AND t.booked_at <= {at})"
    " OR EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id"
    "   AND i.occurred_at > CAST({at} AS timestamptz) - CAST(:idle AS interval)"
    "   AND i.occurred_at <= {at}))"
)


async def retention(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    idle: timedelta,
    by_tier: bool,
    cohort_format: str,
    zone: str,
    branch_code: str | None,
) -> Sequence[Row[Any]]:
    """Of the customers active at ``start`` (registered, not closed, not lapsed), grouped by
    their tier at ``start`` or by when they became customers: how many were closed (or
    erased) by ``end``, and how many of the rest had lapsed by then."""
    statement = text(
        "WITH base AS (SELECT c.id, c.closed_at,"  # nosec B608
        "   CASE WHEN :by_tier THEN coalesce((SELECT s.current FROM segment_changes s"
        "     WHERE s.customer_id = c.id AND s.dimension = 'value_tier'"
        "     AND s.effective_at <= :start ORDER BY s.effective_at DESC, s.id DESC LIMIT 1),"
        "     'unrecorded')"
        "   ELSE to_char(c.created_at AT TIME ZONE :zone, :cohort_format) END AS grouped,"
        "   NOT " + _ACTIVE_AT.format(at=":end") + " AS lapsed"
        "   FROM customers c"
        "   WHERE c.created_at <= :start AND (c.closed_at IS NULL OR c.closed_at > :start)"
        "   AND (CAST(:branch_code AS text) IS NULL OR c.branch_code = :branch_code)"
        "   AND " + _ACTIVE_AT.format(at=":start") + ")"
        " SELECT grouped, count(*) AS active_at_start,"
        "   count(*) FILTER (WHERE closed_at <= :end) AS closed,"
        "   count(*) FILTER (WHERE (closed_at IS NULL OR closed_at > :end) AND lapsed) AS lapsed"
        " FROM base GROUP BY grouped"
    )
    values = {
        "start": start,
        "end": end,
        "idle": idle,
        "by_tier": by_tier,
        "cohort_format": cohort_format,
        "zone": zone,
        "branch_code": branch_code,
    }
    return (await session.execute(statement, values)).all()


async def products_held(session: AsyncSession, *, branch_code: str | None) -> Sequence[Row[Any]]:
    """Per tier, how many active customers hold each number of kinds of product (open)."""
    statement = text(
        "WITH held AS (SELECT c.value_tier, count(DISTINCT a.product_type) AS products"
        "   FROM customers c"
        "   LEFT JOIN accounts a ON a.customer_id = c.id AND a.status = 'open'"
        "   WHERE c.status = 'active'"
        "   AND (CAST(:branch_code AS text) IS NULL OR c.branch_code = :branch_code)"
        "   GROUP BY c.id, c.value_tier)"
        " SELECT value_tier, products, count(*) AS customers FROM held GROUP BY 1, 2"
    )
    return (await session.execute(statement, {"branch_code": branch_code})).all()
