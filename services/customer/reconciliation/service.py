"""Reconciliation with core banking: its end-of-day balance of each account against the view's.

Core banking is the bank's book of record; the view is built from the transactions it sent.
A balance that differs means a transaction the view missed, or one it holds that core banking
does not. Each run is kept, with the accounts that did not match, and the same figures for
the same day sent again are the same run, so a retried upload changes nothing.

Functions take the request's session and never commit."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.errors import ReconciliationNotFound
from services.customer.reconciliation import repository as reconciliation_repository
from services.customer.reconciliation.models import ReconciliationDifference, ReconciliationRun
from services.customer.reconciliation.schemas import (
    BalanceDifference,
    EndOfDayBalances,
    Outcome,
    ReconciliationCounts,
    ReconciliationRead,
)
from shared.masking import mask_account
from shared.pagination import decode_position, encode_position
from shared.periods import end_of
from shared.problems import InvalidField


def check_figures(
    figures: EndOfDayBalances, *, business_date: date, now: datetime, zone: ZoneInfo
) -> None:
    """What the schema cannot say: the day has ended in the bank's time zone, and each
    account has one line."""
    if end_of(business_date, zone) > now:
        raise InvalidField("business_date", "the business day has not ended yet", where="query")
    first_line: dict[str, int] = {}
    for index, line in enumerate(figures.balances):
        earlier = first_line.setdefault(line.account_number, index)
        if earlier != index:
            raise InvalidField(f"balances[{index}].account_number", f"repeats balances[{earlier}]")


def digest_of(figures: EndOfDayBalances) -> str:
    """The figures' SHA-256, whatever their order and form (JSON or file): a line per account
    in account-number order, the balance to the cent."""
    lines = sorted(
        f"{line.account_number},{line.currency},{line.balance:.2f}\n" for line in figures.balances
    )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class Reconciled:
    run: ReconciliationRun
    new: bool  # False: these figures of this day had been reconciled before


async def reconcile(
    session: AsyncSession,
    figures: EndOfDayBalances,
    *,
    business_date: date,
    digest: str,
    zone: ZoneInfo,
) -> Reconciled:
    """Compare core banking's figures for ``business_date`` (their ``digest_of``) with the
    view's balances at the end of that day in the bank's time zone, and keep the run."""
    run_id = uuid.uuid4()
    claimed = await reconciliation_repository.claim_run(
        session, run_id, business_date=business_date, digest=digest
    )
    if not claimed:
        earlier = await reconciliation_repository.run_of_figures(
            session, business_date=business_date, digest=digest
        )
        assert earlier is not None, "its claim is what refused ours"
        return Reconciled(earlier, new=False)
    counts = await reconciliation_repository.compare(
        session,
        run_id,
        day=business_date,
        day_ends=end_of(business_date, zone),
        numbers=[line.account_number for line in figures.balances],
        currencies=[line.currency for line in figures.balances],
        balances=[line.balance for line in figures.balances],
    )
    run = await reconciliation_repository.get_run(session, run_id)
    assert run is not None, "claimed above in this transaction"
    run.compared = len(figures.balances)
    run.matching = counts.get(Outcome.MATCHING, 0)
    run.differing = counts.get(Outcome.DIFFERING, 0)
    run.unknown = counts.get(Outcome.UNKNOWN, 0)
    run.missing = counts.get(Outcome.MISSING, 0)
    await session.flush()
    return Reconciled(run, new=True)


async def latest_differing(session: AsyncSession) -> int | None:
    """Accounts differing in the run of the latest business date; None before any run."""
    latest = await reconciliation_repository.latest_run(session)
    return None if latest is None else latest.differing


async def reconciliation_read(
    session: AsyncSession, run: ReconciliationRun, *, cursor: str | None, limit: int
) -> ReconciliationRead:
    """The run with a page of the accounts that did not match."""
    after = decode_position(cursor) if cursor else 0
    rows = await reconciliation_repository.differences(
        session, run.id, after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    return ReconciliationRead(
        id=run.id,
        business_date=run.business_date,
        digest=run.digest,
        received_at=run.received_at,
        counts=ReconciliationCounts(
            compared=run.compared,
            matching=run.matching,
            differing=run.differing,
            unknown=run.unknown,
            missing=run.missing,
        ),
        differences=[_difference(row) for row in page],
        next_cursor=encode_position(page[-1].position) if more and page else None,
    )


async def get_reconciliation(
    session: AsyncSession, run_id: uuid.UUID, *, cursor: str | None, limit: int
) -> ReconciliationRead:
    run = await reconciliation_repository.get_run(session, run_id)
    if run is None:
        raise ReconciliationNotFound(f"no reconciliation {run_id}")
    return await reconciliation_read(session, run, cursor=cursor, limit=limit)


def _difference(row: ReconciliationDifference) -> BalanceDifference:
    return BalanceDifference(
        account_number=mask_account(row.account_number),
        outcome=Outcome(row.outcome),
        core_currency=row.core_currency,
        core_balance=row.core_balance,
        view_currency=row.view_currency,
        view_balance=row.view_balance,
        difference=row.difference,
    )
