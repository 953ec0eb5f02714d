"""A country's business calendar: which days are worked, in which time zone.

Calendars come from the ``holidays`` package, which also knows mainland China's make-up working
days (调休): a Saturday or Sunday worked in exchange for a bridged holiday is a business day,
and a weekday inside the holiday is not. Complaint deadlines count on it; the contact centre's
forecast tells holidays and make-up days from ordinary weekdays with it.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

# Monday to Friday, as ``date.weekday()`` numbers them.
_WEEKDAYS = range(5)


@cache
def _calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    # The calendar fills in each year the first time a date of that year is asked about.
    return holidays.country_holidays(country, subdiv=subdivision)


@dataclass(frozen=True)
class BusinessCalendar:
    country: str
    subdivision: str | None
    timezone: ZoneInfo

    def is_business_day(self, day: date) -> bool:
        return bool(_calendar(self.country, self.subdivision).is_working_day(day))

    def is_holiday(self, day: date) -> bool:
        """A weekday the calendar rests: a public holiday or a day bridged to one."""
        return day.weekday() in _WEEKDAYS and not self.is_business_day(day)

    def is_make_up_day(self, day: date) -> bool:
        """A Saturday or Sunday worked in exchange for a bridged holiday."""
        return day.weekday() not in _WEEKDAYS and self.is_business_day(day)

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.timezone).date()

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time.max, self.timezone).astimezone(UTC)

    def add_business_days(self, day: date, days: int) -> date:
        for _ in range(days):
            day += timedelta(days=1)
            while not self.is_business_day(day):
                day += timedelta(days=1)
        return day
