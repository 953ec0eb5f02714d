"""What the detector knows of one customer, and how each event changes it.

Pure data and pure functions: the live consumer loads a customer's state from its tables,
applies the event and saves it; a backtest keeps the same state in memory and replays the
stored history through the very same code, so both decide alike.

Money flows are kept per day (sum, count and largest movement in and out, contacts, the
closing balance), which makes every sliding window a sum over at most a year of small rows."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

DEPOSIT_PRODUCTS = frozenset({"current", "term_deposit", "wealth"})
RECURRING_KINDS = frozenset({"salary", "transfer_in"})
MAX_WINDOW_DAYS = 366
# Where a contact is a conversation with someone of the bank (a call in or out, a callback, a
# visit to the branch or the manager), which the contact-fatigue cap counts beside the offers;
# a session on the web or at an ATM is the customer's own errand. A call the bank makes about
# an opportunity is that opportunity's offer, counted once as such.
CONVERSATION_CHANNELS = frozenset({"phone", "branch"})
OFFER_CALL_PREFIX = "outbound_call:"
# The status of a customer erased on their request: no rule reaches them any more.
ERASED = "erased"


@dataclass(slots=True)
class DayFigures:
    money_in: Decimal = Decimal(0)
    money_out: Decimal = Decimal(0)
    count_in: int = 0
    count_out: int = 0
    max_in: Decimal = Decimal(0)
    max_out: Decimal = Decimal(0)
    contacts: int = 0
    closing_balance: Decimal | None = None
    conversations: int = 0  # the contacts with a person (see CONVERSATION_CHANNELS)


@dataclass
class Holding:
    product_type: str
    balance: Decimal = Decimal(0)
    maturity_date: date | None = None
    open: bool = True


@dataclass
class RecurringCredit:
    last_month: date  # the first day of the last month it arrived in
    streak: int  # consecutive months


@dataclass
class CustomerState:
    customer_id: str
    value_tier: str | None = None
    # The satisfaction/loyalty quadrant as the customer service placed it ("unplaced" once
    # out of every quadrant).
    quadrant: str | None = None
    # The attrition risk band as the customer service last read it (learned, not derived here).
    attrition_risk: str | None = None
    # The loyalty and lifecycle stage the customer service places (what the next best
    # action's models learn by, beside the tier).
    loyalty: str | None = None
    lifecycle_stage: str | None = None
    manager_id: str | None = None
    consent: dict[str, bool] = field(default_factory=dict)
    preferred_channel: str | None = None
    birth_month_day: str | None = None
    status: str = "active"
    last_activity_at: datetime | None = None
    open_complaints: int = 0
    days: dict[date, DayFigures] = field(default_factory=dict)
    holdings: dict[str, Holding] = field(default_factory=dict)
    recurring: dict[str, RecurringCredit] = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What one event changed, for the live store to save, and what the evaluation needs to
    know about the moment before it (the history a rule compares against)."""

    day: date | None = None
    account: str | None = None
    recurring_source: str | None = None
    previous_activity_at: datetime | None = None
    became_recurring: bool = False
    earlier_days: tuple[date, ...] = ()  # days before the event's that it changed too


def deposit_balance(state: CustomerState) -> Decimal:
    return sum(
        (
            h.balance
            for h in state.holdings.values()
            if h.open and h.product_type in DEPOSIT_PRODUCTS
        ),
        Decimal(0),
    )


def _month(day: date) -> date:
    return day.replace(day=1)


def _previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def _day(state: CustomerState, day: date) -> DayFigures:
    """The day's row, added when missing (not made on every event to be thrown away, as
    ``setdefault`` would: that was a measurable part of folding a run)."""
    figures = state.days.get(day)
    if figures is None:
        figures = state.days[day] = DayFigures()
    return figures


def _holding(state: CustomerState, account: str, product_type: str) -> Holding:
    holding = state.holdings.get(account)
    if holding is None:
        holding = state.holdings[account] = Holding(product_type)
    return holding


def _transaction_posted(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    figures = _day(state, day)
    amount = Decimal(fields["amount"])
    if fields["direction"] == "credit":
        figures.money_in += amount
        figures.count_in += 1
        figures.max_in = max(figures.max_in, amount)
    else:
        figures.money_out += amount
        figures.count_out += 1
        figures.max_out = max(figures.max_out, amount)
    account = fields["account_number"]
    holding = _holding(state, account, fields["product_type"])
    holding.balance = Decimal(fields["balance_after"])
    figures.closing_balance = deposit_balance(state)
    _touch(state, at)
    source, became = _note_recurring(state, fields, day)
    return Applied(day, account, source, became_recurring=became)


def _transaction_reversed(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    """Core banking reversed a posting (冲正): the figures become what they would have been
    without it, so that no window sees money that never moved. Its day's flows lose it; the
    closing balance of that day and of every later one moves back by its effect. A day's
    largest movement cannot be known without it, so it stays an upper bound (exact when the
    day keeps one movement or none). A reversal without the posting's time (published before
    ``reversed_booked_at`` was sent) moves the balance only."""
    amount = Decimal(fields["amount"])
    credit = fields["direction"] == "credit"
    account = fields["account_number"]
    holding = _holding(state, account, fields["product_type"])
    holding.balance = Decimal(fields["balance_after"])
    # The posting's business day, which the consumer adds from its time (see
    # ``services.events.service.folded_fields``): the bank's time zone is not the state's to know.
    reversed_day: date | None = fields.get("reversed_day")
    changed: set[date] = set()
    if reversed_day is not None:
        posted_figures = state.days.get(reversed_day)
        if posted_figures is not None:
            _take_out(posted_figures, amount, credit=credit)
            changed.add(reversed_day)
        if holding.product_type in DEPOSIT_PRODUCTS:
            effect = -amount if credit else amount
            for known, figures in state.days.items():
                if known >= reversed_day and figures.closing_balance is not None:
                    figures.closing_balance += effect
                    changed.add(known)
    # The day of the reversal closes on what the accounts hold now, whatever came before.
    _day(state, day).closing_balance = deposit_balance(state)
    changed.discard(day)
    return Applied(day, account, earlier_days=tuple(sorted(changed)))


def _take_out(figures: DayFigures, amount: Decimal, *, credit: bool) -> None:
    if credit:
        figures.money_in -= amount
        figures.count_in = max(figures.count_in - 1, 0)
        figures.max_in = min(figures.max_in, figures.money_in) if figures.count_in else Decimal(0)
    else:
        figures.money_out -= amount
        figures.count_out = max(figures.count_out - 1, 0)
        figures.max_out = (
            min(figures.max_out, figures.money_out) if figures.count_out else Decimal(0)
        )


def _account_opened(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    state.holdings[fields["account_number"]] = Holding(
        fields["product_type"],
        maturity_date=_date(fields.get("maturity_date")),
    )
    return Applied(account=fields["account_number"])


def _account_closed(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    holding = _holding(state, fields["account_number"], fields["product_type"])
    holding.open = False
    holding.balance = Decimal(0)
    figures = _day(state, day)
    figures.closing_balance = deposit_balance(state)
    return Applied(day, fields["account_number"])


def _interaction_recorded(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    figures = _day(state, day)
    figures.contacts += 1
    if fields["channel"] in CONVERSATION_CHANNELS and not fields["kind"].startswith(
        OFFER_CALL_PREFIX
    ):
        figures.conversations += 1
    _touch(state, at)
    return Applied(day)


def _customer_registered(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    state.value_tier = fields["value_tier"]
    state.consent = dict(fields["consent"])
    state.preferred_channel = fields["preferred_channel"]
    state.birth_month_day = fields["birth_month_day"]
    return Applied()


def _customer_updated(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    state.status = fields["status"]
    state.consent = dict(fields["consent"])
    state.preferred_channel = fields["preferred_channel"]
    return Applied()


def _customer_erased(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    # What said who they are or how to reach them goes; the tier and the day figures
    # identify nobody and stay.
    state.status = ERASED
    state.consent = {}
    state.preferred_channel = None
    state.birth_month_day = None
    return Applied()


def _segment_changed(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    dimension = fields["dimension"]
    if dimension == "value_tier":
        state.value_tier = fields["current"]
    elif dimension == "quadrant":
        state.quadrant = fields["current"]
    elif dimension == "attrition_risk":
        state.attrition_risk = fields["current"]
    elif dimension == "loyalty":
        state.loyalty = fields["current"]
    elif dimension == "lifecycle_stage":
        state.lifecycle_stage = fields["current"]
    return Applied()


def _manager_assigned(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    state.manager_id = str(fields["manager_id"])
    return Applied()


def _complaint_received(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    state.open_complaints += 1
    return Applied()


def _complaint_closed(
    state: CustomerState, fields: dict[str, Any], at: datetime, day: date
) -> Applied:
    state.open_complaints = max(state.open_complaints - 1, 0)
    return Applied()


# How each event changes the state; an event not listed changes nothing.
EventApplier = Callable[[CustomerState, dict[str, Any], datetime, date], Applied]
APPLIERS: dict[str, EventApplier] = {
    "transaction.posted": _transaction_posted,
    "transaction.reversed": _transaction_reversed,
    "account.opened": _account_opened,
    "account.closed": _account_closed,
    "interaction.recorded": _interaction_recorded,
    "customer.registered": _customer_registered,
    "customer.updated": _customer_updated,
    "customer.erased": _customer_erased,
    "customer.segment_changed": _segment_changed,
    "customer.manager_assigned": _manager_assigned,
    "complaint.received": _complaint_received,
    "complaint.closed": _complaint_closed,
}


def apply_event(
    state: CustomerState, event_name: str, fields: dict[str, Any], *, at: datetime, day: date
) -> Applied:
    """Fold one event into the state; ``day`` is its business day in the bank's time zone."""
    previous_activity = state.last_activity_at
    applier = APPLIERS.get(event_name)
    applied = Applied() if applier is None else applier(state, fields, at, day)
    return replace(applied, previous_activity_at=previous_activity)


def _touch(state: CustomerState, at: datetime) -> None:
    if state.last_activity_at is None or at > state.last_activity_at:
        state.last_activity_at = at


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _note_recurring(
    state: CustomerState, fields: dict[str, Any], day: date
) -> tuple[str | None, bool]:
    """A credit of the same kind from the same payer in consecutive months is recurring (a
    salary, a pension, rent received); the second month in a row is when it becomes new."""
    if fields["direction"] != "credit" or fields["kind"] not in RECURRING_KINDS:
        return None, False
    source = f"{fields['kind']}:{fields.get('counterparty_bank') or 'own'}"
    month = _month(day)
    known = state.recurring.get(source)
    if known is None:
        state.recurring[source] = RecurringCredit(month, 1)
        return source, False
    if known.last_month == month:
        return source, False
    known.streak = known.streak + 1 if known.last_month == _previous_month(month) else 1
    known.last_month = month
    return source, known.streak == 2


def window(state: CustomerState, until: date, days: int) -> list[DayFigures]:
    """The day rows of the ``days`` days ending with ``until``, that day included."""
    start = until - timedelta(days=days - 1)
    return [figures for day, figures in state.days.items() if start <= day <= until]


def balance_on(state: CustomerState, day: date) -> Decimal | None:
    """The closing deposit balance of the latest known day on or before ``day``."""
    known = [d for d, f in state.days.items() if d <= day and f.closing_balance is not None]
    if not known:
        return None
    return state.days[max(known)].closing_balance


def forget_days_before(state: CustomerState, since: date) -> None:
    """Drop the days before ``since`` but the last one with a closing balance: no window
    reaches them, and that balance is what "N days ago" compares with on a quiet account."""
    old = [d for d in state.days if d < since]
    if len(old) < 2:
        return
    baseline = max((d for d in old if state.days[d].closing_balance is not None), default=None)
    for day in old:
        if day != baseline:
            del state.days[day]
