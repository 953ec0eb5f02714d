"""The planners' staffing forecast under ``/v1/staffing``. Parse, call the service, shape the
answer."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from services.contact_center.dependencies import SettingsDep
from services.contact_center.models import Skill
from services.contact_center.staffing import service
from services.contact_center.staffing.planning import MOST_AGENTS
from services.contact_center.staffing.schemas import StaffingForecast
from shared.http import SessionDep
from shared.periods import InvalidPeriod, Moment, end_of, start_of

router = APIRouter(prefix="/v1")

DEFAULT_DAYS = 7
MAX_FORECAST_DAYS = 31


@router.get("/staffing/forecast", tags=["staffing"])
async def staffing_forecast(
    session: SessionDep,
    settings: SettingsDep,
    queue: Annotated[Skill, Query(description="The queue (skill) to plan.")],
    from_: Annotated[
        Moment | None,
        Query(alias="from", description="From today on; tomorrow's start by default."),
    ] = None,
    to: Annotated[
        Moment | None,
        Query(
            description=f"{DEFAULT_DAYS} days after from by default; at most "
            f"{MAX_FORECAST_DAYS} days after it."
        ),
    ] = None,
    interval: Annotated[
        int | None,
        Query(
            ge=15,
            le=30,
            multiple_of=15,
            description="Minutes per interval, 15 or 30; the configured length by default.",
        ),
    ] = None,
    agents: Annotated[
        int | None,
        Query(ge=0, le=MOST_AGENTS, description="Agents at their desks, for the what-if."),
    ] = None,
) -> StaffingForecast:
    """Expected calls and handle time per interval of a queue, with an interval of
    uncertainty, from the recorded calls of the past weeks (holidays and make-up working days
    from the bank's calendar); the agents each interval needs for the service-level target,
    the abandonment ceiling and the occupancy cap, rostered staff after shrinkage; with
    ``agents``, the service level, speed of answer and abandonment that many would give."""
    now = datetime.now(UTC)
    zone = settings.bank_zone
    today = start_of(now.astimezone(zone).date(), zone)
    start = start_of(from_, zone) if from_ is not None else today + timedelta(days=1)
    end = end_of(to, zone) if to is not None else start + timedelta(days=DEFAULT_DAYS)
    if start < today:
        raise InvalidPeriod("from", "a forecast starts today at the earliest")
    if end <= start:
        raise InvalidPeriod("to", "must be after from")
    if end - start > timedelta(days=MAX_FORECAST_DAYS):
        raise InvalidPeriod("to", f"a forecast covers at most {MAX_FORECAST_DAYS} days")
    return await service.staffing_forecast(
        session,
        queue,
        start,
        end,
        as_of=now,
        interval_minutes=interval or settings.forecast_interval_minutes,
        agents=agents,
        settings=settings,
    )
