"""The staffing forecast's accuracy: held-out weeks of calls, forecast from the weeks before
them, compared interval by interval, and replayed through the simulator's ideal floor with the
agents the forecast asked for.

The traffic is recorded (the contact centre's own calls) or simulated: weeks with a known
pattern (weekday × interval × a weekly trend, Sunday's pattern on holidays) drawn as Poisson
arrivals with exponential handle times and, optionally, patience.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import click

from crm.traffic import Draw, Simulation, reference_floor
from services.contact_center.config import Settings
from services.contact_center.staffing.erlang import Traffic
from services.contact_center.staffing.forecasting import (
    DayForecast,
    DayRecord,
    History,
    Method,
    day_kind,
    forecast,
    wape,
)
from services.contact_center.staffing.planning import Targets, agents_required
from services.contact_center.staffing.service import method_of, targets_of
from shared.business_calendar import BusinessCalendar

# Monday to Sunday; a holiday follows Sunday's pattern, a make-up day Monday's.
WEEKDAY_FACTORS = (1.2, 1.1, 1.0, 1.0, 1.05, 0.6, 0.5)


@dataclass(frozen=True)
class Pattern:
    """Simulated traffic of one queue: ``calls_per_day`` on the first Wednesday, shaped over
    the day by two humps (mid-morning and mid-afternoon) between opening and closing."""

    calls_per_day: float = 1200.0
    weekly_trend: float = 0.02  # growth per week, on the first week's level
    handle_seconds: float = 180.0
    patience_seconds: float | None = None
    opens: int = 8  # local hour
    closes: int = 21

    def shape(self, slots: int) -> list[float]:
        hours = [(slot + 0.5) * 24 / slots for slot in range(slots)]
        weights = [
            math.exp(-(((h - 10.5) / 1.6) ** 2)) + 0.8 * math.exp(-(((h - 15.0) / 2.0) ** 2))
            if self.opens <= h < self.closes
            else 0.0
            for h in hours
        ]
        total = sum(weights)
        return [w / total for w in weights]

    def expected(
        self, day: date, first_day: date, slots: int, calendar: BusinessCalendar
    ) -> list[float]:
        kind = day_kind(day, calendar)
        weekday = {"holiday": 6, "make_up": 0}.get(kind, day.weekday())
        trend = 1 + self.weekly_trend * (day - first_day).days / 7
        level = self.calls_per_day * WEEKDAY_FACTORS[weekday] * trend
        return [level * share for share in self.shape(slots)]


@dataclass
class RecordedDay:
    """A day's calls per interval: each call's offset in the interval and its draw."""

    day: date
    slots: list[list[Draw]]


def simulate_days(
    pattern: Pattern,
    first_day: date,
    days: int,
    *,
    slots: int,
    calendar: BusinessCalendar,
    seed: int,
) -> list[RecordedDay]:
    rng = random.Random(seed)
    slot_seconds = 86400 / slots
    answer = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        drawn: list[list[Draw]] = []
        for rate in pattern.expected(day, first_day, slots, calendar):
            calls, moment = [], rng.expovariate(rate / slot_seconds) if rate else math.inf
            while moment < slot_seconds:
                patience = (
                    rng.expovariate(1 / pattern.patience_seconds)
                    if pattern.patience_seconds
                    else math.inf
                )
                calls.append(Draw(moment, rng.expovariate(1 / pattern.handle_seconds), patience))
                moment += rng.expovariate(rate / slot_seconds)
            drawn.append(calls)
        answer.append(RecordedDay(day, drawn))
    return answer


def history_from(days: list[RecordedDay], slots: int) -> History:
    records = [
        DayRecord(
            [float(len(calls)) for calls in day.slots],
            [float(len(calls)) for calls in day.slots],
            [sum(c.handle for c in calls) for calls in day.slots],
        )
        for day in days
    ]
    return History(days[0].day, records, slots)


@dataclass
class WeekResult:
    first_day: date
    wape: float | None
    by_day: list[tuple[date, float | None]]
    by_interval: list[float | None]  # per interval of the day, over the week's days
    offered: int = 0
    answered_within: float = 0.0
    intervals_meeting: int = 0
    intervals_staffed: int = 0
    levels: list[float] = field(default_factory=list)

    @property
    def service_level(self) -> float | None:
        return self.answered_within / self.offered if self.offered else None


def replay_interval(calls: list[Draw], agents: int, *, within: float, slot_seconds: float) -> float:
    """Answered within the threshold over offered for one interval's calls on ``agents``; the
    same calls played an interval earlier warm the floor up, so that it starts as loaded as
    the interval keeps it."""
    warm_up = [Draw(c.arrival - slot_seconds, c.handle, c.patience) for c in calls]
    simulation = Simulation(max(agents, 0), 1.0, 1.0, len(calls) * 2, len(warm_up), 0)
    return reference_floor(simulation, within, calls=warm_up + calls).service_level


def backtest_week(
    history: list[RecordedDay],
    held_out: list[RecordedDay],
    *,
    slots: int,
    calendar: BusinessCalendar,
    method: Method,
    targets: Targets,
    patience_seconds: float | None,
) -> WeekResult:
    predicted = forecast(
        history_from(history, slots),
        [day.day for day in held_out],
        calendar=calendar,
        method=method,
    )
    slot_seconds = 86400 / slots
    actual = [[float(len(calls)) for calls in day.slots] for day in held_out]
    expected = [[s.expected_calls for s in day.slots] for day in predicted]
    result = WeekResult(
        held_out[0].day,
        wape([a for day in actual for a in day], [f for day in expected for f in day]),
        [(d.day, wape(a, f)) for d, a, f in zip(held_out, actual, expected, strict=True)],
        [
            wape([day[slot] for day in actual], [day[slot] for day in expected])
            for slot in range(slots)
        ],
    )
    for day, plan in zip(held_out, predicted, strict=True):
        _replay_day(day, plan, result, slot_seconds, targets, patience_seconds)
    return result


def _replay_day(
    day: RecordedDay,
    plan: DayForecast,
    result: WeekResult,
    slot_seconds: float,
    targets: Targets,
    patience_seconds: float | None,
) -> None:
    for calls, figures in zip(day.slots, plan.slots, strict=True):
        traffic = Traffic(
            figures.expected_calls / slot_seconds, figures.handle_seconds, patience_seconds
        )
        agents = agents_required(traffic, targets)
        if not calls:
            continue
        level = replay_interval(
            calls, agents, within=targets.within_seconds, slot_seconds=slot_seconds
        )
        result.offered += len(calls)
        result.answered_within += level * len(calls)
        result.intervals_staffed += 1
        result.intervals_meeting += level >= targets.service_level
        result.levels.append(level)


@click.command("backtest-forecast")
@click.option("--held-out-weeks", default=2, show_default=True, type=click.IntRange(1, 12))
@click.option("--history-weeks", default=8, show_default=True, type=click.IntRange(2, 52))
@click.option("--interval", default=30, show_default=True, type=click.Choice(["15", "30"]))
@click.option("--first-day", default="2025-06-09", show_default=True, help="A Monday.")
@click.option("--calls-per-day", default=1200.0, show_default=True)
@click.option("--patience-seconds", type=float, default=None, help="Unset: nobody hangs up.")
@click.option("--seed", default=3, show_default=True)
def backtest_forecast(
    held_out_weeks: int,
    history_weeks: int,
    interval: str,
    first_day: str,
    calls_per_day: float,
    patience_seconds: float | None,
    seed: int,
) -> None:
    """Backtest the staffing forecast on simulated weeks of a known pattern: each held-out
    week is forecast from the weeks before it; prints WAPE per day and per interval of the
    day, and the service level the forecast's staffing achieves when the week's calls are
    replayed through the simulator's ideal floor."""
    settings = Settings()
    slots = 24 * 60 // int(interval)
    calendar = settings.holiday_calendar
    pattern = Pattern(calls_per_day=calls_per_day, patience_seconds=patience_seconds)
    start = date.fromisoformat(first_day)
    days = simulate_days(
        pattern,
        start,
        7 * (history_weeks + held_out_weeks),
        slots=slots,
        calendar=calendar,
        seed=seed,
    )
    targets = targets_of(settings)
    for week in range(held_out_weeks):
        cut = 7 * (history_weeks + week)
        result = backtest_week(
            days[cut - 7 * history_weeks : cut],
            days[cut : cut + 7],
            slots=slots,
            calendar=calendar,
            method=method_of(settings),
            targets=targets,
            patience_seconds=patience_seconds,
        )
        _print_week(result, slots, targets)


def _percent(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def _print_week(result: WeekResult, slots: int, targets: Targets) -> None:
    click.echo(f"week from {result.first_day}: WAPE {_percent(result.wape)}")
    for day, error in result.by_day:
        click.echo(f"  {day} {day.strftime('%a')}  WAPE {_percent(error)}")
    minutes = 24 * 60 // slots
    for slot, error in enumerate(result.by_interval):
        if error is not None:
            click.echo(
                f"  {slot * minutes // 60:02d}:{slot * minutes % 60:02d}  WAPE {_percent(error)}"
            )
    click.echo(
        f"  replayed: service level {_percent(result.service_level)} over {result.offered} "
        f"calls (target {_percent(targets.service_level)}); {result.intervals_meeting} of "
        f"{result.intervals_staffed} intervals met it"
    )
