"""Contact-centre statistics over a period: per queue, per agent, overall and per interval.

Definitions (docs/contact-center.md gives them with their sources):

* service level: calls answered within the threshold over calls offered (answered plus
  abandoned). Abandoned calls count against it, the stricter of the common conventions.
* average speed of answer: joining the queue to the agent's answer, over answered calls.
* average handle time: answer to the end of wrap-up, hold included.
* abandonment rate: abandoned over offered.
* first-contact resolution: handled calls of known customers with no repeat call on the same
  matter (wrap-up code) within the window.
* occupancy: time on calls and in wrap-up over time available, on calls or in wrap-up.
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.agents import repository as agents_repository
from services.contact_center.calls import repository as calls_repository
from services.contact_center.calls.waiting import estimated_wait, handle_seconds
from services.contact_center.config import Settings
from services.contact_center.models import Skill
from services.contact_center.stats import repository as stats_repository
from services.contact_center.stats.repository import LegFigures, Resolution
from services.contact_center.stats.schemas import (
    AgentStats,
    IntervalStats,
    QueueRead,
    QueueStats,
    StatsReport,
)

ALL_QUEUES = "all"


def _ratio(part: int | float, whole: int | float) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def queue_stats(name: str, legs: LegFigures | None, resolution: Resolution | None) -> QueueStats:
    answered = legs.answered if legs else 0
    abandoned = legs.abandoned if legs else 0
    within = legs.answered_within if legs else 0
    offered = answered + abandoned
    return QueueStats(
        queue=name,
        offered=offered,
        answered=answered,
        answered_within_threshold=within,
        abandoned=abandoned,
        service_level=_ratio(within, offered),
        average_speed_of_answer_seconds=_seconds(legs.speed_of_answer if legs else None),
        average_handle_time_seconds=_seconds(legs.handle_time if legs else None),
        abandonment_rate=_ratio(abandoned, offered),
        first_contact_resolution=_ratio(resolution.resolved, resolution.handled)
        if resolution
        else None,
    )


async def report(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    settings: Settings,
    bucket_minutes: int | None,
) -> StatsReport:
    threshold = settings.service_level_seconds
    legs = await stats_repository.leg_figures(session, start, end, service_level_seconds=threshold)
    resolutions = await stats_repository.first_contact_resolution(
        session, start, end, window_days=settings.first_contact_window_days
    )
    by_queue = {f.queue: f for f in legs}
    resolved_by_queue = {r.queue: r for r in resolutions if r.agent_id is None}
    queues = [
        queue_stats(q, by_queue.get(q), resolved_by_queue.get(q))
        for q in Skill
        if q in by_queue or q in resolved_by_queue
    ]
    agents = await _agent_stats(session, start, min(end, now), resolutions)
    intervals = (
        await _interval_stats(
            session, start, end, service_level_seconds=threshold, bucket_minutes=bucket_minutes
        )
        if bucket_minutes
        else []
    )
    return StatsReport(
        from_=start,
        to=end,
        service_level_seconds=threshold,
        first_contact_window_days=settings.first_contact_window_days,
        overall=queue_stats(ALL_QUEUES, by_queue.get(None), resolved_by_queue.get(None)),
        queues=queues,
        agents=agents,
        intervals=intervals,
    )


async def _agent_stats(
    session: AsyncSession, start: datetime, end: datetime, resolutions: list[Resolution]
) -> list[AgentStats]:
    resolved_by_agent = {r.agent_id: r for r in resolutions if r.queue is None and r.agent_id}
    return [
        AgentStats(
            agent_id=a.agent_id,
            handled=a.handled,
            average_handle_time_seconds=_seconds(a.handle_time),
            occupancy=_ratio(a.busy_seconds, a.staffed_seconds),
            first_contact_resolution=_ratio(r.resolved, r.handled)
            if (r := resolved_by_agent.get(a.agent_id))
            else None,
        )
        for a in await stats_repository.agent_figures(session, start, end)
    ]


async def _interval_stats(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    service_level_seconds: float,
    bucket_minutes: int,
) -> list[IntervalStats]:
    grouped: dict[datetime, list[QueueStats]] = defaultdict(list)
    for f in await stats_repository.leg_figures_by_interval(
        session,
        start,
        end,
        service_level_seconds=service_level_seconds,
        bucket_minutes=bucket_minutes,
    ):
        assert f.bucket is not None
        assert f.queue is not None
        grouped[f.bucket].append(queue_stats(f.queue, f, None))
    return [IntervalStats(start=b, queues=qs) for b, qs in sorted(grouped.items())]


async def queue_board(
    session: AsyncSession, *, now: datetime, settings: Settings
) -> list[QueueRead]:
    """Each queue now: calls waiting, the longest wait, agents, and the wait a new caller can
    expect."""
    waiting = await calls_repository.waiting_by_queue(session)
    agents = await agents_repository.agents_by_skill(session)
    handle_by_queue = await handle_seconds(session, list(Skill), settings)
    answer = []
    for queue in Skill:
        count, oldest = waiting.get(queue, (0, None))
        staffed, available = agents.get(queue, (0, 0))
        handle = handle_by_queue[queue]
        answer.append(
            QueueRead(
                queue=queue,
                waiting=count,
                oldest_wait_seconds=(now - oldest).total_seconds() if oldest else None,
                agents_staffed=staffed,
                agents_available=available,
                estimated_wait_seconds=0.0
                if available and not count
                else estimated_wait(count + 1, handle, staffed),
            )
        )
    return answer
