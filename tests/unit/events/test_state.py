"""The detector's per-customer state, without a database: how each event changes it, and the
day rows the sliding windows are sums over."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.events.rules import CONSUMED_EVENTS
from services.events.state import (
    APPLIERS,
    ERASED,
    CustomerState,
    DayFigures,
    Holding,
    apply_event,
    balance_on,
    deposit_balance,
    forget_days_before,
    window,
)

DAY = date(2026, 3, 10)
AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def _posted(
    amount: str,
    *,
    direction: str = "credit",
    balance_after: str = "1000",
    account: str = "6222000000001234",
    product_type: str = "current",
    kind: str = "salary",
    counterparty_bank: str | None = "ICBC",
) -> dict[str, Any]:
    return {
        "amount": amount,
        "direction": direction,
        "balance_after": balance_after,
        "account_number": account,
        "product_type": product_type,
        "kind": kind,
        "counterparty_bank": counterparty_bank,
    }


def _post(state: CustomerState, fields: dict[str, Any], *, at: datetime = AT) -> None:
    apply_event(state, "transaction.posted", fields, at=at, day=at.date())


class TestTransactionPosted:
    def test_a_credit_adds_to_the_day_s_money_in_count_and_largest(self) -> None:
        state = CustomerState("c1")
        _post(state, _posted("300"))
        _post(state, _posted("500"))
        figures = state.days[DAY]
        assert (figures.money_in, figures.count_in, figures.max_in) == (
            Decimal(800),
            2,
            Decimal(500),
        )
        assert (figures.money_out, figures.count_out) == (Decimal(0), 0)

    def test_a_debit_adds_to_the_day_s_money_out(self) -> None:
        state = CustomerState("c1")
        _post(state, _posted("120", direction="debit", kind="card"))
        figures = state.days[DAY]
        assert (figures.money_out, figures.count_out, figures.max_out) == (
            Decimal(120),
            1,
            Decimal(120),
        )
        assert figures.money_in == Decimal(0)

    def test_the_account_s_balance_and_the_day_s_closing_deposit_balance_follow(self) -> None:
        state = CustomerState("c1")
        _post(state, _posted("100", balance_after="2500"))
        assert state.holdings["6222000000001234"].balance == Decimal(2500)
        assert state.days[DAY].closing_balance == Decimal(2500)

    def test_it_is_activity_and_the_previous_activity_is_reported(self) -> None:
        state = CustomerState("c1", last_activity_at=AT - timedelta(days=40))
        applied = apply_event(state, "transaction.posted", _posted("10"), at=AT, day=DAY)
        assert state.last_activity_at == AT
        assert applied.previous_activity_at == AT - timedelta(days=40)
        assert (applied.day, applied.account) == (DAY, "6222000000001234")

    def test_an_earlier_event_does_not_move_the_last_activity_back(self) -> None:
        state = CustomerState("c1", last_activity_at=AT)
        _post(state, _posted("10"), at=AT - timedelta(days=1))
        assert state.last_activity_at == AT


class TestRecurringCredit:
    def test_the_second_consecutive_month_makes_a_credit_recurring(self) -> None:
        state = CustomerState("c1")
        first = apply_event(state, "transaction.posted", _posted("9000"), at=AT, day=DAY)
        next_month = AT + timedelta(days=31)
        second = apply_event(
            state, "transaction.posted", _posted("9000"), at=next_month, day=next_month.date()
        )
        assert (first.recurring_source, first.became_recurring) == ("salary:ICBC", False)
        assert (second.recurring_source, second.became_recurring) == ("salary:ICBC", True)
        assert state.recurring["salary:ICBC"].streak == 2

    def test_a_second_credit_in_the_same_month_is_not_new(self) -> None:
        state = CustomerState("c1")
        _post(state, _posted("9000"))
        later = AT + timedelta(days=5)
        applied = apply_event(
            state, "transaction.posted", _posted("9000"), at=later, day=later.date()
        )
        assert applied.became_recurring is False
        assert state.recurring["salary:ICBC"].streak == 1

    def test_a_skipped_month_starts_the_streak_again(self) -> None:
        state = CustomerState("c1")
        _post(state, _posted("9000"))
        two_months_on = AT + timedelta(days=62)
        applied = apply_event(
            state, "transaction.posted", _posted("9000"), at=two_months_on, day=two_months_on.date()
        )
        assert applied.became_recurring is False
        assert state.recurring["salary:ICBC"].streak == 1

    def test_a_debit_or_a_card_credit_is_never_recurring(self) -> None:
        state = CustomerState("c1")
        debit = apply_event(
            state, "transaction.posted", _posted("50", direction="debit"), at=AT, day=DAY
        )
        card = apply_event(state, "transaction.posted", _posted("50", kind="card"), at=AT, day=DAY)
        assert debit.recurring_source is None
        assert card.recurring_source is None
        assert state.recurring == {}


class TestAccounts:
    def test_an_opened_account_is_held_with_its_maturity(self) -> None:
        state = CustomerState("c1")
        fields = {
            "account_number": "A1",
            "product_type": "term_deposit",
            "maturity_date": "2027-03-10",
        }
        applied = apply_event(state, "account.opened", fields, at=AT, day=DAY)
        assert state.holdings["A1"] == Holding("term_deposit", maturity_date=date(2027, 3, 10))
        assert applied.account == "A1"

    def test_a_closed_account_leaves_the_deposit_balance(self) -> None:
        state = CustomerState("c1", holdings={"A1": Holding("current", Decimal(700))})
        fields = {"account_number": "A1", "product_type": "current"}
        apply_event(state, "account.closed", fields, at=AT, day=DAY)
        assert state.holdings["A1"].open is False
        assert state.holdings["A1"].balance == Decimal(0)
        assert state.days[DAY].closing_balance == Decimal(0)


class TestTransactionReversed:
    """A reversal (冲正) leaves the figures as they would have been without the posting."""

    def _reverse(
        self, state: CustomerState, posting: dict[str, Any], *, balance_after: str, at: datetime
    ) -> Any:
        fields = {**posting, "balance_after": balance_after, "reversed_day": AT.date()}
        return apply_event(state, "transaction.reversed", fields, at=at, day=at.date())

    def test_the_posting_day_loses_the_movement_and_later_balances_move_back(self) -> None:
        state = CustomerState("c1")
        _post(state, _posted("1000", balance_after="1000"))
        withdrawal = _posted("400", direction="debit", balance_after="600", kind="withdrawal")
        _post(state, withdrawal, at=AT + timedelta(hours=1))
        _post(state, _posted("50", balance_after="650"), at=AT + timedelta(days=1))

        applied = self._reverse(state, withdrawal, balance_after="1050", at=AT + timedelta(days=2))

        posting_day, next_day = state.days[DAY], state.days[DAY + timedelta(days=1)]
        assert (posting_day.money_out, posting_day.count_out, posting_day.max_out) == (
            Decimal(0),
            0,
            Decimal(0),
        )
        assert posting_day.money_in == Decimal(1000)  # the other movements of the day stay
        assert (posting_day.closing_balance, next_day.closing_balance) == (
            Decimal(1000),
            Decimal(1050),
        )
        assert state.days[DAY + timedelta(days=2)].closing_balance == Decimal(1050)
        assert state.holdings["6222000000001234"].balance == Decimal(1050)
        assert applied.earlier_days == (DAY, DAY + timedelta(days=1))

    def test_a_day_s_largest_movement_stays_an_upper_bound(self) -> None:
        state = CustomerState("c1")
        first = _posted("300", direction="debit", balance_after="700", kind="withdrawal")
        _post(state, first)
        _post(state, _posted("200", direction="debit", balance_after="500", kind="withdrawal"))
        self._reverse(state, first, balance_after="800", at=AT + timedelta(hours=2))
        figures = state.days[DAY]
        assert (figures.money_out, figures.count_out, figures.max_out) == (
            Decimal(200),
            1,
            Decimal(200),
        )
        assert figures.closing_balance == Decimal(800)

    def test_a_loan_s_reversal_leaves_the_deposit_balances(self) -> None:
        state = CustomerState("c1")
        _post(state, _posted("100", balance_after="100"))
        loan = _posted("900", balance_after="900", account="L1", product_type="loan")
        _post(state, loan)
        self._reverse(state, loan, balance_after="0", at=AT + timedelta(days=1))
        assert state.days[DAY].money_in == Decimal(100)
        assert state.days[DAY].closing_balance == Decimal(100)
        assert state.holdings["L1"].balance == Decimal(0)

    def test_without_the_posting_s_day_only_the_balance_moves(self) -> None:
        state = CustomerState("c1")
        deposit = _posted("500", balance_after="500")
        _post(state, deposit)
        fields = {**deposit, "balance_after": "0"}
        later = AT + timedelta(days=1)
        apply_event(state, "transaction.reversed", fields, at=later, day=later.date())
        assert (state.days[DAY].money_in, state.days[DAY].closing_balance) == (
            Decimal(500),
            Decimal(500),
        )
        assert state.days[later.date()].closing_balance == Decimal(0)


class TestInteractions:
    def _recorded(self, state: CustomerState, channel: str, kind: str) -> None:
        fields = {"channel": channel, "kind": kind}
        apply_event(state, "interaction.recorded", fields, at=AT, day=DAY)

    def test_only_conversations_with_the_bank_count_as_such(self) -> None:
        state = CustomerState("c1")
        self._recorded(state, "phone", "inbound_call:query")
        self._recorded(state, "phone", "callback")
        self._recorded(state, "branch", "advice")
        self._recorded(state, "web", "login")
        self._recorded(state, "atm", "balance_enquiry")
        self._recorded(state, "phone", "outbound_call:cross_sell")  # counted as its offer
        assert (state.days[DAY].contacts, state.days[DAY].conversations) == (6, 3)


class TestCustomerEvents:
    def test_an_erasure_forgets_how_to_reach_them_and_keeps_the_tier(self) -> None:
        state = CustomerState(
            "c1",
            value_tier="premium",
            consent={"phone": True},
            preferred_channel="phone",
            birth_month_day="05-17",
        )
        apply_event(state, "customer.erased", {}, at=AT, day=DAY)
        assert state.status == ERASED
        assert (state.consent, state.preferred_channel, state.birth_month_day) == ({}, None, None)
        assert state.value_tier == "premium"

    def test_only_a_value_tier_segment_change_moves_the_tier(self) -> None:
        state = CustomerState("c1", value_tier="ordinary")
        lifecycle = {"dimension": "lifecycle", "current": "dormant"}
        apply_event(state, "customer.segment_changed", lifecycle, at=AT, day=DAY)
        assert state.value_tier == "ordinary"
        tier = {"dimension": "value_tier", "current": "premium"}
        apply_event(state, "customer.segment_changed", tier, at=AT, day=DAY)
        assert state.value_tier == "premium"

    def test_a_quadrant_change_moves_the_quadrant_and_leaves_the_tier(self) -> None:
        state = CustomerState("c1", value_tier="key")
        entered = {"dimension": "quadrant", "current": "satisfied_drifting"}
        apply_event(state, "customer.segment_changed", entered, at=AT, day=DAY)
        assert (state.quadrant, state.value_tier) == ("satisfied_drifting", "key")
        left = {"dimension": "quadrant", "current": "unplaced"}
        apply_event(state, "customer.segment_changed", left, at=AT, day=DAY)
        assert state.quadrant == "unplaced"

    def test_an_attrition_band_move_moves_the_band_and_leaves_the_quadrant(self) -> None:
        state = CustomerState("c1", quadrant="satisfied_loyal")
        rose = {"dimension": "attrition_risk", "current": "high"}
        apply_event(state, "customer.segment_changed", rose, at=AT, day=DAY)
        assert (state.attrition_risk, state.quadrant) == ("high", "satisfied_loyal")

    def test_open_complaints_count_up_and_never_below_zero(self) -> None:
        state = CustomerState("c1")
        apply_event(state, "complaint.received", {}, at=AT, day=DAY)
        assert state.open_complaints == 1
        apply_event(state, "complaint.closed", {}, at=AT, day=DAY)
        apply_event(state, "complaint.closed", {}, at=AT, day=DAY)
        assert state.open_complaints == 0

    def test_an_event_without_an_applier_changes_nothing(self) -> None:
        state = CustomerState("c1", last_activity_at=AT)
        applied = apply_event(state, "something.else", {"x": 1}, at=AT, day=DAY)
        assert state == CustomerState("c1", last_activity_at=AT)
        assert applied.previous_activity_at == AT
        assert applied.day is None


class TestAppliers:
    def test_every_consumed_event_has_an_applier(self) -> None:
        # An event the detector consumes but does not fold in would be silently ignored.
        assert set(CONSUMED_EVENTS) <= set(APPLIERS)


class TestWindows:
    def _state(self) -> CustomerState:
        state = CustomerState("c1")
        for offset, balance in ((0, 300), (3, 200), (10, None)):
            state.days[DAY - timedelta(days=offset)] = DayFigures(
                money_in=Decimal(offset + 1),
                closing_balance=None if balance is None else Decimal(balance),
            )
        return state

    def test_a_window_holds_its_days_and_the_last_one_included(self) -> None:
        rows = window(self._state(), DAY, 4)
        assert sorted(r.money_in for r in rows) == [Decimal(1), Decimal(4)]

    def test_balance_on_a_quiet_day_is_the_last_known_closing_balance(self) -> None:
        state = self._state()
        assert balance_on(state, DAY - timedelta(days=1)) == Decimal(200)
        assert balance_on(state, DAY - timedelta(days=20)) is None

    def test_forgetting_old_days_keeps_the_last_closing_balance_before(self) -> None:
        state = self._state()
        state.days[DAY - timedelta(days=12)] = DayFigures(closing_balance=Decimal(50))
        forget_days_before(state, DAY - timedelta(days=2))
        # Days 3, 10 and 12 are old; day 3 is the last with a balance and stays.
        assert sorted(state.days) == [DAY - timedelta(days=3), DAY]

    def test_the_deposit_balance_counts_open_deposit_products_only(self) -> None:
        state = CustomerState(
            "c1",
            holdings={
                "A": Holding("current", Decimal(100)),
                "B": Holding("term_deposit", Decimal(1000)),
                "C": Holding("loan", Decimal(5000)),
                "D": Holding("wealth", Decimal(70), open=False),
            },
        )
        assert deposit_balance(state) == Decimal(1100)
