"""What becomes of opportunities: expiry, conversion, and the uplift over the control group."""

import uuid
from datetime import timedelta
from decimal import Decimal

from contracts.customer import TransactionPosted, TransactionReversed
from contracts.opportunities import OpportunityClosed
from services.events import outcomes, statistics
from services.events.repository import states as states_repository
from services.events.service import business_day
from shared.db import transaction
from tests.service.conftest import scalar
from tests.service.events.conftest import (
    NOW,
    Detector,
    complaint,
    custom,
    known_customer,
    observed,
    opened,
    posted,
)

DEPOSIT_OFFER = {
    "name": "Offer after a deposit", "trigger": {"events": ["transaction.posted"]},
    "conditions": [{"kind": "event_field", "field": "kind", "op": "==", "value": "refund"}],
    "action": {"kind": "cross_sell", "product": "savings_plan", "expires_in_hours": 48},
    "cooldown_days": 0, "holdout_share": "0.5",
}  # fmt: skip


async def test_nobody_acting_in_time_expires_it_and_says_so(detector: Detector) -> None:
    rule = custom(f"expiry_{uuid.uuid4().hex[:6]}", {**DEPOSIT_OFFER, "holdout_share": "0"})
    customer_id = await known_customer(detector)
    await detector.feed(posted(customer_id, 100, kind="refund", at=NOW - timedelta(days=3)), rule)
    async with transaction(detector.sessions) as session:
        expired = await outcomes.expire_opportunities(session, now=NOW)
    assert rule.rule_id in expired
    (opportunity,) = await detector.opportunities(customer_id)
    assert opportunity.status == "expired"


async def test_uplift_is_conversion_of_the_contacted_minus_the_held_out(
    detector: Detector,
) -> None:
    rule = custom(f"uplift_{uuid.uuid4().hex[:6]}", DEPOSIT_OFFER)
    customers = [await known_customer(detector) for _ in range(30)]
    decided = {}
    for customer_id in customers:
        (decided[customer_id],) = await detector.feed(
            posted(customer_id, 100, kind="refund", at=NOW - timedelta(days=5)), rule
        )
    treated = [c for c in customers if decided[c] == "created"]
    control = [c for c in customers if decided[c] == "held_out"]
    assert treated
    assert control
    # Half the treated customers open an account within the window, one held-out customer too.
    converting = treated[: len(treated) // 2] + control[:1]
    for n, customer_id in enumerate(converting):
        await detector.feed(opened(customer_id, f"62220000777{n:05d}", "wealth"))
    async with detector.sessions() as session:
        stats = await statistics.rule_stats(
            session, rule.rule_id, start=NOW - timedelta(days=30), end=NOW + timedelta(days=1)
        )
    assert (stats.contacted, stats.held_out) == (len(treated), len(control))
    treated_rate = (len(treated) // 2) / len(treated)
    control_rate = 1 / len(control)
    assert stats.treated_conversion_rate == round(treated_rate, 4)
    assert stats.control_conversion_rate == round(control_rate, 4)
    assert stats.uplift == round(treated_rate - control_rate, 4)


async def test_a_reversed_transaction_withdraws_what_it_raised(detector: Detector) -> None:
    rule = custom(f"reversal_{uuid.uuid4().hex[:6]}", {**DEPOSIT_OFFER, "holdout_share": "0"})
    customer_id = await known_customer(detector)
    refund = posted(customer_id, 100, kind="refund", at=NOW - timedelta(hours=2))
    other = posted(customer_id, 100, kind="deposit", at=NOW - timedelta(hours=1))
    assert await detector.feed(refund, rule) == ["created"]
    await detector.feed(other, rule)

    async with transaction(detector.sessions) as session:
        untouched = await outcomes.withdraw_for_reversals(
            session, [reversal_of(other, "REV-1")], now=NOW
        )
        withdrawn = await outcomes.withdraw_for_reversals(
            session, [reversal_of(refund, "REV-2")], now=NOW
        )

    assert (untouched, withdrawn) == ([], [rule.rule_id])
    (opportunity,) = await detector.opportunities(customer_id)
    assert opportunity.status == "withdrawn"
    assert opportunity.outcome == "transaction_reversed:posting_error:REV-2"


async def test_a_posting_reversed_in_the_same_run_is_withdrawn_and_leaves_the_figures(
    detector: Detector,
) -> None:
    # Both in one poll (a consumer catching up): what the posting raises is decided before
    # the reversal is followed up, so the reversal finds it and withdraws it.
    rule = custom(f"reversal_{uuid.uuid4().hex[:6]}", {**DEPOSIT_OFFER, "holdout_share": "0"})
    customer_id = await known_customer(detector)
    at = NOW - timedelta(days=2)
    deposit = posted(customer_id, 300, kind="deposit", balance_after=300, at=at)
    refund = posted(customer_id, 100, kind="refund", balance_after=400, at=at)
    reversal = reversal_of(refund, "REV-3", balance_after=Decimal(300))
    decisions = await detector.feed_run([(deposit, at), (refund, at), (reversal, NOW)], rule)

    assert decisions == ["created"]
    (opportunity,) = await detector.opportunities(customer_id)
    assert (opportunity.status, opportunity.outcome) == (
        "withdrawn",
        "transaction_reversed:posting_error:REV-3",
    )
    async with transaction(detector.sessions) as session:
        await states_repository.lock_customers(session, [customer_id])
        loaded = await states_repository.load_states(
            session, [customer_id], since=at.date() - timedelta(days=1)
        )
    posting_day = loaded.states[customer_id].days[business_day(at, detector.settings)]
    assert (posting_day.money_in, posting_day.count_in, posting_day.closing_balance) == (
        Decimal(300),
        1,
        Decimal(300),
    )
    assert await observed(detector.settings, [customer_id]) == 4  # the reversal is kept too


async def test_a_complaint_withdraws_open_offers_and_keeps_service_recovery(
    detector: Detector,
) -> None:
    offer = custom(f"offer_{uuid.uuid4().hex[:6]}", {**DEPOSIT_OFFER, "holdout_share": "0"})
    recovery_document = {
        **DEPOSIT_OFFER,
        "holdout_share": "0",
        "action": {"kind": "service_recovery", "owner": "contact_center"},
        "conditions": [{"kind": "event_field", "field": "kind", "op": "==", "value": "fee"}],
    }
    recovery = custom(f"recovery_{uuid.uuid4().hex[:6]}", recovery_document)
    customer_id = await known_customer(detector)
    at = NOW - timedelta(hours=3)
    assert await detector.feed(posted(customer_id, 100, kind="refund", at=at), offer) == ["created"]
    fee = posted(customer_id, 15, direction="debit", kind="fee", at=at)
    assert await detector.feed(fee, recovery) == ["created"]

    received = complaint(customer_id, at=NOW - timedelta(hours=1))
    await detector.feed(received, offer, recovery)

    by_rule = {o.rule_id: o for o in await detector.opportunities(customer_id)}
    assert (by_rule[offer.rule_id].status, by_rule[offer.rule_id].outcome) == (
        "withdrawn",
        f"complaint_received:{received.complaint_id}",
    )
    assert by_rule[recovery.rule_id].status == "open"
    closed = await scalar(
        detector.settings,
        "SELECT count(*) FROM outbox WHERE event_type = :t AND payload->>'opportunity_id' = :o",
        t=OpportunityClosed.event_type,
        o=str(by_rule[offer.rule_id].id),
    )
    assert closed == 1  # the contact centre drops its call list entry on this event


def reversal_of(
    event: TransactionPosted, reversal_id: str, *, balance_after: Decimal = Decimal(0)
) -> TransactionReversed:
    return TransactionReversed(
        customer_id=event.customer_id,
        reversal_id=reversal_id,
        transaction_id=event.transaction_id,
        account_number=event.account_number,
        product_type=event.product_type,
        direction=event.direction,
        amount=event.amount,
        currency=event.currency,
        balance_after=balance_after,
        kind=event.kind,
        reason="posting_error",
        booked_at=NOW,
        reversed_booked_at=event.booked_at,
    )
