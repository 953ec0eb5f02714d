"""Rule evaluation, without a database: whether a rule fires on a customer's state at a
moment, the facts it fires on, and what makes two firings the same."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.events.evaluation import Moment, evaluate
from services.events.rules import RuleDefinition
from services.events.state import Applied, CustomerState, DayFigures, Holding

DAY = date(2026, 3, 10)
AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def _rule(
    *conditions: dict[str, Any], events: tuple[str, ...] = ("transaction.posted",)
) -> RuleDefinition:
    return RuleDefinition.model_validate(
        {
            "name": "a rule",
            "trigger": {"events": list(events), "schedule": not events},
            "conditions": list(conditions),
            "action": {"kind": "cross_sell"},
        }
    )


def _event(fields: dict[str, Any], applied: Applied | None = None) -> Moment:
    return Moment(
        at=AT,
        day=DAY,
        event_name="transaction.posted",
        fields=fields,
        event_id="evt-1",
        applied=applied or Applied(),
    )


def _tick(day: date = DAY) -> Moment:
    return Moment(at=datetime.combine(day, datetime.min.time(), UTC), day=day)


class TestEventField:
    rule = _rule({"kind": "event_field", "field": "amount", "op": ">=", "value": 50000})

    def test_fires_when_the_field_compares_and_names_it_in_the_facts(self) -> None:
        [match] = evaluate(
            "big", self.rule, CustomerState("c1"), _event({"amount": Decimal("50000.00")})
        )
        assert match.facts == {"amount": "50000.00"}

    def test_does_not_fire_when_the_field_does_not_compare(self) -> None:
        assert (
            evaluate("big", self.rule, CustomerState("c1"), _event({"amount": Decimal("49999.99")}))
            == []
        )

    def test_does_not_fire_when_the_event_lacks_the_field(self) -> None:
        assert evaluate("big", self.rule, CustomerState("c1"), _event({})) == []

    def test_in_compares_as_text(self) -> None:
        rule = _rule(
            {"kind": "event_field", "field": "kind", "op": "in", "value": ["salary", "pension"]}
        )
        assert evaluate("r", rule, CustomerState("c1"), _event({"kind": "salary"}))
        assert evaluate("r", rule, CustomerState("c1"), _event({"kind": "card"})) == []


class TestDedupeKey:
    def test_an_event_rule_s_firing_is_keyed_by_rule_customer_and_event(self) -> None:
        rule = _rule({"kind": "segment", "tiers": ["premium"]})
        state = CustomerState("c1", value_tier="premium")
        [match] = evaluate("r", rule, state, _event({}))
        assert match.dedupe_key == "r:c1:evt-1"

    def test_every_condition_must_hold(self) -> None:
        rule = _rule(
            {"kind": "segment", "tiers": ["premium"]},
            {"kind": "event_field", "field": "amount", "op": ">", "value": 10},
        )
        state = CustomerState("c1", value_tier="ordinary")
        assert evaluate("r", rule, state, _event({"amount": Decimal(100)})) == []


class TestQuadrant:
    rule = _rule({"kind": "quadrant", "quadrants": ["satisfied_drifting"]})

    def test_fires_for_a_customer_in_one_of_the_quadrants_and_names_it(self) -> None:
        state = CustomerState("c1", quadrant="satisfied_drifting")
        [match] = evaluate("r", self.rule, state, _event({}))
        assert match.facts == {"quadrant": "satisfied_drifting"}

    def test_does_not_fire_in_another_quadrant_or_none(self) -> None:
        for quadrant in ("satisfied_loyal", "unplaced", None):
            state = CustomerState("c1", quadrant=quadrant)
            assert evaluate("r", self.rule, state, _event({})) == []


class TestAttritionRisk:
    rule = _rule({"kind": "attrition_risk", "bands": ["high"]})

    def test_fires_for_a_customer_in_one_of_the_bands_and_names_it(self) -> None:
        state = CustomerState("c1", attrition_risk="high")
        [match] = evaluate("r", self.rule, state, _event({}))
        assert match.facts == {"attrition_risk": "high"}

    def test_does_not_fire_in_another_band_or_before_any(self) -> None:
        for band in ("medium", "low", None):
            state = CustomerState("c1", attrition_risk=band)
            assert evaluate("r", self.rule, state, _event({})) == []


class TestWindow:
    def test_sums_the_window_s_days_and_reports_the_figure(self) -> None:
        state = CustomerState("c1")
        state.days[DAY] = DayFigures(money_in=Decimal(600))
        state.days[DAY - timedelta(days=6)] = DayFigures(money_in=Decimal(500))
        state.days[DAY - timedelta(days=7)] = DayFigures(money_in=Decimal(10_000))  # outside
        rule = _rule(
            {"kind": "window", "measure": "sum", "flow": "in", "days": 7, "op": ">=", "value": 1000}
        )
        [match] = evaluate("r", rule, state, _event({}))
        assert match.facts == {"in_sum_7d": "1100"}

    def test_does_not_fire_below_the_threshold(self) -> None:
        state = CustomerState("c1")
        state.days[DAY] = DayFigures(money_in=Decimal(999))
        rule = _rule(
            {"kind": "window", "measure": "sum", "flow": "in", "days": 7, "op": ">=", "value": 1000}
        )
        assert evaluate("r", rule, state, _event({})) == []


class TestRelativeToHistory:
    rule = _rule({"kind": "relative_to_history", "days": 30, "factor": 5, "min_history": 2})

    def _state(self, *earlier: int, now: int) -> CustomerState:
        # The window already holds the arriving event (the state is judged after it).
        state = CustomerState("c1")
        state.days[DAY] = DayFigures(money_in=Decimal(now), count_in=1)
        for n, amount in enumerate(earlier, start=1):
            state.days[DAY - timedelta(days=n)] = DayFigures(money_in=Decimal(amount), count_in=1)
        return state

    def test_fires_on_an_amount_factor_times_the_customer_s_own_average(self) -> None:
        state = self._state(100, 300, now=1000)
        fields = {"direction": "credit", "amount": Decimal(1000)}
        [match] = evaluate("r", self.rule, state, _event(fields))
        assert match.facts["average_in_30d"] == "200.00"
        assert match.facts["times_the_average"] == "5.0"

    def test_does_not_fire_below_the_factor(self) -> None:
        state = self._state(100, 300, now=999)
        fields = {"direction": "credit", "amount": Decimal(999)}
        assert evaluate("r", self.rule, state, _event(fields)) == []

    def test_does_not_fire_without_enough_history(self) -> None:
        state = self._state(100, now=5000)
        fields = {"direction": "credit", "amount": Decimal(5000)}
        assert evaluate("r", self.rule, state, _event(fields)) == []


class TestBalanceChange:
    rule = _rule({"kind": "balance_change", "days": 30, "op": "<=", "percent": -30})

    def test_fires_on_a_fall_and_shows_the_change_to_one_decimal(self) -> None:
        state = CustomerState("c1", holdings={"A": Holding("current", Decimal(600))})
        state.days[DAY - timedelta(days=45)] = DayFigures(closing_balance=Decimal(900))
        [match] = evaluate("r", self.rule, state, _event({}))
        assert match.facts == {
            "balance_30d_ago": "900",
            "balance_now": "600",
            "balance_change_percent": "-33.3",
        }

    def test_no_known_balance_then_is_no_firing(self) -> None:
        state = CustomerState("c1", holdings={"A": Holding("current", Decimal(0))})
        assert evaluate("r", self.rule, state, _event({})) == []


class TestDaysSinceActivity:
    def test_an_event_compares_with_the_activity_before_it(self) -> None:
        rule = _rule({"kind": "days_since_activity", "op": ">=", "days": 90})
        state = CustomerState("c1", last_activity_at=AT)  # this very event
        applied = Applied(previous_activity_at=AT - timedelta(days=100))
        [match] = evaluate("r", rule, state, _event({}, applied))
        assert match.facts["days_since_activity"] == 100

    def test_a_scheduled_dormancy_is_keyed_by_the_idle_spell(self) -> None:
        rule = _rule({"kind": "days_since_activity", "op": ">=", "days": 90}, events=())
        last = datetime(2025, 11, 1, 12, tzinfo=UTC)
        state = CustomerState("c1", last_activity_at=last)
        [match] = evaluate("r", rule, state, _tick())
        assert match.dedupe_key == "r:c1:idle-since-2025-11-01"


class TestNewRecurringCredit:
    rule = _rule({"kind": "new_recurring_credit"})

    def test_fires_when_the_event_made_a_credit_recurring(self) -> None:
        applied = Applied(recurring_source="salary:ICBC", became_recurring=True)
        [match] = evaluate("r", self.rule, CustomerState("c1"), _event({}, applied))
        assert match.facts == {"recurring_source": "salary:ICBC"}

    def test_does_not_fire_otherwise(self) -> None:
        applied = Applied(recurring_source="salary:ICBC", became_recurring=False)
        assert evaluate("r", self.rule, CustomerState("c1"), _event({}, applied)) == []


class TestContactsWithin:
    def test_counts_the_contacts_of_the_window(self) -> None:
        rule = _rule({"kind": "contacts_within", "days": 30, "op": ">=", "count": 3})
        state = CustomerState("c1")
        state.days[DAY] = DayFigures(contacts=2)
        state.days[DAY - timedelta(days=10)] = DayFigures(contacts=1)
        [match] = evaluate("r", rule, state, _event({}))
        assert match.facts == {"contacts_30d": 3}
        state.days[DAY] = DayFigures(contacts=1)
        assert evaluate("r", rule, state, _event({})) == []


class TestBirthdayWithin:
    rule = _rule({"kind": "birthday_within", "days": 7}, events=())

    def test_fires_within_the_days_and_is_keyed_by_the_year(self) -> None:
        state = CustomerState("c1", birth_month_day="03-15")
        [match] = evaluate("r", self.rule, state, _tick())
        assert match.facts == {"birthday": "2026-03-15", "days_to_birthday": 5}
        assert match.dedupe_key == "r:c1:birthday-2026"

    def test_a_birthday_passed_this_year_is_next_year_s(self) -> None:
        state = CustomerState("c1", birth_month_day="03-01")
        assert evaluate("r", self.rule, state, _tick()) == []
        [match] = evaluate("r", self.rule, state, _tick(date(2027, 2, 25)))
        assert match.dedupe_key == "r:c1:birthday-2027"

    def test_29_february_is_kept_the_day_before_outside_a_leap_year(self) -> None:
        state = CustomerState("c1", birth_month_day="02-29")
        [match] = evaluate("r", self.rule, state, _tick(date(2027, 2, 25)))
        assert match.facts["birthday"] == "2027-02-28"


class TestMaturityWithin:
    rule = _rule({"kind": "maturity_within", "days": 30}, events=())

    def test_one_match_per_maturing_deposit(self) -> None:
        state = CustomerState(
            "c1",
            holdings={
                "6222000000001111": Holding("term_deposit", Decimal(5000), date(2026, 3, 20)),
                "6222000000002222": Holding("term_deposit", Decimal(8000), date(2026, 4, 1)),
                "6222000000003333": Holding("term_deposit", Decimal(1), date(2026, 6, 1)),
                "6222000000004444": Holding("term_deposit", Decimal(1), date(2026, 3, 20), False),
            },
        )
        matches = evaluate("r", self.rule, state, _tick())
        assert [m.facts["account_last_four"] for m in matches] == ["1111", "2222"]
        assert matches[0].dedupe_key == "r:c1::6222000000001111-2026-03-20"
        assert matches[1].facts["balance"] == "8000"
