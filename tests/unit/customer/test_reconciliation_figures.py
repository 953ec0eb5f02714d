"""Core banking's figures before any comparison: one digest whatever their order and notation,
and the rules the schema cannot say."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.customer.reconciliation.schemas import EndOfDayBalance, EndOfDayBalances
from services.customer.reconciliation.service import check_figures, digest_of
from shared.problems import InvalidField

SHANGHAI = ZoneInfo("Asia/Shanghai")


def figures(*lines: tuple[str, str, str]) -> EndOfDayBalances:
    return EndOfDayBalances(
        balances=[
            EndOfDayBalance(account_number=n, currency=c, balance=Decimal(b)) for n, c, b in lines
        ]
    )


class TestDigest:
    def test_the_same_figures_in_another_order_and_notation_have_one_digest(self) -> None:
        one = figures(("62220001", "CNY", "42"), ("62220002", "USD", "-3.5"))
        other = figures(("62220002", "USD", "-3.50"), ("62220001", "CNY", "42.00"))

        assert digest_of(one) == digest_of(other)

    @pytest.mark.parametrize(
        "changed",
        [("62220001", "CNY", "42.01"), ("62220001", "USD", "42.00"), ("62220003", "CNY", "42")],
    )
    def test_a_changed_figure_is_another_digest(self, changed: tuple[str, str, str]) -> None:
        assert digest_of(figures(("62220001", "CNY", "42"))) != digest_of(figures(changed))


class TestCheck:
    def test_a_day_is_refused_until_midnight_in_the_bank_s_time_zone(self) -> None:
        day = date(2026, 12, 5)
        one = figures(("62220001", "CNY", "1"))
        # Midnight in Shanghai is 16:00 UTC the same day.
        before = datetime(2026, 12, 5, 15, 59, tzinfo=UTC)
        after = datetime(2026, 12, 5, 16, 0, tzinfo=UTC)

        with pytest.raises(InvalidField) as refused:
            check_figures(one, business_date=day, now=before, zone=SHANGHAI)
        check_figures(one, business_date=day, now=after, zone=SHANGHAI)

        assert refused.value.extensions["field"] == "business_date"

    def test_an_account_twice_is_named_at_its_second_line(self) -> None:
        twice = figures(
            ("62220001", "CNY", "1"), ("62220002", "CNY", "1"), ("62220001", "CNY", "2")
        )

        with pytest.raises(InvalidField) as refused:
            check_figures(
                twice, business_date=date(2026, 1, 1), now=datetime.now(UTC), zone=SHANGHAI
            )

        assert refused.value.extensions["field"] == "balances[2].account_number"
        assert refused.value.extensions["errors"][0]["message"] == "repeats balances[0]"
