"""A reporting period as the supervisor names it (``2026-Q1``, ``2026-H1``), bounded in the
pack's own time zone: a complaint closed at 00:30 on 1 July in London belongs to the second
half-year even though it is still 30 June in UTC."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.complaints.deadlines import RegulatoryPack
from services.complaints.returns.taxonomy import PeriodKind
from shared.periods import start_of
from shared.problems import InvalidField

_PATTERN = re.compile(r"^(?P<year>\d{4})-(?P<kind>[QH])(?P<number>[1-4])$")
_MONTHS = {PeriodKind.QUARTER: 3, PeriodKind.HALF_YEAR: 6}
_LETTER = {PeriodKind.QUARTER: "Q", PeriodKind.HALF_YEAR: "H"}


@dataclass(frozen=True)
class ReportingPeriod:
    label: str
    first_day: date
    last_day: date
    start: datetime  # the first instant, in UTC
    end: datetime  # the first instant after it


def _first_of_month(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def reporting_period(label: str, pack: RegulatoryPack) -> ReportingPeriod:
    """The period ``label`` names, in the pack's kind of period; a 422 on ``period`` if it
    names another kind or none."""
    kind = pack.reporting.period
    match = _PATTERN.match(label)
    count = 12 // _MONTHS[kind]
    if (
        match is None
        or match["kind"] != _LETTER[kind]
        or not 1 <= int(match["number"]) <= count
        or not 1990 <= int(match["year"]) <= 2100
    ):
        example = f"2026-{_LETTER[kind]}1" + (" … 2026-Q4" if kind is PeriodKind.QUARTER else "")
        raise InvalidField(
            "period", f"the {pack.code} pack reports by {kind}: {example}", where="query"
        )
    year, number = int(match["year"]), int(match["number"])
    first_day = date(year, (number - 1) * _MONTHS[kind] + 1, 1)
    next_first = _first_of_month(year, first_day.month + _MONTHS[kind])
    zone = ZoneInfo(pack.timezone)
    return ReportingPeriod(
        label=label,
        first_day=first_day,
        last_day=next_first - timedelta(days=1),
        start=start_of(first_day, zone),
        end=start_of(next_first, zone),
    )
