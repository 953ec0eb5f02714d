"""Moments and periods a client names in a query string (``?from=…&to=…``, ``?as_of=…``).

A moment is a date-time with its offset, or a date alone, which is what a supervisor types:
that day in the bank's time zone (``CRM_BANK_TIME_ZONE``), from its start when it opens a
period and to its end when it closes one. A date-time without an offset names no moment and is
a 422, as is a period that ends before it starts; every such error lists the parameter in
``errors``, as every other invalid query parameter does.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field

from shared.problems import InvalidField

Moment = Annotated[
    AwareDatetime | date,
    Field(
        description=(
            "A date-time with its offset, or a date alone: that day in the bank's time zone."
        )
    ),
]


class InvalidPeriod(InvalidField):
    def __init__(self, parameter: str, message: str, *, where: str = "query") -> None:
        super().__init__(parameter, message, where=where)


def start_of(moment: datetime | date, zone: ZoneInfo) -> datetime:
    """The moment itself, or a date's first instant in the bank's time zone."""
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, time(), zone).astimezone(UTC)


def end_of(moment: datetime | date, zone: ZoneInfo) -> datetime:
    """The moment itself, or the instant a date's day ends in the bank's time zone."""
    if isinstance(moment, datetime):
        return moment
    return start_of(moment + timedelta(days=1), zone)


def period(
    start: datetime | date | None,
    end: datetime | date | None,
    *,
    zone: ZoneInfo,
    now: datetime,
    default: timedelta,
    longest: timedelta | None = None,
    where: str = "query",
) -> tuple[datetime, datetime]:
    """[from, to): ``to`` is now unless given, ``from`` ``default`` before ``to`` unless given."""
    until = end_of(end, zone) if end is not None else now
    since = start_of(start, zone) if start is not None else until - default
    if since >= until:
        raise InvalidPeriod("from", "must be before to", where=where)
    if longest is not None and until - since > longest:
        raise InvalidPeriod("from", f"the period is at most {longest.days} days", where=where)
    return since, until
