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
from shared.periods import Moment, period

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
    from_: Annotated[Moment | None, Query(alias="from")] = None,
    to: Moment | None = None,
    bucket_minutes: Annotated[int | None, Query(ge=1, le=1440)] = None,
) -> StatsReport:
    """Service level, speed of answer, handle time, abandonment, first-contact resolution and
    occupancy per queue and per agent over a period (the last 24 hours by default), and per
    interval of ``bucket_minutes``."""
    now = datetime.now(UTC)
    start, end = period(
        from_,
        to,
        zone=settings.bank_zone,
        now=now,
        default=timedelta(days=1),
        longest=timedelta(days=MAX_STATS_DAYS),
    )
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
