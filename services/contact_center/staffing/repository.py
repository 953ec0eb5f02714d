"""Queries of the staffing forecast: the recorded calls of a queue per local day and interval.

A call leg is an arrival in its queue (a transferred call is work in each queue it waited
in); handle time runs from answer to the end of wrap-up, as the statistics count it."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class SlotRecord:
    day: date
    slot: int
    calls: int
    handled: int
    handle_seconds: float


@dataclass(frozen=True)
class Patience:
    abandoned: int
    # Time waited by every caller until an answer or hanging up: the exposure of the
    # exponential patience's estimate, abandoned calls over it.
    waited_seconds: float


async def calls_by_slot(
    session: AsyncSession,
    queue: str,
    start: datetime,
    end: datetime,
    *,
    zone: ZoneInfo,
    slot_minutes: int,
) -> list[SlotRecord]:
    rows = await session.execute(
        text("""
            SELECT (queued_at AT TIME ZONE :zone)::date AS day,
                   floor(extract(epoch FROM (queued_at AT TIME ZONE :zone)::time)
                         / (:minutes * 60))::int AS slot,
                   count(*) AS calls,
                   count(*) FILTER (WHERE wrapped_at IS NOT NULL AND answered_at IS NOT NULL)
                       AS handled,
                   coalesce(sum(extract(epoch FROM wrapped_at - answered_at)), 0)
                       AS handle_seconds
            FROM call_legs
            WHERE queue = :queue AND queued_at >= :start AND queued_at < :end
            GROUP BY day, slot ORDER BY day, slot
        """),
        {"zone": zone.key, "minutes": slot_minutes, "queue": queue, "start": start, "end": end},
    )
    return [
        SlotRecord(r.day, int(r.slot), int(r.calls), int(r.handled), float(r.handle_seconds))
        for r in rows
    ]


async def patience(session: AsyncSession, queue: str, start: datetime, end: datetime) -> Patience:
    row = (
        await session.execute(
            text("""
                SELECT count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
                       coalesce(sum(extract(epoch FROM coalesce(answered_at, released_at)
                                                       - queued_at)), 0) AS waited
                FROM call_legs
                WHERE queue = :queue AND queued_at >= :start AND queued_at < :end
                  AND (answered_at IS NOT NULL OR outcome = 'abandoned')
            """),
            {"queue": queue, "start": start, "end": end},
        )
    ).one()
    return Patience(int(row.abandoned), float(row.waited))
