"""Queries of customers, identifiers, accounts, transactions, interactions and segments."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import (
    Account,
    Customer,
    CustomerIdentifier,
    Direction,
    IdentifierKind,
    Interaction,
    PostedTransaction,
    SegmentChange,
)
from shared.bulk import copy_rows


async def get_customer(
    session: AsyncSession, customer_id: uuid.UUID, *, for_update: bool = False
) -> Customer | None:
    statement = select(Customer).where(Customer.id == customer_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def customers_for_update(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID]
) -> list[Customer]:
    """The customers, locked in id order (see :func:`lock_customers`)."""
    statement = (
        select(Customer)
        .where(Customer.id.in_(customer_ids))
        .order_by(Customer.id)
        .with_for_update()
    )
    return list((await session.scalars(statement)).all())


async def customers_by_identifier(
    session: AsyncSession, kind: IdentifierKind, value: str, *, limit: int = 10
) -> Sequence[Customer]:
    statement = (
        select(Customer)
        .join(CustomerIdentifier, CustomerIdentifier.customer_id == Customer.id)
        .where(CustomerIdentifier.kind == kind, CustomerIdentifier.value == value)
        .order_by(Customer.created_at)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def identifier_owner(
    session: AsyncSession, kind: IdentifierKind, value: str
) -> uuid.UUID | None:
    statement = select(CustomerIdentifier.customer_id).where(
        CustomerIdentifier.kind == kind, CustomerIdentifier.value == value
    )
    return (await session.scalars(statement.limit(1))).one_or_none()


async def replace_identifiers(
    session: AsyncSession,
    customer_id: uuid.UUID,
    kind: IdentifierKind,
    values: Iterable[str],
) -> None:
    await session.execute(
        delete(CustomerIdentifier).where(
            CustomerIdentifier.customer_id == customer_id, CustomerIdentifier.kind == kind
        )
    )
    rows = [{"customer_id": customer_id, "kind": kind, "value": v} for v in dict.fromkeys(values)]
    if rows:
        await session.execute(insert(CustomerIdentifier).on_conflict_do_nothing(), rows)


async def add_identifier(
    session: AsyncSession, customer_id: uuid.UUID, kind: IdentifierKind, value: str
) -> None:
    await session.execute(
        insert(CustomerIdentifier)
        .values(customer_id=customer_id, kind=kind, value=value)
        .on_conflict_do_nothing()
    )


async def identifiers_of(
    session: AsyncSession, customer_id: uuid.UUID
) -> list[tuple[IdentifierKind, str]]:
    result = await session.execute(
        select(CustomerIdentifier.kind, CustomerIdentifier.value)
        .where(CustomerIdentifier.customer_id == customer_id)
        .order_by(CustomerIdentifier.id)
    )
    return [(IdentifierKind(kind), value) for kind, value in result.all()]


@dataclass(frozen=True)
class CustomerFilter:
    name: str | None = None
    value_tier: str | None = None
    manager_id: uuid.UUID | None = None
    identifier: tuple[IdentifierKind, str] | None = None
    # Object-level limits of the caller (services.customer.access), not search terms: a
    # portfolio or a branch the caller may not look beyond.
    portfolio_of: uuid.UUID | None = None
    branch_code: str | None = None


@dataclass(frozen=True)
class Custody:
    """Whose a customer (or a potential one) is: the manager and the branch that look after
    them."""

    manager_id: uuid.UUID | None
    branch_code: str | None


async def custody_of_customer(session: AsyncSession, customer_id: uuid.UUID) -> Custody | None:
    row = (
        await session.execute(
            select(Customer.manager_id, Customer.branch_code).where(Customer.id == customer_id)
        )
    ).one_or_none()
    return Custody(row.manager_id, row.branch_code) if row else None


async def custody_of_account(session: AsyncSession, account_number: str) -> Custody | None:
    row = (
        await session.execute(
            select(Customer.manager_id, Customer.branch_code)
            .join(Account, Account.customer_id == Customer.id)
            .where(Account.account_number == account_number)
        )
    ).one_or_none()
    return Custody(row.manager_id, row.branch_code) if row else None


async def search_customers(
    session: AsyncSession,
    criteria: CustomerFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Customer]:
    """Keyset pagination on (created_at, id): stable under inserts, no OFFSET scans."""
    statement = select(Customer)
    if criteria.name:
        escaped = criteria.name.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        statement = statement.where(Customer.name.ilike(f"%{escaped}%"))
    if criteria.value_tier:
        statement = statement.where(Customer.value_tier == criteria.value_tier)
    if criteria.manager_id:
        statement = statement.where(Customer.manager_id == criteria.manager_id)
    if criteria.portfolio_of:
        statement = statement.where(Customer.manager_id == criteria.portfolio_of)
    if criteria.branch_code:
        statement = statement.where(Customer.branch_code == criteria.branch_code)
    if criteria.identifier:
        kind, value = criteria.identifier
        statement = statement.where(
            Customer.id.in_(
                select(CustomerIdentifier.customer_id).where(
                    CustomerIdentifier.kind == kind, CustomerIdentifier.value == value
                )
            )
        )
    if after is not None:
        created_at, last_id = after
        statement = statement.where(
            or_(
                Customer.created_at > created_at,
                and_(Customer.created_at == created_at, Customer.id > last_id),
            )
        )
    statement = statement.order_by(Customer.created_at, Customer.id).limit(limit)
    return (await session.scalars(statement)).all()


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
    "transaction_id", "customer_id", "account_number", "direction", "amount", "currency",
    "balance_after", "kind", "channel", "counterparty_name", "counterparty_bank",
    "description", "booked_at",
)  # fmt: skip


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


async def add_interaction(session: AsyncSession, row: dict[str, Any]) -> uuid.UUID | None:
    """Insert unless the channel's id is known; returns the new id (None for a repeat)."""
    statement = (
        insert(Interaction)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[Interaction.external_id])
        .returning(Interaction.id)
    )
    return (await session.scalars(statement)).one_or_none()


async def interaction_by_external_id(session: AsyncSession, external_id: str) -> Interaction:
    statement = select(Interaction).where(Interaction.external_id == external_id)
    return (await session.scalars(statement)).one()


@dataclass(frozen=True)
class MoneyFacts:
    """Money in over the last 90 days and the 90 before, per currency."""

    inflow_90d: dict[str, Decimal]
    inflow_previous_90d: dict[str, Decimal]
    transactions_90d: int


async def money_facts(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, now: datetime
) -> dict[uuid.UUID, MoneyFacts]:
    """Each customer's money facts, in one statement; a customer with no transaction in the
    last 180 days has none in the answer."""
    if not customer_ids:
        return {}
    recent_start, previous_start = now - timedelta(days=90), now - timedelta(days=180)
    credit = PostedTransaction.direction == Direction.CREDIT
    recent = PostedTransaction.booked_at >= recent_start
    flow_rows = await session.execute(
        select(
            PostedTransaction.customer_id,
            PostedTransaction.currency,
            func.coalesce(func.sum(PostedTransaction.amount).filter(credit, recent), 0).label(
                "recent_in"
            ),
            func.coalesce(func.sum(PostedTransaction.amount).filter(credit, ~recent), 0).label(
                "previous_in"
            ),
            func.count().filter(recent).label("recent_count"),
        )
        .where(
            PostedTransaction.customer_id.in_(customer_ids),
            PostedTransaction.booked_at >= previous_start,
            PostedTransaction.booked_at <= now,
        )
        .group_by(PostedTransaction.customer_id, PostedTransaction.currency)
    )
    inflow: dict[uuid.UUID, dict[str, Decimal]] = {}
    previous: dict[uuid.UUID, dict[str, Decimal]] = {}
    count: dict[uuid.UUID, int] = {}
    for row in flow_rows.all():
        inflow.setdefault(row.customer_id, {})[row.currency] = row.recent_in
        previous.setdefault(row.customer_id, {})[row.currency] = row.previous_in
        count[row.customer_id] = count.get(row.customer_id, 0) + row.recent_count
    return {c: MoneyFacts(inflow[c], previous[c], count[c]) for c in inflow}


async def add_segment_change(session: AsyncSession, change: SegmentChange) -> None:
    session.add(change)


async def segments_as_of(
    session: AsyncSession, customer_id: uuid.UUID, as_of: datetime
) -> dict[str, SegmentChange]:
    """The change in force at ``as_of`` for each dimension (the latest one not after it)."""
    statement = (
        select(SegmentChange)
        .where(SegmentChange.customer_id == customer_id, SegmentChange.effective_at <= as_of)
        .order_by(
            SegmentChange.dimension, SegmentChange.effective_at.desc(), SegmentChange.id.desc()
        )
        .ext(distinct_on(SegmentChange.dimension))
    )
    return {change.dimension: change for change in (await session.scalars(statement)).all()}


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
        )
        .group_by(PostedTransaction.currency)
    )


async def active_customer_ids(
    session: AsyncSession, *, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    statement = select(Customer.id).where(Customer.status == "active").order_by(Customer.id)
    if after is not None:
        statement = statement.where(Customer.id > after)
    return list((await session.scalars(statement.limit(limit))).all())


async def lock_customers(session: AsyncSession, customer_ids: list[uuid.UUID]) -> None:
    """Lock the customers' rows in id order. Everything that locks several customers in one
    transaction (ingest, the consumer's runs) takes them in this order, so two such
    transactions never wait on each other in a ring."""
    await session.execute(
        text(
            "SELECT id FROM customers WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE"
        ),
        {"ids": sorted(customer_ids)},
    )


async def touch_last_activity(session: AsyncSession, latest: dict[uuid.UUID, datetime]) -> None:
    """Move each customer's last activity forward (never back), in one statement."""
    if not latest:
        return
    ids, times = zip(*sorted(latest.items()), strict=True)
    await lock_customers(session, list(ids))
    await session.execute(
        text(
            "UPDATE customers c SET last_activity_at = greatest(c.last_activity_at, v.at)"
            " FROM unnest(CAST(:ids AS uuid[]), CAST(:times AS timestamptz[])) AS v(id, at)"
            " WHERE c.id = v.id"
        ),
        {"ids": list(ids), "times": list(times)},
    )
