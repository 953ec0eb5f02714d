"""The forecast of calls and handle time per queue, day and interval: a pure core.

Method: a weighted history, decomposed as day level × trend × the day's shape over its
intervals. Each day is of a kind: its weekday, or a holiday (a weekday the bank's calendar
rests) or a make-up working day (a weekend day worked for a bridged holiday, 调休), the
calendar's own, as the complaint deadlines count them. Holidays with no holiday in the history
take Sunday's pattern; make-up days take the average working day's.

* Level per kind and trend (a straight line in the day's total over its kind's level) are fitted
  together by alternating least squares over the history (``history_weeks``).
* The shape (each interval's share of its day) is a weighted average over the days of the kind,
  the weights halving every ``shape_half_life_weeks``, so a change in the day's rhythm shows.
* Handle time per kind and interval is the history's average, falling back to the kind's, the
  queue's, then the assumed one.
* The interval of uncertainty: calls in an interval scatter as a Poisson count, widened by the
  dispersion the fit leaves in the history (Pearson's χ² over its degrees of freedom, at least
  1): expected ± z·√(φ·expected). Fitted in-sample, it is a floor on the error, not a ceiling;
  the backtest command measures the real one.

Why not Holt–Winters (statsmodels' ExponentialSmoothing): the season of a week of half-hours
is 336 intervals (672 of quarter-hours), which that model fits as as many seasonal states by
numerical optimisation per queue, needs two whole seasons to start and cannot be told that
a Wednesday is a holiday; it would also bring numpy, scipy and pandas into a service that has
none. The decomposition here is fitted in milliseconds, in the standard library, and the
calendar decides which pattern each day follows.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from statistics import NormalDist

from shared.business_calendar import BusinessCalendar

_FIT_ROUNDS = 8
_WORKING_WEEKDAYS = ("0", "1", "2", "3", "4")
_SUNDAY = "6"


class DayKind(StrEnum):
    HOLIDAY = "holiday"
    MAKE_UP = "make_up"


def day_kind(day: date, calendar: BusinessCalendar) -> str:
    """A holiday, a make-up working day, or the weekday's number (Monday 0)."""
    if calendar.is_holiday(day):
        return DayKind.HOLIDAY
    if calendar.is_make_up_day(day):
        return DayKind.MAKE_UP
    return str(day.weekday())


@dataclass
class DayRecord:
    """One recorded day of a queue: calls, and handle time over handled calls, per interval."""

    calls: list[float]
    handled: list[float]
    handle_seconds: list[float]


@dataclass(frozen=True)
class History:
    first_day: date
    days: list[DayRecord]  # consecutive days from ``first_day``
    slots: int  # intervals per day


@dataclass(frozen=True)
class SlotForecast:
    expected_calls: float
    low: float
    high: float
    handle_seconds: float


@dataclass(frozen=True)
class DayForecast:
    day: date
    kind: str
    slots: list[SlotForecast]


@dataclass(frozen=True)
class Method:
    shape_half_life_weeks: float
    interval_level: float  # the probability the interval of uncertainty is meant to cover
    assumed_handle_seconds: float


@dataclass
class _Fit:
    levels: dict[str, float]
    intercept: float
    slope: float

    def trend(self, index: int) -> float:
        # A falling line may not take the volume below a twentieth of the level.
        return max(0.05, self.intercept + self.slope * index)


def _line(points: list[tuple[int, float]]) -> tuple[float, float]:
    if len(points) < 2:
        return 1.0, 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return mean_y, 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return mean_y - slope * mean_x, slope


def _fit(totals: list[float], kinds: list[str]) -> _Fit:
    fit = _Fit({}, 1.0, 0.0)
    for _ in range(_FIT_ROUNDS):
        sums: dict[str, list[float]] = {}
        for index, (total, kind) in enumerate(zip(totals, kinds, strict=True)):
            sums.setdefault(kind, []).append(total / fit.trend(index))
        fit.levels = {kind: sum(values) / len(values) for kind, values in sums.items()}
        ratios = [
            (index, total / fit.levels[kind])
            for index, (total, kind) in enumerate(zip(totals, kinds, strict=True))
            if fit.levels[kind] > 0
        ]
        fit.intercept, fit.slope = _line(ratios)
    return fit


def _fallback(kind: str, known: dict[str, list[float]]) -> list[float] | None:
    """The pattern a kind with no history of its own follows."""
    if kind in known:
        return known[kind]
    if kind == DayKind.HOLIDAY:
        return known.get(_SUNDAY)
    working = [known[k] for k in _WORKING_WEEKDAYS if k in known]
    if kind == DayKind.MAKE_UP and working:
        return [sum(values) / len(working) for values in zip(*working, strict=True)]
    return None


def _ratio(part: float, whole: float, default: float) -> float:
    return part / whole if whole > 0 else default


def _shapes(history: History, kinds: list[str], method: Method) -> dict[str, list[float]]:
    """Each kind's weighted share of its day per interval (a level of 1 spread over them)."""
    calls: dict[str, list[float]] = {}
    weight_sum: dict[str, float] = {}
    last = len(history.days) - 1
    for index, (record, kind) in enumerate(zip(history.days, kinds, strict=True)):
        total = sum(record.calls)
        if total <= 0:
            continue
        weight = 0.5 ** ((last - index) / 7 / method.shape_half_life_weeks)
        shares = calls.setdefault(kind, [0.0] * history.slots)
        for slot, count in enumerate(record.calls):
            shares[slot] += weight * count / total
        weight_sum[kind] = weight_sum.get(kind, 0.0) + weight
    return {kind: [s / weight_sum[kind] for s in shares] for kind, shares in calls.items()}


def _handle_times(
    history: History, kinds: list[str], method: Method
) -> Callable[[str], list[float]]:
    seconds: dict[str, list[float]] = {}
    handled: dict[str, list[float]] = {}
    for record, kind in zip(history.days, kinds, strict=True):
        seconds.setdefault(kind, [0.0] * history.slots)
        handled.setdefault(kind, [0.0] * history.slots)
        for slot in range(history.slots):
            seconds[kind][slot] += record.handle_seconds[slot]
            handled[kind][slot] += record.handled[slot]
    overall = _ratio(
        sum(map(sum, seconds.values())),
        sum(map(sum, handled.values())),
        method.assumed_handle_seconds,
    )

    def of(kind: str) -> list[float]:
        if kind not in seconds:
            kind = next((k for k in (_SUNDAY, *_WORKING_WEEKDAYS) if k in seconds), kind)
        if kind not in seconds:
            return [overall] * history.slots
        day = _ratio(sum(seconds[kind]), sum(handled[kind]), overall)
        return [_ratio(s, h, day) for s, h in zip(seconds[kind], handled[kind], strict=True)]

    return of


def _dispersion(
    history: History, kinds: list[str], fit: _Fit, shapes: dict[str, list[float]]
) -> float:
    chi_square, points = 0.0, 0
    for index, (record, kind) in enumerate(zip(history.days, kinds, strict=True)):
        shape = shapes.get(kind)
        if shape is None:
            continue
        for slot, count in enumerate(record.calls):
            fitted = fit.levels[kind] * fit.trend(index) * shape[slot]
            if fitted > 0:
                chi_square += (count - fitted) ** 2 / fitted
                points += 1
    freedom = points - len(shapes) * history.slots - 2
    return max(1.0, chi_square / freedom) if freedom > 0 else 1.0


def forecast(
    history: History, days: list[date], *, calendar: BusinessCalendar, method: Method
) -> list[DayForecast]:
    """Calls and handle time for each interval of ``days``, from the history before them."""
    kinds = [
        day_kind(history.first_day + timedelta(days=i), calendar) for i in range(len(history.days))
    ]
    fit = _fit([sum(record.calls) for record in history.days], kinds)
    shapes = _shapes(history, kinds, method)
    handle_of = _handle_times(history, kinds, method)
    spread = NormalDist().inv_cdf((1 + method.interval_level) / 2)
    dispersion = _dispersion(history, kinds, fit, shapes)
    levels = {kind: [level] for kind, level in fit.levels.items()}
    answer = []
    for day in days:
        kind = day_kind(day, calendar)
        index = (day - history.first_day).days
        level = (_fallback(kind, levels) or [0.0])[0] * fit.trend(index)
        shape = _fallback(kind, shapes) or [0.0] * history.slots
        handle = handle_of(kind)
        slots = []
        for slot in range(history.slots):
            expected = level * shape[slot]
            margin = spread * math.sqrt(dispersion * expected)
            slots.append(
                SlotForecast(expected, max(0.0, expected - margin), expected + margin, handle[slot])
            )
        answer.append(DayForecast(day, kind, slots))
    return answer


def wape(actual: list[float], forecast: list[float]) -> float | None:
    """Weighted absolute percentage error: Σ|actual − forecast| / Σ actual."""
    total = sum(actual)
    if total <= 0:
        return None
    return sum(abs(a - f) for a, f in zip(actual, forecast, strict=True)) / total
