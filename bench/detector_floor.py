"""The detector's database floor (issue #29): what its durable design costs in PostgreSQL alone.

Each poll's statements as the consumer sends them, in one transaction: the inbox claim, the
customers' locks and the state read (their stored versions; the states themselves are kept
in memory, as in the detector's steady work), the one statement writing the states, the
history and the firings, and the commit. The events are decoded, folded into the states and
turned into rows before the clock starts, so the rate is the database's and the driver's
only: the detector's own rate against it says how near it comes to its design's cost.
Opening an opportunity (an INSERT and its outbox row, for 2% of the events here) is not in
the floor: the issue's list of a poll's statements does not name it."""

import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from contracts.customer import TransactionPosted
from services.events import service
from services.events.config import Settings
from services.events.repository.states import (
    Changes,
    load_states,
    lock_customers,
    run_writes,
)
from services.events.state import MAX_WINDOW_DAYS, CustomerState, apply_event
from services.events.state_cache import StateCache
from shared.bulk import RowsWrite, write_all
from shared.db import create_engine, create_sessionmaker
from shared.envelope import EventEnvelope
from shared.inbox import claim_many

GROUP = "crm-bench-floor"


@dataclass(frozen=True)
class _Poll:
    claims: list[tuple[str, str]]
    customers: list[uuid.UUID]
    states: dict[uuid.UUID, CustomerState]
    since: date
    version: int
    writes: list[RowsWrite]


@dataclass
class Floor:
    """The floor's rate, and where a poll's time went, in milliseconds a poll."""

    events: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def _polls(settings: Settings, events: Sequence[TransactionPosted], batch: int) -> list[_Poll]:
    """The polls' statements' parameters, made before the clock starts: each poll's events
    folded into their customers' states as the detector folds them, and the rows it writes."""
    states: dict[uuid.UUID, CustomerState] = {}
    polls = []
    for start in range(0, len(events), batch):
        items = [
            (
                event,
                EventEnvelope(
                    id=str(uuid.uuid4()),
                    source="/crm/customer",
                    type=event.event_type,
                    subject=event.subject,
                    time=datetime.now(UTC),
                    position=(event.topic, 0, start + n),
                ),
            )
            for n, event in enumerate(events[start : start + batch])
        ]
        arrivals = service.arrivals_of(items, settings)
        changes = Changes()
        firings = []
        for arrival in arrivals:
            customer = arrival.customer_id
            state = states.setdefault(customer, CustomerState(str(customer)))
            applied = apply_event(
                state, arrival.name, arrival.fields, at=arrival.at, day=arrival.day
            )
            changes.note(customer, applied)
            if arrival.fields["direction"] == "debit":
                # What the large withdrawal's rule records for a match in its cool-down.
                firings.append(
                    {
                        "rule_id": "large_withdrawal",
                        "rule_version": 1,
                        "mode": "active",
                        "customer_id": customer,
                        "dedupe_key": f"large_withdrawal:{customer}:{arrival.envelope.id}",
                        "decision": "suppressed:cooldown",
                        "opportunity_id": None,
                        "fired_at": arrival.at,
                    }
                )
        customers = list({a.customer_id for a in arrivals})
        version = secrets.randbits(63)
        observed = [service.observed_row(a.event, a.envelope, a.at) for a in arrivals]
        polls.append(
            _Poll(
                claims=[(a.envelope.id, a.envelope.type) for a in arrivals],
                customers=customers,
                states={c: states[c] for c in customers},
                since=min(a.day for a in arrivals) - timedelta(days=MAX_WINDOW_DAYS),
                version=version,
                writes=run_writes(
                    states, changes, version=version, observed=observed, firings=firings
                ),
            )
        )
    return polls


async def database_floor(
    settings: Settings, events: Sequence[TransactionPosted], batch: int
) -> Floor:
    """Drive the polls' statements one poll after another, as one consumer would."""
    polls = _polls(settings, events, batch)
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    cache = StateCache(settings.state_cache_customers)
    spent = dict.fromkeys(("claim", "lock and state read", "writes", "commit"), 0.0)
    try:
        started = time.perf_counter()
        for poll in polls:
            async with sessions() as session:
                transaction = await session.begin()
                t0 = time.perf_counter()
                await claim_many(session, group=GROUP, events=poll.claims)
                t1 = time.perf_counter()
                await lock_customers(session, poll.customers)
                await load_states(session, poll.customers, since=poll.since, cache=cache)
                t2 = time.perf_counter()
                await write_all(session, poll.writes)
                t3 = time.perf_counter()
                await transaction.commit()
                cache.keep(poll.states, poll.version, poll.since)
                t4 = time.perf_counter()
            for phase, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                spent[phase] += seconds
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    phases = {phase: 1000 * seconds / len(polls) for phase, seconds in spent.items()}
    return Floor(len(events), elapsed, phases)
