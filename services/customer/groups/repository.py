"""Queries of households and corporate groups.

The roll-up is read, not kept: one statement reads every current member with their open
accounts' balances and the fees they paid, from the rows the transaction ingest updates in
the posting's own transaction. A posted batch shows in the roll-up at once, with no second
copy of the figures to keep in step and no nightly batch; the membership index and the
accounts' customer index make it a few index lookups per member."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ScalarSelect, Text, cast, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts.repository import fees_by_currency
from services.customer.customers.repository import Custody
from services.customer.groups.models import CustomerGroup, GroupMember
from services.customer.models import Account, AccountStatus, Customer


@dataclass(frozen=True)
class MemberHoldings:
    """A current member, the customer, and what they hold, as JSON text."""

    membership: GroupMember
    customer: Customer
    accounts: str  # [{product_type, currency, balance, status}] of the open accounts
    fees: str  # {currency: total} paid since the moment asked


async def add_group(session: AsyncSession, group: CustomerGroup) -> None:
    session.add(group)
    await session.flush()


async def get_group(
    session: AsyncSession, group_id: uuid.UUID, *, for_update: bool = False
) -> CustomerGroup | None:
    """With ``for_update`` the group is locked: membership changes of one group run one at a
    time, so two of them cannot together make its tree a cycle."""
    statement = select(CustomerGroup).where(CustomerGroup.id == group_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def current_members(
    session: AsyncSession, group_id: uuid.UUID
) -> list[tuple[GroupMember, Custody]]:
    statement = (
        select(GroupMember, Customer.manager_id, Customer.branch_code)
        .join(Customer, Customer.id == GroupMember.customer_id)
        .where(GroupMember.group_id == group_id, GroupMember.until.is_(None))
    )
    rows = (await session.execute(statement)).all()
    return [(member, Custody(manager_id, branch)) for member, manager_id, branch in rows]


async def current_membership(session: AsyncSession, customer_id: uuid.UUID) -> GroupMember | None:
    statement = select(GroupMember).where(
        GroupMember.customer_id == customer_id, GroupMember.until.is_(None)
    )
    return (await session.scalars(statement)).one_or_none()


async def membership_history(
    session: AsyncSession, group_id: uuid.UUID
) -> list[tuple[GroupMember, str]]:
    """Every membership row of the group with the member's name, by the date it began."""
    statement = (
        select(GroupMember, Customer.name)
        .join(Customer, Customer.id == GroupMember.customer_id)
        .where(GroupMember.group_id == group_id)
        .order_by(GroupMember.since, GroupMember.id)
    )
    return [(member, name) for member, name in (await session.execute(statement)).all()]


async def save_member(session: AsyncSession, member: GroupMember) -> None:
    session.add(member)
    await session.flush()


async def end_membership(session: AsyncSession, member: GroupMember, until: date) -> None:
    await session.execute(
        update(GroupMember).where(GroupMember.id == member.id).values(until=until)
    )


def _open_accounts() -> ScalarSelect[Any]:
    accounts = func.json_agg(
        func.json_build_object(
            literal_column("'product_type'"),
            Account.product_type,
            literal_column("'currency'"),
            Account.currency,
            literal_column("'balance'"),
            cast(Account.balance, Text),  # as text: a JSON number is read back as a float
            literal_column("'status'"),
            Account.status,
        )
    )
    return (
        select(cast(func.coalesce(accounts, literal_column("'[]'::json")), Text))
        .where(Account.customer_id == GroupMember.customer_id, Account.status == AccountStatus.OPEN)
        .correlate(GroupMember)
        .scalar_subquery()
    )


def _fees(since: datetime) -> ScalarSelect[Any]:
    fees = (
        fees_by_currency(GroupMember.customer_id.expression, since=since)
        .correlate(GroupMember)
        .subquery()
    )
    totals = func.json_object_agg(fees.c.currency, cast(fees.c.total, Text))
    return (
        select(cast(func.coalesce(totals, literal_column("'{}'::json")), Text))
        .select_from(fees)
        .scalar_subquery()
    )


async def member_holdings(
    session: AsyncSession, group_id: uuid.UUID, *, fees_since: datetime
) -> Sequence[MemberHoldings]:
    """Every current member with their holdings, in one statement."""
    statement = (
        select(GroupMember, Customer, _open_accounts(), _fees(fees_since))
        .join(Customer, Customer.id == GroupMember.customer_id)
        .where(GroupMember.group_id == group_id, GroupMember.until.is_(None))
        .order_by(GroupMember.since, GroupMember.id)  # as they joined
    )
    rows = (await session.execute(statement)).all()
    return [MemberHoldings(*row) for row in rows]
