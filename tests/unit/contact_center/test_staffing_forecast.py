"""The forecast on weeks of calls with a known pattern (weekday × interval × a weekly trend of
+2%), drawn as Poisson arrivals, eight weeks of history and the ninth forecast.

Bound: a forecast can be no better than the pattern itself, whose own WAPE against the
drawn calls is the Poisson scatter (about 0.09 at this volume, 1,200 calls a weekday over 26
half-hours). The forecast must come within 0.03 of that, and within 0.05 of the pattern."""

from datetime import date
from zoneinfo import ZoneInfo

from crm.forecast_backtest import Pattern, history_from, simulate_days
from services.contact_center.staffing.forecasting import Method, forecast, wape
from shared.business_calendar import BusinessCalendar

MAINLAND = BusinessCalendar("CN", None, ZoneInfo("Asia/Shanghai"))
METHOD = Method(shape_half_life_weeks=4, interval_level=0.9, assumed_handle_seconds=180)
SLOTS = 48
FIRST_DAY = date(2025, 6, 9)  # a Monday; no holiday until the end of September


def flat(rows: list[list[float]]) -> list[float]:
    return [value for row in rows for value in row]


class TestKnownPattern:
    def test_next_week_is_forecast_within_the_bound(self) -> None:
        pattern = Pattern()
        days = simulate_days(pattern, FIRST_DAY, 9 * 7, slots=SLOTS, calendar=MAINLAND, seed=3)
        history, week = days[:56], days[56:]

        predicted = forecast(
            history_from(history, SLOTS), [d.day for d in week], calendar=MAINLAND, method=METHOD
        )
        drawn = flat([[float(len(calls)) for calls in d.slots] for d in week])
        truth = flat([pattern.expected(d.day, FIRST_DAY, SLOTS, MAINLAND) for d in week])
        expected = flat([[s.expected_calls for s in d.slots] for d in predicted])

        scatter, against_drawn = wape(drawn, truth), wape(drawn, expected)
        against_truth = wape(truth, expected)
        assert scatter is not None
        assert against_drawn is not None
        assert against_truth is not None
        print(
            f"\nWAPE: pattern vs drawn {scatter:.4f}, forecast vs drawn {against_drawn:.4f}, "
            f"forecast vs pattern {against_truth:.4f}"
        )
        assert against_drawn <= scatter + 0.03
        assert against_truth <= 0.05

    def test_the_interval_of_uncertainty_covers_about_its_level(self) -> None:
        days = simulate_days(Pattern(), FIRST_DAY, 9 * 7, slots=SLOTS, calendar=MAINLAND, seed=4)
        history, week = history_from(days[:56], SLOTS), [d.day for d in days[56:]]
        predicted = forecast(history, week, calendar=MAINLAND, method=METHOD)
        inside = total = 0
        for day, plan in zip(days[56:], predicted, strict=True):
            for calls, slot in zip(day.slots, plan.slots, strict=True):
                if slot.expected_calls > 0:
                    total += 1
                    inside += slot.low <= len(calls) <= slot.high
        print(f"\n{inside} of {total} intervals inside the 90% interval")
        assert 0.8 <= inside / total <= 0.99


class TestCalendar:
    def test_a_holiday_follows_sunday_and_a_make_up_day_a_working_day(self) -> None:
        # History to 2025-09-21; National Day (Wed 1 October) is a holiday, and Sunday
        # 28 September is worked in exchange.
        start = date(2025, 7, 28)
        steady = Pattern(weekly_trend=0)
        days = simulate_days(steady, start, 8 * 7, slots=SLOTS, calendar=MAINLAND, seed=5)
        ahead = [date(2025, 9, 28), date(2025, 10, 1), date(2025, 10, 5), date(2025, 10, 13)]

        made_up, holiday, sunday, monday = (
            sum(s.expected_calls for s in d.slots)
            for d in forecast(history_from(days, SLOTS), ahead, calendar=MAINLAND, method=METHOD)
        )

        assert holiday < 0.5 * made_up
        assert abs(made_up - 1.07 * 1200) < 0.05 * 1200  # the working days' average
        assert abs(holiday - 0.5 * 1200) < 0.05 * 1200  # Sunday's
        assert abs(monday - 1.2 * 1200) < 0.05 * 1200
        assert abs(sunday - holiday) < 0.01 * holiday  # a Sunday in the holiday is a Sunday
