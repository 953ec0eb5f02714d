"""A period an analyst names, bounded in the bank's time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.customer.analytics.periods import calendar_period
from shared.problems import InvalidField

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2025", datetime(2024, 12, 31, 16, tzinfo=UTC), datetime(2025, 12, 31, 16, tzinfo=UTC)),
        ("2025-Q4", datetime(2025, 9, 30, 16, tzinfo=UTC), datetime(2025, 12, 31, 16, tzinfo=UTC)),
        ("2025-02", datetime(2025, 1, 31, 16, tzinfo=UTC), datetime(2025, 2, 28, 16, tzinfo=UTC)),
        ("2024-12", datetime(2024, 11, 30, 16, tzinfo=UTC), datetime(2024, 12, 31, 16, tzinfo=UTC)),
    ],
)
def test_a_year_quarter_or_month_runs_from_midnight_to_midnight_in_shanghai(
    label: str, start: datetime, end: datetime
) -> None:
    period = calendar_period(label, SHANGHAI)

    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize("label", ["2025-Q0", "2025-00", "2025-1", "2025-H1", "1899", "x"])
def test_anything_else_is_refused_naming_the_period(label: str) -> None:
    with pytest.raises(InvalidField) as refused:
        calendar_period(label, SHANGHAI)

    assert refused.value.extensions["field"] == "period"
