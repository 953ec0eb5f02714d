"""Queries of the detector's per-customer state and of the history it consumed."""

import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, any_, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.models import (
    CustomerDay,
    CustomerHolding,
    CustomerProfile,
    CustomerRecurringCredit,
    ObservedEvent,
)
from services.events.repository.opportunities import firings_write
from services.events.state import (
    Applied,
    CustomerState,
    DayFigures,
    Holding,
    RecurringCredit,
)
from services.events.state_cache import StateCache
from shared.bulk import RowsWrite, write_all


def lock_key(customer_id: uuid.UUID) -> int:
    """The customer's advisory lock key; locks are taken in the order of these keys."""
    return int.from_bytes(customer_id.bytes[:8], "big", signed=True)


async def lock_customers(session: AsyncSession, customer_ids: Sequence[uuid.UUID]) -> None:
    """Serialise work on these customers until the transaction ends. A customer's events come
    on several topics (transactions, contacts, profile changes) and are handled concurrently;
    without this, two handlers could each load the state and the second save would undo the
    first's change. Taken in key order, so two batches never wait on each other in a ring; a
    transaction that locks in several calls must make each call's keys follow the last's
    (sort its customers by ``lock_key`` first)."""
    keys = sorted({lock_key(c) for c in customer_ids})
    if keys:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": keys},
        )


# Built once: the statements are immutable, and building them per run was a measurable part of
# a small run's time. The customers travel as one array parameter, not an IN list that
# SQLAlchemy would expand value by value on every execution.
_IDS = bindparam("customer_ids", type_=ARRAY(UUID(as_uuid=True)))
_SINCE = bindparam("since", type_=Date)
_p, _d, _h, _r = CustomerProfile, CustomerDay, CustomerHolding, CustomerRecurringCredit
_VERSIONS = select(_p.customer_id, _p.state_version).where(_p.customer_id == any_(_IDS))
_PROFILES = select(
    _p.customer_id,
    _p.value_tier,
    _p.quadrant,
    _p.attrition_risk,
    _p.loyalty,
    _p.lifecycle_stage,
    _p.manager_id,
    _p.consent,
    _p.preferred_channel,
    _p.birth_month_day,
    _p.status,
    _p.last_activity_at,
    _p.open_complaints,
).where(_p.customer_id == any_(_IDS))
_DAYS = select(
    _d.customer_id,
    _d.day,
    _d.money_in,
    _d.money_out,
    _d.count_in,
    _d.count_out,
    _d.max_in,
    _d.max_out,
    _d.contacts,
    _d.closing_balance,
    _d.conversations,
).where(_d.customer_id == any_(_IDS), _d.day >= _SINCE)
# Each customer's last balance before the window, so "N days ago" has a baseline on a quiet
# account.
_BALANCES_BEFORE = (
    select(_d.customer_id, _d.day, _d.closing_balance)
    .where(_d.customer_id == any_(_IDS), _d.day < _SINCE, _d.closing_balance.is_not(None))
    .order_by(_d.customer_id, _d.day.desc())
    .ext(distinct_on(_d.customer_id))
)
_HOLDINGS = select(
    _h.customer_id, _h.account_number, _h.product_type, _h.balance, _h.maturity_date, _h.open
).where(_h.customer_id == any_(_IDS))
_RECURRING = select(_r.customer_id, _r.source, _r.last_month, _r.streak).where(
    _r.customer_id == any_(_IDS)
)


@dataclass(frozen=True)
class LoadedStates:
    states: dict[uuid.UUID, CustomerState]
    kept: int  # reused from memory
    read: int  # read from the tables


async def load_states(
    session: AsyncSession,
    customer_ids: Sequence[uuid.UUID],
    *,
    since: date,
    cache: StateCache | None = None,
) -> LoadedStates:
    """The customers' states with every day from ``since``. Those kept in ``cache`` are
    reused when their version is still the stored one (one query for all); the rest are read
    in five queries, whatever their number. Call with the customers locked."""
    states: dict[uuid.UUID, CustomerState] = {}
    missing = list(customer_ids)
    if cache is not None:
        versions = dict((await session.execute(_VERSIONS, {"customer_ids": missing})).all())
        for customer_id in customer_ids:
            state = cache.take(customer_id, versions.get(customer_id), since)
            if state is not None:
                states[customer_id] = state
        missing = [c for c in customer_ids if c not in states]
    kept = len(states)
    if missing:
        states.update(await _read_states(session, missing, since))
    return LoadedStates(states, kept=kept, read=len(missing))


async def _read_states(
    session: AsyncSession, customer_ids: list[uuid.UUID], since: date
) -> dict[uuid.UUID, CustomerState]:
    """Columns, not ORM objects: the rows are read once into the state and never changed
    through the session, and building entities was a fair share of the consumer's time."""
    states = {c: CustomerState(str(c)) for c in customer_ids}
    ids, window = {"customer_ids": customer_ids}, {"customer_ids": customer_ids, "since": since}
    for row in await session.execute(_PROFILES, ids):
        state = states[row.customer_id]
        state.value_tier, state.manager_id = row.value_tier, row.manager_id
        state.quadrant, state.attrition_risk = row.quadrant, row.attrition_risk
        state.loyalty, state.lifecycle_stage = row.loyalty, row.lifecycle_stage
        state.consent, state.preferred_channel = dict(row.consent), row.preferred_channel
        state.birth_month_day, state.status = row.birth_month_day, row.status
        state.last_activity_at = row.last_activity_at
        state.open_complaints = row.open_complaints
    for day_row in await session.execute(_DAYS, window):
        states[day_row.customer_id].days[day_row.day] = DayFigures(
            day_row.money_in,
            day_row.money_out,
            day_row.count_in,
            day_row.count_out,
            day_row.max_in,
            day_row.max_out,
            day_row.contacts,
            day_row.closing_balance,
            day_row.conversations,
        )
    for customer_id, day, balance in await session.execute(_BALANCES_BEFORE, window):
        states[customer_id].days[day] = DayFigures(closing_balance=balance)
    for held in await session.execute(_HOLDINGS, ids):
        states[held.customer_id].holdings[held.account_number] = Holding(
            held.product_type, held.balance, held.maturity_date, held.open
        )
    for customer_id, source, last_month, streak in await session.execute(_RECURRING, ids):
        states[customer_id].recurring[source] = RecurringCredit(last_month, streak)
    return states


@dataclass
class Changes:
    """What a run of events changed, to be written back in one statement per table."""

    profiles: set[uuid.UUID] = field(default_factory=set)
    days: set[tuple[uuid.UUID, date]] = field(default_factory=set)
    holdings: set[tuple[uuid.UUID, str]] = field(default_factory=set)
    recurring: set[tuple[uuid.UUID, str]] = field(default_factory=set)

    def note(self, customer_id: uuid.UUID, applied: Applied) -> None:
        self.profiles.add(customer_id)
        if applied.day is not None:
            self.days.add((customer_id, applied.day))
        for day in applied.earlier_days:
            self.days.add((customer_id, day))
        if applied.account is not None:
            self.holdings.add((customer_id, applied.account))
        if applied.recurring_source is not None:
            self.recurring.add((customer_id, applied.recurring_source))


async def save_run(
    session: AsyncSession,
    states: dict[uuid.UUID, CustomerState],
    changes: Changes,
    *,
    observed: Sequence[dict[str, Any]],
    firings: Sequence[dict[str, Any]],
) -> int:
    """What a run of events leaves, in one statement: the states it changed, the events it
    consumed (the history backtests read) and its firings. Returns the version it stored with
    every state it saved (each customer of the run has its profile row written, so each gets
    the version)."""
    version = secrets.randbits(63)
    await write_all(
        session, run_writes(states, changes, version=version, observed=observed, firings=firings)
    )
    return version


def run_writes(
    states: dict[uuid.UUID, CustomerState],
    changes: Changes,
    *,
    version: int,
    observed: Sequence[dict[str, Any]],
    firings: Sequence[dict[str, Any]],
) -> list[RowsWrite]:
    """The rows :func:`save_run` writes, each table's as one write. Rows go in no particular
    order: the run holds its customers' locks, so no other transaction writes these rows
    meanwhile, and sorting them was a fair part of a run."""
    profiles = [_profile_values(c, states[c], version) for c in changes.profiles]
    days = [{"customer_id": c, "day": d, **_day_values(states[c].days[d])} for c, d in changes.days]
    holdings = [_holding_values(c, a, states[c].holdings[a]) for c, a in changes.holdings]
    recurring = [
        {"customer_id": c, "source": k, "last_month": r.last_month, "streak": r.streak}
        for c, k in changes.recurring
        for r in (states[c].recurring[k],)
    ]
    return [
        RowsWrite(CustomerProfile, profiles, key=("customer_id",)),
        RowsWrite(CustomerDay, days, key=("customer_id", "day")),
        RowsWrite(CustomerHolding, holdings, key=("customer_id", "account_number")),
        RowsWrite(CustomerRecurringCredit, recurring, key=("customer_id", "source")),
        # A redelivered event's history and firings are already there and stay as they were.
        RowsWrite(ObservedEvent, observed, json_text=("payload",)),
        firings_write(firings),
    ]


def _profile_values(customer_id: uuid.UUID, state: CustomerState, version: int) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "value_tier": state.value_tier,
        "quadrant": state.quadrant,
        "attrition_risk": state.attrition_risk,
        "loyalty": state.loyalty,
        "lifecycle_stage": state.lifecycle_stage,
        "manager_id": state.manager_id,
        "consent": state.consent,
        "preferred_channel": state.preferred_channel,
        "birth_month_day": state.birth_month_day,
        "status": state.status,
        "last_activity_at": state.last_activity_at,
        "open_complaints": state.open_complaints,
        "state_version": version,
    }


def _holding_values(customer_id: uuid.UUID, account: str, holding: Holding) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "account_number": account,
        "product_type": holding.product_type,
        "balance": holding.balance,
        "maturity_date": holding.maturity_date,
        "open": holding.open,
    }


def _day_values(figures: DayFigures) -> dict[str, Any]:
    return {
        "money_in": figures.money_in,
        "money_out": figures.money_out,
        "count_in": figures.count_in,
        "count_out": figures.count_out,
        "max_in": figures.max_in,
        "max_out": figures.max_out,
        "contacts": figures.contacts,
        "closing_balance": figures.closing_balance,
        "conversations": figures.conversations,
    }


async def history_size(session: AsyncSession, start: datetime, end: datetime) -> int:
    """How many consumed events the history keeps of a period."""
    total = await session.scalar(
        select(func.count()).where(
            ObservedEvent.occurred_at >= start, ObservedEvent.occurred_at < end
        )
    )
    return total or 0


async def history(
    session: AsyncSession, start: datetime, end: datetime
) -> AsyncIterator[ObservedEvent]:
    """The consumed events of a period in the order the detector consumed them, streamed:
    a customer's events are replayed as the live detector saw them, whatever their own
    times say."""
    statement = (
        select(ObservedEvent)
        .where(ObservedEvent.occurred_at >= start, ObservedEvent.occurred_at < end)
        .order_by(ObservedEvent.consumed_seq)
        .execution_options(yield_per=2000)
    )
    async for row in await session.stream_scalars(statement):
        yield row


async def overwrite_observed_fields(
    session: AsyncSession, customer_id: uuid.UUID, event_name: str, fields: dict[str, Any]
) -> None:
    """Overwrite these payload fields of the customer's consumed events of that name."""
    await session.execute(
        update(ObservedEvent)
        .where(ObservedEvent.customer_id == customer_id, ObservedEvent.event_name == event_name)
        .values(payload=ObservedEvent.payload.op("||")(bindparam("fields", fields, type_=JSONB)))
    )


async def forget_history_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(delete(ObservedEvent).where(ObservedEvent.occurred_at < cutoff))


async def birthday_customers(session: AsyncSession, month_days: Sequence[str]) -> list[uuid.UUID]:
    statement = select(CustomerProfile.customer_id).where(
        CustomerProfile.birth_month_day.in_(month_days), CustomerProfile.status == "active"
    )
    return list(await session.scalars(statement))


async def maturing_customers(
    session: AsyncSession, first: date, last: date, product_type: str
) -> list[uuid.UUID]:
    statement = (
        select(CustomerHolding.customer_id)
        .where(
            CustomerHolding.maturity_date.between(first, last),
            CustomerHolding.product_type == product_type,
            CustomerHolding.open.is_(True),
        )
        .distinct()
    )
    return list(await session.scalars(statement))


async def idle_customers(session: AsyncSession, idle_since: datetime) -> list[uuid.UUID]:
    statement = select(CustomerProfile.customer_id).where(
        CustomerProfile.last_activity_at < idle_since, CustomerProfile.status == "active"
    )
    return list(await session.scalars(statement))
