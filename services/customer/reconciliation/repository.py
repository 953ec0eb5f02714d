"""Queries of reconciliation: the comparison itself, and the runs kept."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.reconciliation.models import ReconciliationDifference, ReconciliationRun

# One statement over the whole batch, whatever its size: the figures go in as three arrays.
#
# The view's balance at the end of the day is the opening balance moved by every transaction
# booked before the day ended, less those reversed (冲正) before it ended. Summed, not read
# from the last transaction's balance_after: that figure follows the order of posting, so a
# transaction posted late, or a reversal, made it wrong for the day. The account's
# transactions are found through the customer's (customer_id, booked_at) index.
#
# An account is the view's that day once it was opened; one closed before the day is still
# compared when core banking names it, but is not missed when it does not.
#
# The accounts core banking named come first, then those it missed: a day's run can miss every
# account the view holds, and the few figures that really differ must not sink behind them.
_COMPARE = text(
    """
WITH core AS (
    SELECT * FROM unnest(
        CAST(:numbers AS varchar[]), CAST(:currencies AS varchar[]),
        CAST(:balances AS numeric[])
    ) AS c(account_number, currency, balance)
),
held AS (
    SELECT a.account_number, a.currency,
           a.opening_balance + coalesce(moved.amount, 0) AS balance,
           (a.closed_on IS NULL OR a.closed_on >= :day) AS open_that_day
    FROM accounts a
    LEFT JOIN LATERAL (
        SELECT sum(
                   CASE WHEN t.direction = 'credit' THEN t.amount ELSE -t.amount END
                   * CASE WHEN a.product_type = 'loan' THEN -1 ELSE 1 END
                   * CASE WHEN t.reversed_at < :day_ends THEN 0 ELSE 1 END
               ) AS amount
        FROM transactions t
        WHERE t.customer_id = a.customer_id AND t.account_number = a.account_number
          AND t.booked_at < :day_ends
    ) moved ON true
    WHERE a.opened_on <= :day
),
compared AS (
    SELECT coalesce(c.account_number, h.account_number) AS account_number,
           c.currency AS core_currency, c.balance AS core_balance,
           h.currency AS view_currency, h.balance AS view_balance,
           CASE WHEN h.account_number IS NULL THEN 'unknown'
                WHEN c.account_number IS NULL THEN 'missing'
                WHEN c.currency = h.currency AND c.balance = h.balance THEN 'matching'
                ELSE 'differing' END AS outcome
    FROM core c FULL JOIN held h ON h.account_number = c.account_number
    WHERE c.account_number IS NOT NULL OR h.open_that_day
),
kept AS (
    INSERT INTO reconciliation_differences (
        run_id, position, account_number, outcome,
        core_currency, core_balance, view_currency, view_balance, difference
    )
    SELECT CAST(:run_id AS uuid),
           row_number() OVER (ORDER BY outcome = 'missing', account_number),
           account_number, outcome,
           core_currency, core_balance, view_currency, view_balance,
           CASE WHEN core_currency = view_currency THEN core_balance - view_balance END
    FROM compared WHERE outcome <> 'matching'
)
SELECT outcome, count(*) AS accounts FROM compared GROUP BY outcome
"""
)


async def compare(
    session: AsyncSession,
    run_id: uuid.UUID,
    *,
    day: date,
    day_ends: datetime,
    numbers: Sequence[str],
    currencies: Sequence[str],
    balances: Sequence[Decimal],
) -> dict[str, int]:
    """Compare core banking's figures with the view's, keep the accounts that do not match
    under ``run_id``, and count the accounts of each outcome."""
    rows = await session.execute(
        _COMPARE,
        {
            "run_id": run_id,
            "day": day,
            "day_ends": day_ends,
            "numbers": list(numbers),
            "currencies": list(currencies),
            "balances": list(balances),
        },
    )
    return {row.outcome: row.accounts for row in rows}


async def claim_run(
    session: AsyncSession, run_id: uuid.UUID, *, business_date: date, digest: str
) -> bool:
    """Record a run for these figures; False when the same figures of the same day already
    have one (a concurrent twin waits here until the first commits or rolls back)."""
    claimed = await session.scalar(
        insert(ReconciliationRun)
        .values(
            id=run_id,
            business_date=business_date,
            digest=digest,
            compared=0,
            matching=0,
            differing=0,
            unknown=0,
            missing=0,
        )
        .on_conflict_do_nothing(index_elements=["business_date", "digest"])
        .returning(ReconciliationRun.id)
    )
    return claimed is not None


async def run_of_figures(
    session: AsyncSession, *, business_date: date, digest: str
) -> ReconciliationRun | None:
    return await session.scalar(
        select(ReconciliationRun).where(
            ReconciliationRun.business_date == business_date, ReconciliationRun.digest == digest
        )
    )


async def get_run(session: AsyncSession, run_id: uuid.UUID) -> ReconciliationRun | None:
    return await session.get(ReconciliationRun, run_id)


async def latest_run(session: AsyncSession) -> ReconciliationRun | None:
    """The run of the latest business date; of that date's runs, the last received."""
    return await session.scalar(
        select(ReconciliationRun)
        .order_by(ReconciliationRun.business_date.desc(), ReconciliationRun.received_at.desc())
        .limit(1)
    )


async def differences(
    session: AsyncSession, run_id: uuid.UUID, *, after: int, limit: int
) -> Sequence[ReconciliationDifference]:
    return (
        await session.scalars(
            select(ReconciliationDifference)
            .where(
                ReconciliationDifference.run_id == run_id,
                ReconciliationDifference.position > after,
            )
            .order_by(ReconciliationDifference.position)
            .limit(limit)
        )
    ).all()
