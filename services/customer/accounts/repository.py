"""Queries of accounts, their transactions and the customers' monthly figures."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.customers.repository import Custody
from services.customer.models import Account, Customer, PostedTransaction


async def get_account(
    session: AsyncSession, account_number: str, *, for_update: bool = False
) -> Account | None:
    statement = select(Account).where(Account.account_number == account_number)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


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


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """What valuing a customer reads of an account (``valuation.money.HeldBalance``)."""

    product_type: str
    currency: str
    balance: Decimal
    status: str


# Built once, with the customers as one array parameter: a consumer's run reads a hundred
# customers' accounts, and an IN list is expanded value by value on every execution.
_BALANCES = select(
    Account.customer_id, Account.product_type, Account.currency, Account.balance, Account.status
).where(Account.customer_id == any_(bindparam("customer_ids", type_=ARRAY(UUID(as_uuid=True)))))


async def balances_of_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AccountBalance]]:
    """Each customer's accounts as plain rows, in one statement: what the consumer's runs
    value most customers by, without loading the accounts as objects."""
    held: dict[uuid.UUID, list[AccountBalance]] = {}
    if customer_ids:
        rows = await session.execute(_BALANCES, {"customer_ids": list(customer_ids)})
        for customer_id, product_type, currency, balance, status in rows:
            account = AccountBalance(product_type, currency, balance, status)
            held.setdefault(customer_id, []).append(account)
    return held


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
            # Inline, not a parameter: a prepared statement's generic plan can use the
            # partial index of fees only when it sees the kind.
            PostedTransaction.kind == literal_column("'fee'"),
            PostedTransaction.booked_at >= since,
            PostedTransaction.reversed_at.is_(None),  # a fee refunded by reversal was not paid
        )
        .group_by(PostedTransaction.currency)
    )
