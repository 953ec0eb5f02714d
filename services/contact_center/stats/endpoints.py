"""The contact centre's HTTP API for the floor now and its statistics under ``/v1``. Parse,
call the service, shape the answer."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from services.contact_center.agents import repository as agents_repository
from services.contact_center.dependencies import SettingsDep
from services.contact_center.stats import service
from services.contact_center.stats.schemas import LiveStats, QueueRead, StatsReport
from shared.http import SessionDep
from shared.problems import ProblemError

router = APIRouter(prefix="/v1")

MAX_STATS_DAYS = 92


@router.get("/queues", tags=["queues"])
async def list_queues(session: SessionDep, settings: SettingsDep) -> list[QueueRead]:
    """Each queue now: calls waiting, the longest wait, agents, and the wait a new caller
    can expect."""
    return await service.queue_board(session, now=datetime.now(UTC), settings=settings)


@router.get("/stats", tags=["statistics"])
async def stats(
    session: SessionDep,
    settings: SettingsDep,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    bucket_minutes: Annotated[int | None, Query(ge=1, le=1440)] = None,
) -> StatsReport:
    """Service level, speed of answer, handle time, abandonment, first-contact resolution and
    occupancy per queue and per agent over a period (the last 24 hours by default), and per
    interval of ``bucket_minutes``."""
    now = datetime.now(UTC)
    end = to or now
    start = from_ or end - timedelta(days=1)
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise ProblemError(f"{name}: give a time zone", field=name)
    if start >= end:
        raise ProblemError("from must be before to", field="from")
    if end - start > timedelta(days=MAX_STATS_DAYS):
        raise ProblemError(f"the period is at most {MAX_STATS_DAYS} days", field="from")
    return await service.report(
        session, start, end, now=now, settings=settings, bucket_minutes=bucket_minutes
    )


@router.get("/stats/live", tags=["statistics"])
async def live_stats(session: SessionDep, settings: SettingsDep) -> LiveStats:
    now = datetime.now(UTC)
    return LiveStats(
        at=now,
        queues=await service.queue_board(session, now=now, settings=settings),
        agents_by_state=await agents_repository.agent_counts_by_state(session),
    )
