"""Queries of the attrition model: observations taken and due, the counts, each customer's
risk, and the figures an observation and its label read."""

import uuid
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.attrition.models import (
    TOTAL,
    AttritionCount,
    AttritionObservation,
    AttritionRisk,
)
from services.customer.projections import CaseKind, TimelineCase
from shared.adaptive_model import BinCounts, Evidence


async def add_observation(session: AsyncSession, observation: AttritionObservation) -> bool:
    """Keep the month's first observation of the customer; returns whether this was it."""
    values = {c.key: getattr(observation, c.key) for c in AttritionObservation.__table__.columns}
    statement = (
        pg_insert(AttritionObservation)
        .values(values)
        .on_conflict_do_nothing(index_elements=["customer_id", "month"])
        .returning(AttritionObservation.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def next_due_observation(
    session: AsyncSession, *, at: datetime
) -> AttritionObservation | None:
    """An observation whose horizon has passed and that is not learned yet, locked; one that
    another run holds is passed over (it is being learned there)."""
    o = AttritionObservation
    statement = (
        select(o)
        .where(o.learned_at.is_(None), o.horizon_ends_at <= at)
        .order_by(o.horizon_ends_at, o.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(statement)).first()


async def unlearned_of(session: AsyncSession, customer_id: uuid.UUID) -> list[AttritionObservation]:
    o = AttritionObservation
    statement = (
        select(o)
        .where(o.customer_id == customer_id, o.learned_at.is_(None))
        .order_by(o.month)
        .with_for_update()
    )
    return list((await session.scalars(statement)).all())


async def observations_of(
    session: AsyncSession, customer_id: uuid.UUID
) -> list[AttritionObservation]:
    o = AttritionObservation
    statement = select(o).where(o.customer_id == customer_id).order_by(o.month)
    return list((await session.scalars(statement)).all())


async def count_response(
    session: AsyncSession, features: Mapping[str, str], *, attrited: bool
) -> None:
    """Add one response to the total and to each of its features' bins, in one statement."""
    rows = [
        {
            "predictor": predictor,
            "bin": bin_,
            "positives": int(attrited),
            "negatives": int(not attrited),
        }
        for predictor, bin_ in [(TOTAL, TOTAL), *sorted(features.items())]
    ]
    statement = pg_insert(AttritionCount).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["predictor", "bin"],
        set_={
            "positives": AttritionCount.positives + statement.excluded.positives,
            "negatives": AttritionCount.negatives + statement.excluded.negatives,
        },
    )
    await session.execute(statement)


async def evidence(session: AsyncSession) -> Evidence:
    learned = Evidence()
    for row in (await session.scalars(select(AttritionCount))).all():
        if row.predictor == TOTAL:
            learned.positives, learned.negatives = row.positives, row.negatives
        else:
            learned.add(row.predictor, row.bin, BinCounts(row.positives, row.negatives))
    return learned


async def risk_of(session: AsyncSession, customer_id: uuid.UUID) -> AttritionRisk | None:
    return await session.get(AttritionRisk, customer_id)


async def replace_risk(session: AsyncSession, risk: AttritionRisk) -> tuple[str, datetime] | None:
    """Write the customer's risk; returns the band and time of the one it replaced, in one
    statement (the statement's snapshot still holds the row it overwrites)."""
    row = {c.key: getattr(risk, c.key) for c in AttritionRisk.__table__.columns}
    r = AttritionRisk
    before = select(r.band, r.computed_at).where(r.customer_id == risk.customer_id).cte("before")
    insert = pg_insert(r).values(row)
    replaced = {key: insert.excluded[key] for key in row if key != "customer_id"}
    # A plain upsert: the bulk one sends JSON columns as arrays, and a list would be unnested.
    statement = (
        insert.on_conflict_do_update(index_elements=["customer_id"], set_=replaced)
        .add_cte(before)
        .returning(
            select(before.c.band).scalar_subquery(),
            select(before.c.computed_at).scalar_subquery(),
        )
    )
    band, computed_at = (await session.execute(statement)).one()
    return None if band is None else (band, computed_at)


async def complaints_between(
    session: AsyncSession, customer_id: uuid.UUID, *, since: datetime, until: datetime
) -> int:
    t = TimelineCase
    statement = select(func.count()).where(
        t.customer_id == customer_id,
        t.kind == CaseKind.COMPLAINT,
        t.opened_at > since,
        t.opened_at <= until,
    )
    return int((await session.execute(statement)).scalar_one())


async def forget_customer(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """An erased customer's observations and risk go; what was learned from them stays in
    the counts, which hold no customer."""
    await session.execute(
        delete(AttritionObservation).where(AttritionObservation.customer_id == customer_id)
    )
    await session.execute(delete(AttritionRisk).where(AttritionRisk.customer_id == customer_id))


def month_of(moment: datetime) -> date:
    return moment.date().replace(day=1)
