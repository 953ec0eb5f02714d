"""Each built-in rule fires at its threshold and not just below it; windows at their edges."""

import uuid
from datetime import timedelta

from tests.service.events.conftest import (
    BANK_TODAY,
    NOW,
    Detector,
    builtin,
    closed,
    complaint,
    contact,
    debit,
    known_customer,
    opened,
    posted,
    salary,
    tier_changed,
)


class TestLargeDeposit:
    rule = builtin("large_deposit")

    async def _with_history(self, detector: Detector, amounts: list[int]) -> uuid.UUID:
        customer_id = await known_customer(detector)
        for n, amount in enumerate(amounts):
            at = NOW - timedelta(days=60 - n * 10)
            await detector.feed(posted(customer_id, amount, at=at), self.rule)
        return customer_id

    async def test_five_times_the_customer_s_own_average_fires(self, detector: Detector) -> None:
        customer_id = await self._with_history(detector, [10_000, 10_000, 10_000])
        assert await detector.feed(posted(customer_id, 50_000), self.rule) == ["created"]
        (opportunity,) = await detector.opportunities(customer_id)
        assert opportunity.facts["times_the_average"] == "5.0"
        assert opportunity.facts["average_in_90d"] == "10000.00"
        assert (opportunity.action, opportunity.product) == ("up_sell", "wealth_management")

    async def test_just_under_five_times_does_not(self, detector: Detector) -> None:
        customer_id = await self._with_history(detector, [12_000, 12_000, 12_000])
        assert await detector.feed(posted(customer_id, 59_999), self.rule) == []

    async def test_routine_for_a_wealthy_customer_is_not_large(self, detector: Detector) -> None:
        customer_id = await self._with_history(detector, [200_000, 200_000, 200_000])
        assert await detector.feed(posted(customer_id, 500_000), self.rule) == []

    async def test_below_the_floor_even_at_ten_times(self, detector: Detector) -> None:
        customer_id = await self._with_history(detector, [1_000, 1_000, 1_000])
        assert await detector.feed(posted(customer_id, "49999.99"), self.rule) == []

    async def test_needs_three_movements_of_history(self, detector: Detector) -> None:
        customer_id = await self._with_history(detector, [10_000, 10_000])
        assert await detector.feed(posted(customer_id, 100_000), self.rule) == []

    async def test_history_outside_the_90_day_window_does_not_count(
        self, detector: Detector
    ) -> None:
        customer_id = await known_customer(detector)
        for days_ago in (91, 95, 100):
            await detector.feed(posted(customer_id, 10_000, at=NOW - timedelta(days=days_ago)))
        assert await detector.feed(posted(customer_id, 60_000), self.rule) == []


class TestLargeWithdrawal:
    rule = builtin("large_withdrawal")

    async def test_at_and_under_100k(self, detector: Detector) -> None:
        at_threshold, under = await known_customer(detector), await known_customer(detector)
        assert await detector.feed(debit(at_threshold, 100_000), self.rule) == ["created"]
        assert await detector.feed(debit(under, "99999.99"), self.rule) == []


class TestBalanceDrop:
    rule = builtin("balance_drop")

    async def _dropping_to(self, detector: Detector, balance: str, days_ago: int) -> list[str]:
        customer_id = await known_customer(detector)
        then = NOW - timedelta(days=days_ago)
        await detector.feed(posted(customer_id, 100_000, balance_after=100_000, at=then))
        return await detector.feed(
            posted(customer_id, 1, direction="debit", kind="payment", balance_after=balance),
            self.rule,
        )

    async def test_down_30_percent_in_30_days_fires(self, detector: Detector) -> None:
        assert await self._dropping_to(detector, "70000.00", days_ago=30) == ["created"]

    async def test_down_a_little_less_does_not(self, detector: Detector) -> None:
        assert await self._dropping_to(detector, "70000.01", days_ago=30) == []

    async def test_the_baseline_is_the_balance_30_days_ago_not_29(self, detector: Detector) -> None:
        # The only balance on record is 29 days old: there is no baseline 30 days back.
        assert await self._dropping_to(detector, "50000.00", days_ago=29) == []


class TestSalaryCredit:
    rule = builtin("salary_credit")

    async def test_the_second_month_in_a_row_fires(self, detector: Detector) -> None:
        customer_id = await known_customer(detector)
        last_month = (NOW.replace(day=1) - timedelta(days=10)).replace(day=10)
        this_month = NOW.replace(day=1) + timedelta(days=9)
        first = salary(customer_id, 15_000, at=last_month, payer="ICBC")
        second = salary(customer_id, 15_000, at=this_month, payer="ICBC")
        assert await detector.feed(first, self.rule) == []
        assert await detector.feed(second, self.rule) == ["created"]

    async def test_twice_in_one_month_or_after_a_gap_does_not(self, detector: Detector) -> None:
        customer_id = await known_customer(detector)
        month = NOW.replace(day=1)
        gap = (month - timedelta(days=40)).replace(day=5)
        assert await detector.feed(salary(customer_id, 9_000, at=gap, payer="CCB"), self.rule) == []
        for day in (3, 4):
            pay = salary(customer_id, 9_000, at=month + timedelta(days=day), payer="CCB")
            assert await detector.feed(pay, self.rule) == []


class TestTransferToAnotherBank:
    rule = builtin("transfer_to_other_bank")

    async def test_fires_only_for_another_bank_at_50k(self, detector: Detector) -> None:
        other, own, small = [await known_customer(detector) for _ in range(3)]
        to_abc = debit(other, 50_000, kind="transfer_out", counterparty_bank="ABC")
        assert await detector.feed(to_abc, self.rule) == ["created"]
        assert await detector.feed(debit(own, 50_000, kind="transfer_out"), self.rule) == []
        small_to_abc = debit(small, 49_999, kind="transfer_out", counterparty_bank="ABC")
        assert await detector.feed(small_to_abc, self.rule) == []


class TestScheduledRules:
    async def test_a_term_deposit_maturing_within_7_days_once(self, detector: Detector) -> None:
        rule = builtin("term_deposit_maturing")
        soon, later = await known_customer(detector), await known_customer(detector)
        today = BANK_TODAY
        await detector.feed(
            opened(soon, "6222000099990001", "term_deposit", today + timedelta(days=7))
        )
        await detector.feed(
            opened(later, "6222000099990002", "term_deposit", today + timedelta(days=8))
        )
        await detector.tick(rule)
        await detector.tick(rule)
        (opportunity,) = await detector.opportunities(soon)
        assert opportunity.facts["account_last_four"] == "0001"
        assert await detector.opportunities(later) == []

    async def test_dormant_for_180_days(self, detector: Detector) -> None:
        rule = builtin("dormancy")
        idle, recent = await known_customer(detector), await known_customer(detector)
        await detector.feed(posted(idle, 100, at=NOW - timedelta(days=180, hours=1)))
        await detector.feed(posted(recent, 100, at=NOW - timedelta(days=179)))
        await detector.tick(rule)
        await detector.tick(rule, now=NOW + timedelta(hours=1))
        (opportunity,) = await detector.opportunities(idle)
        assert opportunity.owner == "contact_center"
        assert opportunity.facts["days_since_activity"] == 180
        assert await detector.opportunities(recent) == []

    async def test_a_premium_customer_s_birthday_within_7_days(self, detector: Detector) -> None:
        rule = builtin("birthday")
        in_7 = (BANK_TODAY + timedelta(days=7)).strftime("%m-%d")
        in_8 = (BANK_TODAY + timedelta(days=8)).strftime("%m-%d")
        premium = await known_customer(detector, tier="premium", birth_month_day=in_7)
        too_far = await known_customer(detector, tier="premium", birth_month_day=in_8)
        ordinary = await known_customer(detector, tier="ordinary", birth_month_day=in_7)
        await detector.tick(rule)
        (opportunity,) = await detector.opportunities(premium)
        assert opportunity.facts["days_to_birthday"] == 7
        assert await detector.opportunities(too_far) == []
        assert await detector.opportunities(ordinary) == []


class TestAccountAndCustomerEvents:
    async def test_a_loan_paid_off(self, detector: Detector) -> None:
        rule = builtin("loan_paid_off")
        paid, written_off, current = [await known_customer(detector) for _ in range(3)]
        assert await detector.feed(closed(paid, "6222000088880001", "loan", True), rule) == [
            "created"
        ]
        assert (
            await detector.feed(closed(written_off, "6222000088880002", "loan", False), rule) == []
        )
        assert await detector.feed(closed(current, "6222000088880003", "current", True), rule) == []

    async def test_a_premium_customer_s_complaint_gets_service_recovery(
        self, detector: Detector
    ) -> None:
        rule = builtin("premium_complaint")
        premium = await known_customer(detector, tier="premium", consent={})
        ordinary = await known_customer(detector, tier="ordinary")
        # No consent and an open complaint do not hold back service recovery.
        assert await detector.feed(complaint(premium), rule) == ["created"]
        assert await detector.feed(complaint(ordinary), rule) == []
        (opportunity,) = await detector.opportunities(premium)
        assert (opportunity.action, opportunity.priority) == ("service_recovery", 100)

    async def test_three_contacts_within_7_days(self, detector: Detector) -> None:
        rule = builtin("repeated_contacts")
        within, spread = await known_customer(detector), await known_customer(detector)
        decisions = [
            await detector.feed(contact(within, NOW - timedelta(days=d)), rule) for d in (6, 3, 0)
        ]
        assert decisions == [[], [], ["created"]]
        spread_decisions = [
            await detector.feed(contact(spread, NOW - timedelta(days=d)), rule) for d in (7, 3, 0)
        ]
        assert spread_decisions == [[], [], []]

    async def test_a_downgrade_but_not_an_upgrade(self, detector: Detector) -> None:
        rule = builtin("segment_downgrade")
        down, up = await known_customer(detector, tier="key"), await known_customer(detector)
        assert await detector.feed(tier_changed(down, "key", "ordinary", "downgrade"), rule) == [
            "created"
        ]
        assert await detector.feed(tier_changed(up, "ordinary", "key", "upgrade"), rule) == []


def test_the_built_in_set_covers_the_twelve_moments() -> None:
    from services.events.rule_admin import BUILTIN_RULES, read_rule_file

    assert sorted(read_rule_file(BUILTIN_RULES)) == sorted([
        "large_deposit", "large_withdrawal", "balance_drop", "salary_credit",
        "transfer_to_other_bank", "term_deposit_maturing", "loan_paid_off", "dormancy",
        "birthday", "premium_complaint", "repeated_contacts", "segment_downgrade",
    ])  # fmt: skip
