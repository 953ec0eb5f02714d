"""Queries of the contact-centre statistics. SQL text: they are reports, read best as SQL.

Queue figures are over call legs that joined a queue in the period (a transferred call is a
leg in each queue it waited in); handle time runs from answer to the end of wrap-up, hold
included; first-contact resolution is over completed calls of known customers."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class LegFigures:
    queue: str | None  # None: all queues
    bucket: datetime | None
    answered: int
    answered_within: int
    abandoned: int
    speed_of_answer: float | None
    handle_time: float | None


# Spliced into the statements below (hence their `nosec B608`): a constant, never input.
_LEG_COLUMNS = """
    count(*) FILTER (WHERE answered_at IS NOT NULL) AS answered,
    count(*) FILTER (
        WHERE answered_at IS NOT NULL AND answered_at - queued_at <= make_interval(secs => :sl)
    ) AS answered_within,
    count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
    avg(extract(epoch FROM answered_at - queued_at)) AS speed_of_answer,
    avg(extract(epoch FROM wrapped_at - answered_at)) AS handle_time
"""


async def leg_figures(
    session: AsyncSession, start: datetime, end: datetime, *, service_level_seconds: float
) -> list[LegFigures]:
    """Per queue, and for all queues together (``queue`` None)."""
    rows = await session.execute(
        text(f"""
            SELECT queue, {_LEG_COLUMNS}
            FROM call_legs WHERE queued_at >= :start AND queued_at < :end
            GROUP BY GROUPING SETS ((queue), ())
        """),  # nosec B608
        {"start": start, "end": end, "sl": service_level_seconds},
    )
    return [LegFigures(r.queue, None, *_numbers(r)) for r in rows]


async def leg_figures_by_interval(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    service_level_seconds: float,
    bucket_minutes: int,
) -> list[LegFigures]:
    rows = await session.execute(
        text(f"""
            SELECT date_bin(make_interval(mins => :minutes), queued_at, :start) AS bucket,
                   queue, {_LEG_COLUMNS}
            FROM call_legs WHERE queued_at >= :start AND queued_at < :end
            GROUP BY bucket, queue ORDER BY bucket, queue
        """),  # nosec B608
        {"start": start, "end": end, "sl": service_level_seconds, "minutes": bucket_minutes},
    )
    return [LegFigures(r.queue, r.bucket, *_numbers(r)) for r in rows]


def _numbers(row: Row[Any]) -> tuple[int, int, int, float | None, float | None]:
    soa, handle = row.speed_of_answer, row.handle_time
    return (
        int(row.answered),
        int(row.answered_within),
        int(row.abandoned),
        float(soa) if soa is not None else None,
        float(handle) if handle is not None else None,
    )


@dataclass(frozen=True)
class Resolution:
    queue: str | None
    agent_id: str | None
    handled: int
    resolved: int


async def first_contact_resolution(
    session: AsyncSession, start: datetime, end: datetime, *, window_days: int
) -> list[Resolution]:
    """Per queue (``agent_id`` None), per agent (``queue`` None) and overall (both None): a
    handled call is resolved when the customer did not call again about the same matter (the
    same wrap-up code) within the window."""
    rows = await session.execute(
        text("""
            SELECT c.queue, c.agent_id, grouping(c.queue, c.agent_id) AS level,
                   count(*) AS handled,
                   count(*) FILTER (WHERE NOT EXISTS (
                       SELECT 1 FROM calls r
                       WHERE r.customer_id = c.customer_id AND r.wrap_up_code = c.wrap_up_code
                         AND r.status = 'completed' AND r.id <> c.id
                         AND r.arrived_at > c.arrived_at
                         AND r.arrived_at <= c.arrived_at + make_interval(days => :days)
                   )) AS resolved
            FROM calls c
            WHERE c.status = 'completed' AND c.customer_id IS NOT NULL
              AND c.arrived_at >= :start AND c.arrived_at < :end
            GROUP BY GROUPING SETS ((c.queue), (c.agent_id), ())
        """),
        {"start": start, "end": end, "days": window_days},
    )
    # grouping(): bit 1 set when queue is rolled up, bit 0 when agent_id is.
    return [
        Resolution(
            r.queue if not r.level & 2 else None,
            r.agent_id if not r.level & 1 else None,
            int(r.handled),
            int(r.resolved),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class AgentFigures:
    agent_id: str
    handled: int
    handle_time: float | None
    busy_seconds: float
    staffed_seconds: float


async def agent_figures(
    session: AsyncSession, start: datetime, end: datetime
) -> list[AgentFigures]:
    """Handled calls and handle time from the legs each agent answered; occupancy from the
    state spells, cut to the period."""
    rows = await session.execute(
        text("""
            WITH spells AS (
                SELECT agent_id, state,
                       extract(epoch FROM least(coalesce(ended_at, :end), :end)
                                         - greatest(started_at, :start)) AS seconds
                FROM agent_state_spells
                WHERE started_at < :end AND coalesce(ended_at, :end) > :start
            ), time_use AS (
                SELECT agent_id,
                       coalesce(sum(seconds) FILTER (WHERE state IN ('on_call', 'wrap_up')), 0)
                           AS busy,
                       coalesce(sum(seconds) FILTER (
                           WHERE state IN ('available', 'on_call', 'wrap_up')), 0) AS staffed
                FROM spells GROUP BY agent_id
            ), handled AS (
                SELECT agent_id, count(*) AS handled,
                       avg(extract(epoch FROM wrapped_at - answered_at)) AS handle_time
                FROM call_legs
                WHERE answered_at IS NOT NULL AND wrapped_at IS NOT NULL
                  AND answered_at >= :start AND answered_at < :end
                GROUP BY agent_id
            )
            SELECT a.id AS agent_id, coalesce(h.handled, 0) AS handled, h.handle_time,
                   coalesce(t.busy, 0) AS busy, coalesce(t.staffed, 0) AS staffed
            FROM agents a
            LEFT JOIN time_use t ON t.agent_id = a.id
            LEFT JOIN handled h ON h.agent_id = a.id
            WHERE t.agent_id IS NOT NULL OR h.agent_id IS NOT NULL
            ORDER BY a.id
        """),
        {"start": start, "end": end},
    )
    return [
        AgentFigures(
            r.agent_id,
            int(r.handled),
            float(r.handle_time) if r.handle_time is not None else None,
            float(r.busy),
            float(r.staffed),
        )
        for r in rows
    ]
