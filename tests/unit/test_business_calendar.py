"""The country calendar tells holidays and make-up working days from ordinary days."""

from datetime import date
from zoneinfo import ZoneInfo

from shared.business_calendar import BusinessCalendar

MAINLAND = BusinessCalendar("CN", None, ZoneInfo("Asia/Shanghai"))


class TestMainlandCalendar:
    def test_national_day_is_a_holiday_and_not_a_business_day(self) -> None:
        assert MAINLAND.is_holiday(date(2025, 10, 1))  # a Wednesday
        assert not MAINLAND.is_business_day(date(2025, 10, 1))

    def test_the_sunday_worked_for_national_day_is_a_make_up_day(self) -> None:
        assert MAINLAND.is_make_up_day(date(2025, 9, 28))
        assert MAINLAND.is_business_day(date(2025, 9, 28))
        assert not MAINLAND.is_holiday(date(2025, 9, 28))

    def test_an_ordinary_week_is_neither(self) -> None:
        week = [date(2025, 11, 10 + offset) for offset in range(7)]
        assert [MAINLAND.is_business_day(day) for day in week] == [True] * 5 + [False] * 2
        assert not any(MAINLAND.is_holiday(day) or MAINLAND.is_make_up_day(day) for day in week)
