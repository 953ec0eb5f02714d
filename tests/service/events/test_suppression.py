"""What keeps a match from becoming a contact: duplicates, the cool-down, an open complaint,
consent, the fatigue cap across rules; and the control group, and the lineage kept."""

import uuid
from datetime import timedelta

from sqlalchemy import select

from contracts.customer import TransactionPosted
from services.events.config import Settings
from services.events.detector import in_control_group
from shared.outbox import OutboxRecord
from tests.service.events.conftest import (
    NOW,
    Detector,
    builtin,
    complaint,
    contact,
    custom,
    debit,
    known_customer,
    posted,
)

EVERY_DEPOSIT = {
    "name": "Any deposit", "trigger": {"events": ["transaction.posted"]},
    "conditions": [{"kind": "event_field", "field": "direction", "op": "==", "value": "credit"}],
    "action": {"kind": "cross_sell", "product": "credit_card"}, "cooldown_days": 0,
    "holdout_share": "0",
}  # fmt: skip


def _withdrawal(customer_id: uuid.UUID, days_ago: float = 0) -> TransactionPosted:
    return debit(customer_id, 150_000, at=NOW - timedelta(days=days_ago))


class TestSuppression:
    async def test_the_same_facts_never_make_two_opportunities(self, detector: Detector) -> None:
        rule = builtin("large_withdrawal")
        customer_id = await known_customer(detector)
        event = _withdrawal(customer_id)
        event_id = str(uuid.uuid4())
        assert await detector.feed(event, rule, event_id=event_id) == ["created"]
        assert await detector.feed(event, rule, event_id=event_id) == ["suppressed:duplicate_facts"]
        assert len(await detector.opportunities(customer_id)) == 1

    async def test_a_cool_down_per_customer_and_rule(self, detector: Detector) -> None:
        rule = builtin("large_withdrawal")  # 14 days
        customer_id = await known_customer(detector)
        assert await detector.feed(_withdrawal(customer_id, 21), rule) == ["created"]
        assert await detector.feed(_withdrawal(customer_id, 7), rule) == ["created"]
        assert await detector.feed(_withdrawal(customer_id, 0), rule) == ["suppressed:cooldown"]

    async def test_no_marketing_while_a_complaint_is_open(self, detector: Detector) -> None:
        rule = builtin("large_withdrawal")
        customer_id = await known_customer(detector)
        await detector.feed(complaint(customer_id))
        assert await detector.feed(_withdrawal(customer_id), rule) == ["suppressed:open_complaint"]

    async def test_no_marketing_without_consent_for_the_channel(self, detector: Detector) -> None:
        rule = builtin("large_withdrawal")  # by phone
        sms_only = await known_customer(detector, consent={"phone": False, "sms": True})
        assert await detector.feed(_withdrawal(sms_only), rule) == ["suppressed:no_consent"]

    async def test_at_most_two_marketing_contacts_a_week_across_rules(
        self, detector: Detector, events_settings: Settings
    ) -> None:
        assert (events_settings.fatigue_cap, events_settings.fatigue_window_days) == (2, 7)
        first = custom("fatigue_first", EVERY_DEPOSIT)
        second = custom("fatigue_second", EVERY_DEPOSIT)
        third = custom("fatigue_third", EVERY_DEPOSIT)
        customer_id = await known_customer(detector, tier="premium")
        deposit = posted(customer_id, 100, at=NOW - timedelta(days=6))
        assert await detector.feed(deposit, first, second, third) == [
            "created", "created", "suppressed:contact_fatigue",
        ]  # fmt: skip
        # A week after the first two, the third rule may reach the customer again.
        later = posted(customer_id, 100, at=NOW + timedelta(days=1, hours=1))
        assert await detector.feed(later, third) == ["created"]
        # Service recovery is never held back by the cap.
        assert await detector.feed(complaint(customer_id), builtin("premium_complaint")) == [
            "created"
        ]

    async def test_competing_offers_take_the_slots_by_priority_not_by_name(
        self, detector: Detector
    ) -> None:
        # Named so that alphabetical order would give the cap's two slots to the two lowest.
        low = custom("a_fatigue_low", {**EVERY_DEPOSIT, "priority": 10})
        middle = custom("m_fatigue_middle", {**EVERY_DEPOSIT, "priority": 50})
        high = custom("z_fatigue_high", {**EVERY_DEPOSIT, "priority": 80})
        customer_id = await known_customer(detector, tier="premium")
        await detector.feed(posted(customer_id, 100), low, middle, high)
        decided = [(f.rule_id, f.decision) for f in await detector.firings([customer_id])]
        assert decided == [
            ("z_fatigue_high", "created"),
            ("m_fatigue_middle", "created"),
            ("a_fatigue_low", "suppressed:contact_fatigue"),
        ]

    async def test_the_slots_go_by_expected_value_before_priority(self, detector: Detector) -> None:
        # By the catalogue: a retention call 0.05 × 2,000, the payroll package 0.08 × 600, a
        # courtesy call 0.2 × 100. Priority alone would give the slots to the other two.
        def rule(kind: str, product: str | None, priority: int) -> dict[str, object]:
            action = {"kind": kind, "product": product}
            return {**EVERY_DEPOSIT, "action": action, "priority": priority}

        payroll = custom("a_slot_payroll", rule("cross_sell", "payroll_package", 90))
        care = custom("m_slot_care", rule("relationship_care", None, 80))
        retention = custom("z_slot_retention", rule("retention_call", None, 10))
        customer_id = await known_customer(detector)
        await detector.feed(posted(customer_id, 100), payroll, care, retention)
        decided = [(f.rule_id, f.decision) for f in await detector.firings([customer_id])]
        assert decided == [
            ("z_slot_retention", "created"),
            ("a_slot_payroll", "created"),
            ("m_slot_care", "suppressed:contact_fatigue"),
        ]

    async def test_the_cap_counts_conversations_with_the_bank_beside_offers(
        self, detector: Detector
    ) -> None:
        rule = custom("fatigue_after_calls", EVERY_DEPOSIT)
        called = await known_customer(detector)
        await detector.feed(contact(called, NOW - timedelta(days=2), kind="inbound_call:query"))
        await detector.feed(contact(called, NOW - timedelta(days=1), channel="branch"))
        assert await detector.feed(posted(called, 100), rule) == ["suppressed:contact_fatigue"]
        # Self-service sessions and the bank's calls about an offer (counted as that offer)
        # are not conversations to count again.
        browsing = await known_customer(detector)
        await detector.feed(contact(browsing, NOW - timedelta(days=2), channel="web"))
        offer_call = contact(browsing, NOW - timedelta(days=1), kind="outbound_call:cross_sell")
        await detector.feed(offer_call)
        assert await detector.feed(posted(browsing, 100), rule) == ["created"]
        # A conversation older than the window no longer counts.
        last_month = await known_customer(detector)
        for days in (9, 8):
            await detector.feed(contact(last_month, NOW - timedelta(days=days)))
        assert await detector.feed(posted(last_month, 100), rule) == ["created"]


class TestControlGroup:
    async def test_held_out_customers_are_recorded_but_never_contacted(
        self, detector: Detector
    ) -> None:
        rule = custom("holdout_half", {**EVERY_DEPOSIT, "holdout_share": "0.5"})
        customers = [await known_customer(detector) for _ in range(40)]
        decisions = {c: await detector.feed(posted(c, 100), rule) for c in customers}
        held = [c for c, d in decisions.items() if d == ["held_out"]]
        contacted = [c for c, d in decisions.items() if d == ["created"]]
        assert len(held) + len(contacted) == 40
        assert 8 <= len(held) <= 32  # about half
        # Chosen from the customer id alone: the same customers on every replica and replay.
        assert {c for c in customers if in_control_group("holdout_half", str(c), 0.5)} == set(held)
        async with detector.sessions() as session:
            published = set(
                await session.scalars(
                    select(OutboxRecord.message_key).where(
                        OutboxRecord.event_type == "crm.opportunity.created.v1",
                        OutboxRecord.message_key.in_([str(c) for c in customers]),
                    )
                )
            )
        assert published == {str(c) for c in contacted}
        for customer_id in held:
            (opportunity,) = await detector.opportunities(customer_id)
            assert (opportunity.status, opportunity.control_group) == ("held_out", True)


class TestLineage:
    async def test_an_opportunity_names_the_rule_version_event_position_and_checks(
        self, detector: Detector
    ) -> None:
        rule = builtin("large_withdrawal")
        customer_id = await known_customer(detector, tier="key")
        event_id = str(uuid.uuid4())
        await detector.feed(_withdrawal(customer_id), rule, event_id=event_id)
        (opportunity,) = await detector.opportunities(customer_id)
        lineage = opportunity.lineage
        assert (lineage["rule_id"], lineage["rule_version"]) == ("large_withdrawal", 1)
        (source,) = lineage["events"]
        assert source["id"] == event_id
        assert source["type"] == "crm.transaction.posted.v1"
        assert source["topic"] == "crm.transactions.v1"
        assert isinstance(source["offset"], int)
        assert lineage["checks_passed"] == [
            "duplicate_facts", "cooldown", "open_complaint", "consent", "contact_fatigue",
        ]  # fmt: skip
        assert opportunity.facts == {"direction": "debit", "kind": "withdrawal", "amount": "150000"}
        # Priority: the rule's 70 plus the key tier's 20.
        assert opportunity.priority == 90
        assert opportunity.owner == "contact_center"  # no manager assigned yet
