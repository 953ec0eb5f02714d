"""Deadlines in each regulatory pack, counted across weekends and public holidays on the
jurisdiction's own calendar and in its own time zone."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.complaints.deadlines import PACKS, BusinessCalendar, DayCount, Period

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def _local(day: str, zone: ZoneInfo, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), zone).replace(hour=hour)


def _due_day(pack: str, start: datetime, period: Period) -> date:
    calendar = BusinessCalendar.of(PACKS[pack])
    due = calendar.due(start, period)
    assert due.tzinfo is not None
    local = due.astimezone(calendar.timezone)
    # A deadline is the very end of its local day.
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date()


class TestChinaPack:
    pack = PACKS["cn"]

    def test_acknowledgement_on_a_make_up_working_saturday(self) -> None:
        # 14 Feb 2026 is a Saturday worked in exchange for the Spring Festival bridge days.
        assert _due_day("cn", _local("2026-02-13", SHANGHAI), self.pack.acknowledgement) == date(
            2026, 2, 14
        )

    def test_acknowledgement_skips_the_weekend(self) -> None:
        assert _due_day("cn", _local("2026-03-06", SHANGHAI), self.pack.acknowledgement) == date(
            2026, 3, 9
        )

    def test_acknowledgement_skips_labour_day_and_its_bridge(self) -> None:
        # 1-5 May 2026 are days off (with 4 May observed and 5 May swapped for 9 May).
        assert _due_day("cn", _local("2026-04-30", SHANGHAI), self.pack.acknowledgement) == date(
            2026, 5, 6
        )

    def test_the_day_is_shanghai_s_not_utc_s(self) -> None:
        # 17:00 UTC on 13 Feb is 01:00 on Saturday 14 Feb in Shanghai, the make-up working day;
        # the next business day is after the whole Spring Festival: Tuesday 24 Feb.
        start = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
        assert _due_day("cn", start, self.pack.acknowledgement) == date(2026, 2, 24)

    def test_decision_in_15_days_rolls_past_national_day(self) -> None:
        # 17 Sep + 15 days is 2 Oct, inside the National Day break (1-7 Oct): due 8 Oct.
        assert _due_day("cn", _local("2026-09-17", SHANGHAI), self.pack.decision.period) == date(
            2026, 10, 8
        )

    def test_decision_in_15_calendar_days_counts_weekends(self) -> None:
        assert _due_day("cn", _local("2026-03-02", SHANGHAI), self.pack.decision.period) == date(
            2026, 3, 17
        )

    def test_extensions_reach_30_then_60_days_and_the_second_needs_a_supervisor(self) -> None:
        first, second = self.pack.decision.extensions
        start = _local("2026-03-02", SHANGHAI)
        assert _due_day("cn", start, first.period) == date(2026, 4, 1)
        assert _due_day("cn", start, second.period) == date(2026, 5, 6)  # 1 May rolls to 6 May
        assert {r.value for r in second.approvers} == {"supervisor"}
        assert len(self.pack.decision.extensions) == 2  # never beyond 60 days


class TestUnitedKingdomPack:
    pack = PACKS["uk"]

    def test_summary_resolution_by_the_third_business_day_past_easter(self) -> None:
        # Received Thursday 2 April 2026; Good Friday and Easter Monday are bank holidays.
        assert _due_day("uk", _local("2026-04-02", LONDON), self.pack.acknowledgement) == date(
            2026, 4, 9
        )

    def test_final_response_within_eight_weeks(self) -> None:
        assert _due_day("uk", _local("2026-04-02", LONDON), self.pack.decision.period) == date(
            2026, 5, 28
        )

    def test_payment_services_in_15_business_days_past_the_spring_bank_holiday(self) -> None:
        rule = self.pack.decision_rule("payment_services", {})
        assert rule.period == Period(15, DayCount.BUSINESS_DAYS)
        assert _due_day("uk", _local("2026-05-21", LONDON), rule.period) == date(2026, 6, 12)
        (holding_reply,) = rule.extensions
        assert holding_reply.period == Period(35, DayCount.BUSINESS_DAYS)

    def test_a_configured_override_wins_over_the_pack(self) -> None:
        fast = PACKS["uk"].decision
        override = {"fees": fast}
        assert self.pack.decision_rule("fees", override) is fast
        assert self.pack.decision_rule("payment_services", {}).period.days == 15


class TestUnitedStatesPack:
    pack = PACKS["us"]

    def test_response_in_15_calendar_days_over_a_weekend_and_independence_day(self) -> None:
        # Calendar days: the weekends and 3 July (Independence Day observed) all count.
        assert _due_day("us", _local("2026-06-25", NEW_YORK), self.pack.decision.period) == date(
            2026, 7, 10
        )

    def test_acknowledgement_skips_independence_day_observed_and_the_weekend(self) -> None:
        assert _due_day("us", _local("2026-07-02", NEW_YORK), self.pack.acknowledgement) == date(
            2026, 7, 6
        )

    def test_final_response_within_60_days(self) -> None:
        (extension,) = self.pack.decision.extensions
        assert _due_day("us", _local("2026-06-25", NEW_YORK), extension.period) == date(2026, 8, 24)


@pytest.mark.parametrize("code", sorted(PACKS))
def test_every_pack_s_calendar_knows_its_weekend(code: str) -> None:
    calendar = BusinessCalendar.of(PACKS[code])
    assert not calendar.is_business_day(date(2026, 11, 22))  # a Sunday, in every pack
    assert calendar.is_business_day(date(2026, 11, 18))  # a Wednesday
