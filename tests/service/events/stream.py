"""A generated stream of a few hundred customers' events, in the order the detector's topics
deliver them: each customer's events in their own order, the customers interleaved, and times
that sometimes run behind that order, as a core system's whole-second booking times and its
late postings do.

Each customer's story is drawn step by step from what they hold so far (a balance to draw on,
complaints to close, a tier to move from), so that the built-in rules on transactions,
complaints and tier changes all fire, and consent, open complaints, cool-downs, the fatigue
cap and the control group all have something to hold back."""

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.base import DomainEvent
from tests.service.events.conftest import (
    NOW,
    complaint,
    complaint_closed,
    consent_changed,
    contact,
    debit,
    posted,
    registered,
    tier_changed,
)

# Tiers in the order a customer climbs them.
TIERS = ("restricted", "ordinary", "potential", "key", "premium")
# The customers register from this long before now, over the first ten days of it.
SPAN = timedelta(days=80)
REGISTRATIONS = timedelta(days=10)


@dataclass(frozen=True)
class Arrival:
    customer_id: uuid.UUID
    event: DomainEvent
    # The envelope's time: when an event without a time of its own (a registration, a change
    # of consent) happened.
    time: datetime


@dataclass
class _Customer:
    """A customer's story as it is being drawn: what the next event may follow on."""

    customer_id: uuid.UUID
    draw: random.Random
    at: datetime
    tier: str
    consent: bool
    balance: int = 0
    payer: str | None = None
    next_salary: datetime | None = None
    complaints: list[uuid.UUID] = field(default_factory=list)
    calls_to_come: int = 0  # a customer who calls back about the same problem
    arrivals: list[Arrival] = field(default_factory=list)

    def booked(self) -> datetime:
        """The time a core system gives the next event: usually the story's clock, now and
        then a few whole seconds behind the event before, rarely a late posting hours behind
        (across a business day, sometimes)."""
        roll = self.draw.random()
        if roll < 0.12:
            return self.at - timedelta(seconds=self.draw.randint(1, 59))
        if roll < 0.15:
            return self.at - timedelta(hours=self.draw.randint(1, 30))
        return self.at

    def add(self, event: DomainEvent) -> None:
        self.arrivals.append(Arrival(self.customer_id, event, self.at))


def _deposit(c: _Customer) -> DomainEvent:
    amount = c.draw.choice([2_000, 5_000, 8_000, 15_000])
    c.balance += amount
    return posted(c.customer_id, amount, balance_after=c.balance, at=c.booked())


def _large_deposit(c: _Customer) -> DomainEvent:
    amount = c.draw.choice([60_000, 120_000, 400_000])
    c.balance += amount
    kind = c.draw.choice(["deposit", "transfer_in"])
    return posted(c.customer_id, amount, kind=kind, balance_after=c.balance, at=c.booked())


def _withdrawal(c: _Customer) -> DomainEvent:
    amount = c.draw.choice([3_000, 30_000, 110_000, 250_000])
    c.balance = max(c.balance - amount, 0)
    return debit(c.customer_id, amount, balance_after=c.balance, at=c.booked())


def _transfer_out(c: _Customer) -> DomainEvent:
    amount = c.draw.choice([20_000, 60_000, 150_000])
    c.balance = max(c.balance - amount, 0)
    bank = c.draw.choice([None, "ICBC", "CMB"])
    return debit(
        c.customer_id,
        amount,
        kind="transfer_out",
        counterparty_bank=bank,
        balance_after=c.balance,
        at=c.booked(),
    )


def _consent(c: _Customer) -> DomainEvent:
    c.consent = not c.consent
    return consent_changed(c.customer_id, {"phone": c.consent})


def _complaint(c: _Customer) -> DomainEvent:
    complaint_id = uuid.uuid4()
    c.complaints.append(complaint_id)
    return complaint(c.customer_id, at=c.booked(), complaint_id=complaint_id)


def _complaint_closed(c: _Customer) -> DomainEvent:
    if not c.complaints:
        return _complaint(c)
    return complaint_closed(c.customer_id, c.complaints.pop(0), at=c.booked())


def _tier(c: _Customer) -> DomainEvent:
    place = TIERS.index(c.tier)
    # Mostly downgrades: those are what a rule watches for.
    down = place == len(TIERS) - 1 or (place > 0 and c.draw.random() < 0.6)
    previous, c.tier = c.tier, TIERS[place - 1 if down else place + 1]
    direction = "downgrade" if down else "upgrade"
    return tier_changed(c.customer_id, previous, c.tier, direction, at=c.booked())


def _contact(c: _Customer) -> DomainEvent:
    if c.calls_to_come:
        c.calls_to_come -= 1
    elif c.draw.random() < 0.3:
        c.calls_to_come = 2
    return contact(c.customer_id, c.booked())


def _salary(c: _Customer) -> DomainEvent:
    c.balance += 9_000
    return posted(
        c.customer_id,
        9_000,
        kind="salary",
        counterparty_bank=c.payer,
        balance_after=c.balance,
        at=c.booked(),
    )


# What a customer's next event is, by weight.
_STEPS: dict[Callable[[_Customer], DomainEvent], int] = {
    _deposit: 30,
    _large_deposit: 8,
    _withdrawal: 14,
    _transfer_out: 10,
    _consent: 6,
    _complaint: 5,
    _complaint_closed: 6,
    _tier: 6,
    _contact: 10,
}


def _story(draw: random.Random, start: datetime, now: datetime) -> list[Arrival]:
    c = _Customer(
        uuid.uuid4(),
        draw,
        at=start,
        tier=draw.choice(["ordinary", "ordinary", "potential", "key", "premium"]),
        consent=draw.random() < 0.7,
    )
    c.add(registered(c.customer_id, tier=c.tier, consent={"phone": c.consent}))
    c.balance = draw.choice([20_000, 100_000, 300_000, 800_000])
    c.add(posted(c.customer_id, c.balance, balance_after=c.balance, at=c.at))
    if draw.random() < 0.3:
        c.payer, c.next_salary = draw.choice(["ICBC", "BOC"]), start + timedelta(days=2)
    steps, weights = list(_STEPS), list(_STEPS.values())
    while True:
        # Bursts of a few events within hours, and quiet spells of days to weeks between.
        burst = c.calls_to_come or draw.random() < 0.4
        c.at += timedelta(hours=draw.uniform(0.5, 12) if burst else draw.uniform(72, 336))
        if c.at > now:
            return c.arrivals
        if c.calls_to_come:
            c.add(_contact(c))
            continue
        if c.next_salary is not None and c.at >= c.next_salary:
            c.add(_salary(c))
            c.next_salary += timedelta(days=draw.uniform(28, 33))
            continue
        (step,) = draw.choices(steps, weights)
        c.add(step(c))


def generated_stream(draw: random.Random, customers: int, *, now: datetime = NOW) -> list[Arrival]:
    """Every customer's story up to ``now``, interleaved at random as their partitions
    deliver them; each customer's own events stay in their order."""
    stories = [
        _story(draw, now - SPAN + draw.uniform(0, 1) * REGISTRATIONS, now) for _ in range(customers)
    ]
    # One slot per event, shuffled: a customer's slots take their events in order.
    slots = [n for n, story in enumerate(stories) for _ in story]
    draw.shuffle(slots)
    cursors = [iter(story) for story in stories]
    return [next(cursors[n]) for n in slots]
