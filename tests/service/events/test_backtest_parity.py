"""A backtest over the live period reaches the live detector's decisions, one by one: it
replays each customer's history in the order the detector consumed it, not by the events' own
times, and holds a match back for the same reason the detector did."""

import os
import random
import uuid
from collections import Counter
from datetime import timedelta

from services.events.backtest import backtest
from services.events.detector import LiveRule
from tests.service.events.conftest import (
    BANK_TODAY,
    NOW,
    Detector,
    builtin,
    debit,
    known_customer,
    posted,
    registered,
)
from tests.service.events.stream import SPAN, generated_stream

# (customer, rule, the facts it fired on) → created, held_out or suppressed:<check>
Decisions = dict[tuple[uuid.UUID, str, str], str]

# The built-in rules the generated stream triggers, as shipped (control groups included), in
# the order the detector's rule book judges them.
STREAM_RULES = sorted(
    (
        "balance_drop",
        "large_deposit",
        "large_withdrawal",
        "premium_complaint",
        "repeated_contacts",
        "salary_credit",
        "segment_downgrade",
        "transfer_to_other_bank",
    )
)
# Fixed, so that a failure is found again (the customers' ids are new on every run, as the
# history is shared, so only who falls in a control group changes); another seed explores
# another stream.
SEED = int(os.environ.get("CRM_PARITY_SEED", "20261207"))
CUSTOMERS = 240
MAX_RUN = 40  # events the consumer takes in one poll, at most


async def _live(detector: Detector, rules: list[LiveRule], customers: list[uuid.UUID]) -> Decisions:
    """What these rules decided live on these customers, from the firings the detector kept."""
    ids = {live.rule_id for live in rules}
    return {
        (f.customer_id, f.rule_id, f.dedupe_key): f.decision
        for f in await detector.firings(customers)
        if f.rule_id in ids
    }


async def _backtested(
    detector: Detector, rules: list[LiveRule], customers: list[uuid.UUID], *, days: timedelta
) -> Decisions:
    """Each rule backtested on its own over the last ``days``, as a bank would run it; the
    decisions on these customers (the history holds other tests' too)."""
    ours = set(customers)
    decisions: Decisions = {}
    for live in rules:
        async with detector.sessions() as session:
            run = await backtest(
                session,
                live.rule_id,
                live.version,
                live.definition,
                start=NOW - days,
                end=NOW + timedelta(days=1),
                settings=detector.settings,
            )
        decisions |= {
            (d.customer_id, live.rule_id, d.dedupe_key): d.decision
            for d in run.decisions
            if d.customer_id in ours
        }
    return decisions


def _differences(live: Decisions, backtested: Decisions) -> list[str]:
    return [
        f"{customer} {rule} {key.rsplit(':', 1)[-1]}: "
        f"live {live.get((customer, rule, key))}, backtest {backtested.get((customer, rule, key))}"
        for customer, rule, key in sorted(live.keys() | backtested.keys())
        if live.get((customer, rule, key)) != backtested.get((customer, rule, key))
    ]


class TestParity:
    async def test_the_readme_scenario_a_transaction_booked_before_the_consent_arrived(
        self, detector: Detector
    ) -> None:
        # The registration (with consent) is consumed first; the withdrawal's booking time
        # is a few seconds earlier, as a core system's whole-second booked_at often is.
        rule = builtin("large_withdrawal")
        customer_id = uuid.uuid4()
        await detector.feed(registered(customer_id, consent={"phone": True}))
        live = await detector.feed(
            posted(
                customer_id,
                250_000,
                direction="debit",
                kind="withdrawal",
                at=NOW - timedelta(seconds=3),
            ),
            rule,
        )

        backtested = await _backtested(detector, [rule], [customer_id], days=timedelta(days=1))

        assert live == ["created"]
        assert list(backtested.values()) == ["created"]
        assert backtested == await _live(detector, [rule], [customer_id])

    async def test_a_greeting_the_scheduler_sent_counts_against_the_fatigue_cap(
        self, detector: Detector
    ) -> None:
        # Cap 2: the birthday greeting and the withdrawal's call leave no room for the
        # transfer's, though the transfer rule itself has not called this customer.
        greeting, withdrawal = builtin("birthday"), builtin("large_withdrawal")
        transfer = builtin("transfer_to_other_bank")
        birthday = (BANK_TODAY + timedelta(days=3)).strftime("%m-%d")
        customer_id = await known_customer(detector, tier="premium", birth_month_day=birthday)
        await detector.tick(greeting, now=NOW - timedelta(hours=1))
        await detector.feed(debit(customer_id, 250_000, at=NOW - timedelta(minutes=30)), withdrawal)
        live = await detector.feed(
            debit(
                customer_id,
                200_000,
                kind="transfer_out",
                counterparty_bank="ICBC",
                at=NOW - timedelta(minutes=10),
            ),
            withdrawal,
            transfer,
        )

        backtested = await _backtested(
            detector, [withdrawal, transfer], [customer_id], days=timedelta(days=1)
        )

        assert live == ["suppressed:cooldown", "suppressed:contact_fatigue"]
        assert backtested == await _live(detector, [withdrawal, transfer], [customer_id])

    async def test_a_generated_stream_is_decided_alike_decision_by_decision(
        self, detector: Detector
    ) -> None:
        draw = random.Random(SEED)
        rules = [builtin(rule_id, holdout=True) for rule_id in STREAM_RULES]
        stream = generated_stream(draw, CUSTOMERS)
        customers = list({a.customer_id for a in stream})
        fed = 0
        while fed < len(stream):
            run = stream[fed : fed + draw.randint(1, MAX_RUN)]
            await detector.feed_run([(a.event, a.time) for a in run], *rules)
            fed += len(run)

        live = await _live(detector, rules, customers)
        # From before the first registration, and before any posting booked late behind it.
        backtested = await _backtested(detector, rules, customers, days=SPAN + timedelta(days=2))

        differences = _differences(live, backtested)
        assert not differences, (
            f"seed {SEED}: {len(differences)} of {len(live)} live decisions differ, first: "
            + "; ".join(differences[:8])
        )
        # The stream reaches every rule and every way of holding a match back.
        assert len(stream) >= 2_000, f"seed {SEED}"
        assert {rule for _, rule, _ in live} == set(STREAM_RULES), f"seed {SEED}"
        assert set(Counter(live.values())) >= {
            "created",
            "held_out",
            "suppressed:no_consent",
            "suppressed:open_complaint",
            "suppressed:cooldown",
            "suppressed:contact_fatigue",
        }, f"seed {SEED}: {Counter(live.values())}"
