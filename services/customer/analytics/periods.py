"""A calendar period as an analyst names it (``2026``, ``2026-Q1``, ``2026-03``), bounded in
the bank's time zone: a customer lost at 00:30 on 1 April in Shanghai is lost in the second
quarter even though it is still 31 March in UTC."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.periods import start_of
from shared.problems import InvalidField

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class CalendarPeriod:
    label: str
    start: datetime  # the first instant, in UTC
    end: datetime  # the first instant after it


def _first_of_month(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def calendar_period(label: str, zone: ZoneInfo) -> CalendarPeriod:
    """The year, quarter or month ``label`` names; a 422 on ``period`` for anything else."""
    match = _PATTERN.match(label)
    if match is None or not 1990 <= int(match["year"]) <= 2100:
        raise InvalidField(
            "period", "a year, quarter or month: 2026, 2026-Q1, 2026-03", where="query"
        )
    year = int(match["year"])
    if match["quarter"] is not None:
        first, months = (int(match["quarter"]) - 1) * 3 + 1, 3
    elif match["month"] is not None:
        first, months = int(match["month"]), 1
    else:
        first, months = 1, 12
    return CalendarPeriod(
        label=label,
        start=start_of(date(year, first, 1), zone),
        end=start_of(_first_of_month(year, first + months), zone),
    )
