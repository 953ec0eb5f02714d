"""Queries of opportunities and firings."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.models import Firing, ObservedEvent, Opportunity
from shared.bulk import RowsWrite, write_all

OPEN_STATUSES = ("open", "in_contact")


# Built once, the values bound at execution: built with them, the statement (every value
# coerced into it) and its cache key were made anew for every opportunity.
_INSERT_OPPORTUNITY = (
    insert(Opportunity)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(Opportunity.id)
)


async def insert_opportunity(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when an opportunity for the same facts exists (``dedupe_key``)."""
    return (await session.scalar(_INSERT_OPPORTUNITY, values)) is not None


_CUSTOMER = bindparam("customer_id", type_=UUID(as_uuid=True))
_CONTACTS = select(
    Opportunity.rule_id,
    Opportunity.dedupe_key,
    Opportunity.created_at,
    Opportunity.control_group,
    Opportunity.action,
).where(Opportunity.customer_id == _CUSTOMER)


async def contacts_of(
    session: AsyncSession, customer_id: uuid.UUID
) -> Sequence[Row[str, str, datetime, bool, str]]:
    """Every opportunity offered (or held out) to the customer, as suppression needs it; few
    per customer, as cool-downs and the fatigue cap keep them."""
    return (await session.execute(_CONTACTS, {"customer_id": customer_id})).all()


_CONTACTS_OF_MANY = select(
    Opportunity.customer_id,
    Opportunity.rule_id,
    Opportunity.dedupe_key,
    Opportunity.created_at,
    Opportunity.control_group,
    Opportunity.action,
).where(Opportunity.customer_id == any_(bindparam("customer_ids", type_=ARRAY(UUID(as_uuid=True)))))


async def contacts_of_many(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID]
) -> Sequence[Row[uuid.UUID, str, str, datetime, bool, str]]:
    """:func:`contacts_of` for several customers in one query, each row naming its customer."""
    return (await session.execute(_CONTACTS_OF_MANY, {"customer_ids": list(customer_ids)})).all()


# An opportunity of another rule, as a backtest's suppression needs it: customer, rule, dedupe
# key, created at, control group, action, and the consumed_seq of the event it was opened on.
OtherContact = Row[uuid.UUID, str, str, datetime, bool, str, int | None]
# The consumed event an opportunity was opened on (a scheduled rule's was opened on a tick).
_OPENED_ON = Opportunity.lineage[("events", 0, "id")].astext
_OTHERS_CONTACTS = (
    select(
        Opportunity.customer_id,
        Opportunity.rule_id,
        Opportunity.dedupe_key,
        Opportunity.created_at,
        Opportunity.control_group,
        Opportunity.action,
        ObservedEvent.consumed_seq,
    )
    .outerjoin(ObservedEvent, ObservedEvent.event_id == _OPENED_ON)
    .where(
        Opportunity.rule_id != bindparam("rule_id"), Opportunity.created_at >= bindparam("since")
    )
    .order_by(ObservedEvent.consumed_seq.nulls_first(), Opportunity.created_at, Opportunity.rule_id)
)


async def other_rules_contacts(
    session: AsyncSession, rule_id: str, since: datetime
) -> Sequence[OtherContact]:
    """Every opportunity the other rules offered (or held out) from ``since``, as suppression
    needs it, with the place in the consumed history of the event it was opened on (none for
    one opened on the scheduler's tick); in that order, then by time and rule."""
    rows = await session.execute(_OTHERS_CONTACTS, {"rule_id": rule_id, "since": since})
    return rows.all()


async def record_firings(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """A run's firings in one statement; one already recorded (a redelivered event's, say)
    is left as it was."""
    await write_all(session, [firings_write(rows)])


def firings_write(rows: Sequence[dict[str, Any]]) -> RowsWrite:
    return RowsWrite(Firing, rows)


async def opportunity(
    session: AsyncSession, opportunity_id: uuid.UUID, *, for_update: bool = False
) -> Opportunity | None:
    statement = select(Opportunity).where(Opportunity.id == opportunity_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def owner_of(session: AsyncSession, opportunity_id: uuid.UUID) -> str | None:
    """The owner id of the opportunity (None when it has none, or there is no such one)."""
    statement = select(Opportunity.owner_id).where(Opportunity.id == opportunity_id)
    return (await session.scalars(statement)).first()


@dataclass(frozen=True)
class OpportunityFilter:
    customer_id: uuid.UUID | None = None
    owner: str | None = None
    owner_id: str | None = None
    status: str | None = None
    rule_id: str | None = None
    include_control_group: bool = False


async def list_opportunities(
    session: AsyncSession,
    criteria: OpportunityFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Opportunity]:
    conditions: list[Any] = []
    if not criteria.include_control_group:
        conditions.append(Opportunity.control_group.is_(False))
    for column, value in (
        (Opportunity.customer_id, criteria.customer_id),
        (Opportunity.owner, criteria.owner),
        (Opportunity.owner_id, criteria.owner_id),
        (Opportunity.status, criteria.status),
        (Opportunity.rule_id, criteria.rule_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if after is not None:
        at, row_id = after
        conditions.append(
            or_(
                Opportunity.created_at < at,
                and_(Opportunity.created_at == at, Opportunity.id < row_id),
            )
        )
    statement = (
        select(Opportunity)
        .where(*conditions)
        .order_by(Opportunity.created_at.desc(), Opportunity.id.desc())
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def due_to_expire(session: AsyncSession, now: datetime, limit: int) -> Sequence[Opportunity]:
    statement = (
        select(Opportunity)
        .where(Opportunity.status.in_(OPEN_STATUSES), Opportunity.expires_at < now)
        .order_by(Opportunity.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(statement)).all()


async def open_of_customer(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[Opportunity]:
    statement = (
        select(Opportunity)
        .where(Opportunity.customer_id == customer_id, Opportunity.status.in_(OPEN_STATUSES))
        .order_by(Opportunity.created_at, Opportunity.id)
        .with_for_update()
    )
    return (await session.scalars(statement)).all()


async def raised_by_transaction(
    session: AsyncSession, customer_id: uuid.UUID, transaction_id: str
) -> Sequence[Opportunity]:
    """The customer's open opportunities a bank transaction raised (named in their lineage)."""
    raised_by = func.jsonb_build_object(
        "events", func.jsonb_build_array(func.jsonb_build_object("transaction_id", transaction_id))
    )
    statement = (
        select(Opportunity)
        .where(
            Opportunity.customer_id == customer_id,
            Opportunity.status.in_(OPEN_STATUSES),
            Opportunity.lineage.op("@>")(raised_by),
        )
        .order_by(Opportunity.created_at, Opportunity.id)
        .with_for_update()
    )
    return (await session.scalars(statement)).all()


async def mark_converted(
    session: AsyncSession, customer_id: uuid.UUID, at: datetime, since: datetime
) -> None:
    """The customer opened an account: every opportunity of the last ``since`` converted,
    treated and held out alike (the control group is what the uplift is measured against)."""
    await session.execute(
        update(Opportunity)
        .where(
            Opportunity.customer_id == customer_id,
            Opportunity.created_at >= since,
            Opportunity.created_at <= at,
            Opportunity.converted_at.is_(None),
        )
        .values(converted_at=at)
    )


async def firing_counts(
    session: AsyncSession, rule_id: str, start: datetime, end: datetime
) -> list[tuple[int, str, str, int]]:
    """(version, mode, decision, count)."""
    statement = (
        select(Firing.rule_version, Firing.mode, Firing.decision, func.count())
        .where(Firing.rule_id == rule_id, Firing.fired_at >= start, Firing.fired_at < end)
        .group_by(Firing.rule_version, Firing.mode, Firing.decision)
        .order_by(Firing.rule_version, Firing.mode, Firing.decision)
    )
    return [(v, m, d, int(n)) for v, m, d, n in await session.execute(statement)]


async def outcome_counts(
    session: AsyncSession, rule_id: str, start: datetime, end: datetime
) -> list[tuple[bool, str, int, int]]:
    """(control group, status, count, converted)."""
    statement = (
        select(
            Opportunity.control_group,
            Opportunity.status,
            func.count(),
            func.count(Opportunity.converted_at),
        )
        .where(
            Opportunity.rule_id == rule_id,
            Opportunity.created_at >= start,
            Opportunity.created_at < end,
        )
        .group_by(Opportunity.control_group, Opportunity.status)
    )
    return [(c, s, int(n), int(k)) for c, s, n, k in await session.execute(statement)]
