"""Queries of accounts, their transactions and the customers' monthly figures."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from sqlalchemy import ColumnElement, Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.customers.repository import Custody
from services.customer.models import Account, Customer, PostedTransaction
from shared.bulk import copy_rows


async def get_account(
    session: AsyncSession, account_number: str, *, for_update: bool = False
) -> Account | None:
    statement = select(Account).where(Account.account_number == account_number)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


@dataclass(slots=True)
class PostingAccount:
    """What posting a transaction needs of an account, read under the account's row lock.
    Plain columns rather than ORM objects: a batch reads up to a thousand accounts, and
    loading, tracking and flushing that many ORM objects cost more than the batch's COPY."""

    account_number: str
    customer_id: uuid.UUID
    product_type: str
    status: str
    currency: str
    balance: Decimal


# Always in account-number order, so two batches touching the same accounts cannot deadlock
# each other.
_LOCK_ACCOUNTS = text(
    "SELECT account_number, customer_id, product_type, status, currency, balance"
    " FROM accounts WHERE account_number = ANY(CAST(:numbers AS varchar[]))"
    " ORDER BY account_number FOR UPDATE"
)

_SET_BALANCES = text(
    "UPDATE accounts a SET balance = v.balance"
    " FROM unnest(CAST(:numbers AS varchar[]), CAST(:balances AS numeric[]))"
    " AS v(account_number, balance) WHERE a.account_number = v.account_number"
)


async def lock_accounts(session: AsyncSession, numbers: Iterable[str]) -> dict[str, PostingAccount]:
    result = await session.execute(_LOCK_ACCOUNTS, {"numbers": sorted(set(numbers))})
    return {row.account_number: PostingAccount(**row._mapping) for row in result}


async def set_balances(session: AsyncSession, balances: dict[str, Decimal]) -> None:
    """Write the accounts' new balances in one statement (their rows are locked)."""
    if balances:
        await session.execute(
            _SET_BALANCES, {"numbers": list(balances), "balances": list(balances.values())}
        )


async def accounts_of(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[Account]:
    return (await accounts_of_customers(session, [customer_id])).get(customer_id, [])


async def accounts_of_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Account]]:
    """Each customer's accounts in the order they were opened, in one statement."""
    if not customer_ids:
        return {}
    statement = select(Account).where(Account.customer_id.in_(customer_ids))
    held: dict[uuid.UUID, list[Account]] = {}
    for account in (await session.scalars(statement.order_by(Account.opened_on))).all():
        held.setdefault(account.customer_id, []).append(account)
    return held


_EXISTING_TRANSACTION_IDS = text(
    "SELECT transaction_id FROM transactions WHERE transaction_id = ANY(CAST(:ids AS varchar[]))"
)


async def existing_transaction_ids(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    return set((await session.scalars(_EXISTING_TRANSACTION_IDS, {"ids": list(ids)})).all())


TRANSACTION_COLUMNS = (
    "transaction_id",
    "customer_id",
    "account_number",
    "direction",
    "amount",
    "currency",
    "balance_after",
    "kind",
    "channel",
    "counterparty_name",
    "counterparty_bank",
    "description",
    "booked_at",
)


class DuplicateTransactionId(Exception):
    """A transaction id is already posted (by a concurrent batch)."""


async def insert_transactions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk-load new transactions; raises DuplicateTransactionId if one is already there."""
    if not rows:
        return
    try:
        await copy_rows(
            session,
            PostedTransaction.__tablename__,
            TRANSACTION_COLUMNS,
            [tuple(row[column] for column in TRANSACTION_COLUMNS) for row in rows],
        )
    except UniqueViolationError as error:
        raise DuplicateTransactionId(str(error)) from error


_ADD_MONTHLY_FLOWS = text(
    "INSERT INTO monthly_flows"
    " (customer_id, month, currency, money_in, money_out, transaction_count)"
    " SELECT * FROM unnest(CAST(:customers AS uuid[]), CAST(:months AS date[]),"
    " CAST(:currencies AS varchar[]), CAST(:money_in AS numeric[]),"
    " CAST(:money_out AS numeric[]), CAST(:counts AS integer[]))"
    " ON CONFLICT (customer_id, month, currency) DO UPDATE SET"
    " money_in = monthly_flows.money_in + excluded.money_in,"
    " money_out = monthly_flows.money_out + excluded.money_out,"
    " transaction_count = monthly_flows.transaction_count + excluded.transaction_count"
)


async def add_monthly_flows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add to the customers' running monthly figures, in one statement of arrays (one
    parameter per column, whatever the number of rows)."""
    if not rows:
        return
    await session.execute(
        _ADD_MONTHLY_FLOWS,
        {
            "customers": [row["customer_id"] for row in rows],
            "months": [row["month"] for row in rows],
            "currencies": [row["currency"] for row in rows],
            "money_in": [row["money_in"] for row in rows],
            "money_out": [row["money_out"] for row in rows],
            "counts": [row["transaction_count"] for row in rows],
        },
    )


async def custody_of_account(session: AsyncSession, account_number: str) -> Custody | None:
    row = (
        await session.execute(
            select(Customer.manager_id, Customer.branch_code)
            .join(Account, Account.customer_id == Customer.id)
            .where(Account.account_number == account_number)
        )
    ).one_or_none()
    return Custody(row.manager_id, row.branch_code) if row else None


def fees_by_currency(
    customer_id: uuid.UUID | ColumnElement[uuid.UUID], *, since: datetime | ColumnElement[datetime]
) -> Select[str, Decimal]:
    """The fees a customer paid since a moment, per currency (``currency``, ``total``)."""
    return (
        select(PostedTransaction.currency, func.sum(PostedTransaction.amount).label("total"))
        .where(
            PostedTransaction.customer_id == customer_id,
            PostedTransaction.kind == "fee",
            PostedTransaction.booked_at >= since,
            PostedTransaction.reversed_at.is_(None),  # a fee refunded by reversal was not paid
        )
        .group_by(PostedTransaction.currency)
    )
