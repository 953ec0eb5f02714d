"""The planners' staffing forecast: calls per interval from the recorded history, the agents
each interval needs for the bank's targets, and what a given number of agents would give.

The forecast is ``forecasting``'s, the agents ``planning``'s (Erlang A where callers'
patience is known, Erlang C otherwise). Patience, unless configured, is estimated from the
queue's own history: abandoned calls over the time every caller waited (the maximum-likelihood
estimate of an exponential patience when answered callers' waits are cut short by the answer).
"""

import math
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.config import Settings
from services.contact_center.staffing import repository as staffing_repository
from services.contact_center.staffing.erlang import Performance, Traffic, performance
from services.contact_center.staffing.forecasting import (
    DayForecast,
    DayRecord,
    History,
    Method,
    forecast,
)
from services.contact_center.staffing.planning import Targets, agents_required, rostered
from services.contact_center.staffing.repository import SlotRecord
from services.contact_center.staffing.schemas import (
    DayPlan,
    HistoryUsed,
    IntervalPlan,
    PlanTargets,
    StaffingForecast,
    WhatIf,
)
from shared.periods import start_of


def targets_of(settings: Settings) -> Targets:
    return Targets(
        service_level=settings.service_level_target,
        within_seconds=settings.service_level_seconds,
        max_abandonment=settings.max_abandonment,
        occupancy_cap=settings.occupancy_cap,
        shrinkage=settings.shrinkage,
    )


def method_of(settings: Settings) -> Method:
    return Method(
        shape_half_life_weeks=settings.forecast_shape_half_life_weeks,
        interval_level=settings.forecast_interval_level,
        assumed_handle_seconds=settings.assumed_handle_seconds,
    )


def history_of(records: list[SlotRecord], first_day: date, end_day: date, slots: int) -> History:
    """Consecutive days from the first with a call (or ``first_day``) up to ``end_day``."""
    start = min((r.day for r in records), default=first_day)
    days = [
        DayRecord([0.0] * slots, [0.0] * slots, [0.0] * slots)
        for _ in range((end_day - start).days)
    ]
    for record in records:
        day = days[(record.day - start).days]
        day.calls[record.slot] = record.calls
        day.handled[record.slot] = record.handled
        day.handle_seconds[record.slot] = record.handle_seconds
    return History(start, days, slots)


def what_if(agents: int, traffic: Traffic, *, within: float) -> WhatIf:
    figures: Performance = performance(agents, traffic, within=within)
    speed = figures.average_speed_of_answer_seconds
    return WhatIf(
        agents=agents,
        service_level=round(figures.service_level, 4),
        average_speed_of_answer_seconds=round(speed, 2) if math.isfinite(speed) else None,
        abandonment=round(figures.abandonment, 4),
        occupancy=round(figures.occupancy, 4),
    )


async def _patience(
    session: AsyncSession, queue: str, start: datetime, end: datetime, settings: Settings
) -> float | None:
    if settings.caller_patience_seconds is not None:
        return settings.caller_patience_seconds
    seen = await staffing_repository.patience(session, queue, start, end)
    if seen.abandoned < settings.patience_min_abandoned:
        return None
    return seen.waited_seconds / seen.abandoned


def _slot_start(day: date, slot: int, minutes: int, settings: Settings) -> datetime:
    local = datetime.combine(day, time()) + timedelta(minutes=slot * minutes)
    return local.replace(tzinfo=settings.bank_zone).astimezone(UTC)


async def staffing_forecast(
    session: AsyncSession,
    queue: str,
    start: datetime,
    end: datetime,
    *,
    as_of: datetime,
    interval_minutes: int,
    agents: int | None,
    settings: Settings,
) -> StaffingForecast:
    """Each interval of [start, end) of a queue: expected calls with their interval of
    uncertainty, handle time, the agents required and rostered, and, for ``agents``, what
    that many would give. The history is the whole days before ``as_of``."""
    zone, slots = settings.bank_zone, 24 * 60 // interval_minutes
    today = as_of.astimezone(zone).date()
    history_start = start_of(today - timedelta(weeks=settings.forecast_history_weeks), zone)
    history_end = start_of(today, zone)
    records = await staffing_repository.calls_by_slot(
        session, queue, history_start, history_end, zone=zone, slot_minutes=interval_minutes
    )
    history = history_of(records, history_start.astimezone(zone).date(), today, slots)
    first, last = start.astimezone(zone).date(), (end - timedelta.resolution).astimezone(zone)
    days = [first + timedelta(days=i) for i in range((last.date() - first).days + 1)]
    predicted = forecast(
        history, days, calendar=settings.holiday_calendar, method=method_of(settings)
    )
    patience = await _patience(session, queue, history_start, history_end, settings)
    intervals, day_plans = _plan(
        predicted, start, end, interval_minutes, patience, agents=agents, settings=settings
    )
    targets = targets_of(settings)
    return StaffingForecast(
        queue=queue,
        from_=start,
        to=end,
        interval_minutes=interval_minutes,
        interval_level=settings.forecast_interval_level,
        targets=PlanTargets(
            service_level=targets.service_level,
            service_level_seconds=targets.within_seconds,
            max_abandonment=targets.max_abandonment,
            occupancy_cap=targets.occupancy_cap,
            shrinkage=targets.shrinkage,
            patience_seconds=round(patience, 1) if patience is not None else None,
            model="erlang_c" if patience is None else "erlang_a",
        ),
        history=HistoryUsed(
            from_=history_start, to=history_end, calls=sum(r.calls for r in records)
        ),
        days=day_plans,
        intervals=intervals,
    )


def _plan(
    predicted: list[DayForecast],
    start: datetime,
    end: datetime,
    interval_minutes: int,
    patience: float | None,
    *,
    agents: int | None,
    settings: Settings,
) -> tuple[list[IntervalPlan], list[DayPlan]]:
    targets, seconds = targets_of(settings), interval_minutes * 60
    intervals, days = [], []
    for day in predicted:
        required_hours = rostered_hours = calls = 0.0
        for slot, figures in enumerate(day.slots):
            at = _slot_start(day.day, slot, interval_minutes, settings)
            if not start <= at < end:
                continue
            traffic = Traffic(figures.expected_calls / seconds, figures.handle_seconds, patience)
            required = agents_required(traffic, targets)
            on_roster = rostered(required, targets.shrinkage)
            within = targets.within_seconds
            intervals.append(
                IntervalPlan(
                    start=at,
                    expected_calls=round(figures.expected_calls, 2),
                    calls_low=round(figures.low, 2),
                    calls_high=round(figures.high, 2),
                    average_handle_time_seconds=round(figures.handle_seconds, 1),
                    load_erlangs=round(traffic.load, 3),
                    agents_required=required,
                    rostered_agents=on_roster,
                    expected=what_if(required, traffic, within=within),
                    what_if=what_if(agents, traffic, within=within) if agents is not None else None,
                )
            )
            calls += figures.expected_calls
            required_hours += required * interval_minutes / 60
            rostered_hours += on_roster * interval_minutes / 60
        days.append(
            DayPlan(
                date=day.day,
                kind=day.kind,
                expected_calls=round(calls, 1),
                agent_hours=required_hours,
                rostered_hours=rostered_hours,
            )
        )
    return intervals, days
