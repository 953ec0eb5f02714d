"""Does a rule fire for this customer now, and on what facts?

Pure: the state, the event (or the clock tick) and the rule in; the facts out. Every
condition that holds adds the figures it looked at, so a customer manager can read why."""

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.events.rules import (
    BalanceChange,
    BirthdayWithin,
    Condition,
    ContactsWithin,
    DaysSinceActivity,
    EventField,
    InAttritionRisk,
    InQuadrant,
    MaturityWithin,
    NewRecurringCredit,
    RelativeToHistory,
    RuleDefinition,
    Segment,
    Window,
)
from services.events.state import Applied, CustomerState, balance_on, deposit_balance, window

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}


@dataclass(frozen=True)
class Moment:
    """What the rule is evaluated against: an arriving event, or a tick of the scheduler."""

    at: datetime
    day: date  # the bank's business day of ``at``
    event_name: str | None = None
    fields: dict[str, Any] | None = None
    event_id: str | None = None
    applied: Applied = field(default_factory=Applied)


@dataclass(frozen=True)
class Match:
    facts: dict[str, Any]
    # What makes this firing the same as an earlier one ("the same facts"): the event for an
    # event rule; the birthday's year, the account's maturity or the dormancy's start for a
    # scheduled one.
    dedupe_key: str


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def evaluate(
    rule_id: str, rule: RuleDefinition, state: CustomerState, moment: Moment
) -> list[Match]:
    facts: dict[str, Any] = {}
    keys: list[str] = [moment.event_id] if moment.event_id else []
    per_item: list[tuple[str, dict[str, Any]]] | None = None
    for condition in rule.conditions:
        result = _holds(condition, state, moment)
        if result is None:
            return []
        found, key, items = result
        facts.update(found)
        if key:
            keys.append(key)
        if items is not None:
            per_item = items
    base = f"{rule_id}:{state.customer_id}:" + ":".join(keys)
    if per_item is None:
        return [Match(facts, base)]
    return [Match({**facts, **item}, f"{base}:{suffix}") for suffix, item in per_item]


Outcome = tuple[dict[str, Any], str | None, list[tuple[str, dict[str, Any]]] | None] | None


def _holds(condition: Condition, state: CustomerState, moment: Moment) -> Outcome:
    match condition:
        case EventField(field=name, op=op, value=value):
            actual = (moment.fields or {}).get(name)
            if actual is None:
                return None
            actual, expected = _comparable(actual, value)
            return ({name: _text(actual)}, None, None) if _COMPARE[op](actual, expected) else None
        case Window(measure=measure, flow=flow, days=days, op=op, value=value):
            rows = window(state, moment.day, days)
            figure = _window_figure(rows, measure, flow)
            label = f"{flow}_{measure}_{days}d"
            return ({label: _text(figure)}, None, None) if _COMPARE[op](figure, value) else None
        case RelativeToHistory(days=days, factor=factor, min_history=min_history):
            return _relative(state, moment, days=days, factor=factor, min_history=min_history)
        case BalanceChange(days=days, op=op, percent=percent):
            then = balance_on(state, moment.day - timedelta(days=days))
            now = deposit_balance(state)
            if then is None or then <= 0:
                return None
            change = (now - then) / then * 100  # compared exact, shown to one decimal
            found = {
                f"balance_{days}d_ago": _text(then),
                "balance_now": _text(now),
                "balance_change_percent": _text(change.quantize(Decimal("0.1"))),
            }
            return (found, None, None) if _COMPARE[op](change, percent) else None
        case DaysSinceActivity(op=op, days=days):
            last = (
                moment.applied.previous_activity_at if moment.event_name else state.last_activity_at
            )
            if last is None:
                return None
            idle = (moment.at - last).days
            found = {"days_since_activity": idle, "last_activity_at": last.isoformat()}
            # A scheduled dormancy fires once per idle spell: the spell is its last activity.
            key = None if moment.event_name else f"idle-since-{last.date().isoformat()}"
            return (found, key, None) if _COMPARE[op](idle, days) else None
        case NewRecurringCredit():
            if not moment.applied.became_recurring:
                return None
            return {"recurring_source": moment.applied.recurring_source}, None, None
        case Segment(tiers=tiers):
            if state.value_tier not in tiers:
                return None
            return {"value_tier": state.value_tier}, None, None
        case InQuadrant(quadrants=quadrants):
            if state.quadrant not in quadrants:
                return None
            return {"quadrant": state.quadrant}, None, None
        case InAttritionRisk(bands=bands):
            if state.attrition_risk not in bands:
                return None
            return {"attrition_risk": state.attrition_risk}, None, None
        case ContactsWithin(days=days, op=op, count=count):
            contacts = sum(row.contacts for row in window(state, moment.day, days))
            found = {f"contacts_{days}d": contacts}
            return (found, None, None) if _COMPARE[op](contacts, count) else None
        case BirthdayWithin(days=days):
            return _birthday(state, moment.day, days)
        case MaturityWithin(days=days, product_type=product_type):
            return _maturities(state, moment.day, days, product_type)
    raise AssertionError(f"unhandled condition {condition!r}")


def event_screen(rule: RuleDefinition) -> Callable[[dict[str, Any]], bool]:
    """The rule's conditions on the event's own fields, as one test of the fields, with the
    values to compare against converted once: a match needs every condition to hold, and
    these depend on nothing else, so an event that fails them cannot match (what
    :func:`evaluate` answers too, only more slowly, converting the values on every event)."""
    checks = [_field_check(c) for c in rule.conditions if isinstance(c, EventField)]

    def screen(fields: dict[str, Any]) -> bool:
        return all(check(fields) for check in checks)

    return screen


def _field_check(condition: EventField) -> Callable[[dict[str, Any]], bool]:
    name, compare, value = condition.field, _COMPARE[condition.op], condition.value
    texts = [str(v) for v in value] if isinstance(value, list) else str(value)
    try:
        numbers: Any = (
            [Decimal(str(v)) for v in value] if isinstance(value, list) else Decimal(str(value))
        )
    except ArithmeticError:
        numbers = None  # not a number: compared as _comparable does, failing as it fails

    def check(fields: dict[str, Any]) -> bool:
        actual = fields.get(name)
        kind = type(actual)
        if kind is str:
            return bool(compare(actual, texts))
        if actual is None:
            return False
        if numbers is not None and (kind is Decimal or kind is int):
            # Compared exactly as their Decimal(str()) would be.
            return bool(compare(actual, numbers))
        return bool(compare(*_comparable(actual, value)))

    return check


def _comparable(actual: Any, value: Any) -> tuple[Any, Any]:
    """Both sides as the event field's kind: numbers as Decimal, flags as bool, the rest as
    text (UUIDs, enums). The rule was checked against the field's type when it was saved."""
    if isinstance(actual, bool):
        return actual, value
    if isinstance(actual, int | float | Decimal):
        convert: Callable[[Any], Any] = lambda v: Decimal(str(v))  # noqa: E731
    else:
        actual, convert = str(actual), str
    expected = [convert(v) for v in value] if isinstance(value, list) else convert(value)
    return (Decimal(str(actual)) if convert is not str else actual), expected


def _window_figure(rows: list[Any], measure: str, flow: str) -> Decimal:
    if measure == "sum":
        return sum((getattr(r, f"money_{flow}") for r in rows), Decimal(0))
    if measure == "count":
        return Decimal(sum(getattr(r, f"count_{flow}") for r in rows))
    return max((getattr(r, f"max_{flow}") for r in rows), default=Decimal(0))


def _relative(
    state: CustomerState, moment: Moment, *, days: int, factor: Decimal, min_history: int
) -> Outcome:
    fields = moment.fields or {}
    flow = "in" if fields.get("direction") == "credit" else "out"
    amount = Decimal(str(fields["amount"]))
    rows = window(state, moment.day, days)
    # The window already holds this event: the customer's history is the rest of it.
    count = sum(getattr(r, f"count_{flow}") for r in rows) - 1
    if count < min_history:
        return None
    average = (sum((getattr(r, f"money_{flow}") for r in rows), Decimal(0)) - amount) / count
    if average <= 0 or amount < factor * average:
        return None
    found = {
        "amount": _text(amount),
        f"average_{flow}_{days}d": _text(average.quantize(Decimal("0.01"))),
        "times_the_average": _text((amount / average).quantize(Decimal("0.1"))),
    }
    return found, None, None


def _birthday(state: CustomerState, today: date, days: int) -> Outcome:
    if not state.birth_month_day:
        return None
    month, day = (int(part) for part in state.birth_month_day.split("-"))
    for year in (today.year, today.year + 1):
        try:
            birthday = date(year, month, day)
        except ValueError:  # 29 February outside a leap year: the day before
            birthday = date(year, month, day - 1)
        if birthday >= today:
            break
    ahead = (birthday - today).days
    if ahead > days:
        return None
    return {"birthday": birthday.isoformat(), "days_to_birthday": ahead}, f"birthday-{year}", None


def _maturities(state: CustomerState, today: date, days: int, product_type: str) -> Outcome:
    last = today + timedelta(days=days)
    items = [
        (
            f"{account}-{h.maturity_date.isoformat()}",
            {
                "account_last_four": account[-4:],
                "maturity_date": h.maturity_date.isoformat(),
                "balance": _text(h.balance),
            },
        )
        for account, h in sorted(state.holdings.items())
        if h.open
        and h.product_type == product_type
        and h.maturity_date is not None
        and today <= h.maturity_date <= last
    ]
    return ({}, None, items) if items else None
