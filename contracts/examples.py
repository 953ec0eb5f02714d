"""One example of every event, as a consumer team would see it on the wire.

They are built as the models themselves, so an example that stopped matching its model would
fail at import; the AsyncAPI document publishes them beside each message's schema, and a test
validates each published example against the published schema.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from contracts.base import DomainEvent
from contracts.complaints import (
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintLetterIssued,
    ComplaintReceived,
    ComplaintStepCompleted,
)
from contracts.contact_center import (
    CallbackScheduled,
    CallEnded,
    CallStarted,
    ComplaintFromCall,
    OutboundAttempted,
)
from contracts.customer import (
    AccountClosed,
    AccountOpened,
    CustomerErased,
    CustomerManagerAssigned,
    CustomerRegistered,
    CustomerSegmentChanged,
    CustomerUnserved,
    CustomerUpdated,
    IdentifierDigest,
    InteractionRecorded,
    LeadConverted,
    SurveyAnswered,
    TransactionPosted,
    TransactionReversed,
)
from contracts.decisions import NextBestActionDecided, NextBestActionResponded, RankedAction
from contracts.opportunities import OpportunityClosed, OpportunityCreated, OpportunityUpdated

CUSTOMER = uuid.UUID("3f0c8a52-7d4e-4b1a-9c1e-5a2b6d7e8f90")
MANAGER = uuid.UUID("8b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")
COMPLAINT = uuid.UUID("c0ffee00-1234-4abc-8def-0123456789ab")
CALL = uuid.UUID("ca11ca11-5678-4def-9abc-fedcba987654")
OPPORTUNITY = uuid.UUID("0b0e0c0d-2468-4ace-8bdf-13579bdf2468")
DECISION = uuid.UUID("dec15107-1357-4abc-9def-2468ace13579")
MORNING = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PHONE_DIGEST = IdentifierDigest(kind="phone", digest="9c2d0b0c4f3a6e1f" * 4)
CONSENT = {"marketing_phone": True, "marketing_sms": False, "marketing_email": True}

_CUSTOMER_EVENTS: tuple[DomainEvent, ...] = (
    CustomerRegistered(
        customer_id=CUSTOMER,
        kind="individual",
        branch_code="SH001",
        value_tier="potential",
        identifiers=[PHONE_DIGEST],
        consent=CONSENT,
        preferred_channel="mobile",
        birth_month_day="05-17",
    ),
    CustomerUpdated(
        customer_id=CUSTOMER,
        version=4,
        status="active",
        changed_fields=["contacts", "preferred_channel"],
        identifiers=[PHONE_DIGEST],
        consent=CONSENT,
        preferred_channel="phone",
    ),
    CustomerSegmentChanged(
        customer_id=CUSTOMER,
        dimension="value_tier",
        previous="key",
        current="premium",
        direction="upgrade",
        reason="assets under management 5,230,000.00 CNY reach the premium floor",
        policy={"manager_required": True, "queue_priority": 0, "route_to_vip_queue": True},
        effective_at=MORNING,
    ),
    CustomerManagerAssigned(
        customer_id=CUSTOMER,
        manager_id=MANAGER,
        previous_manager_id=None,
        branch_code="SH001",
        reason="premium customers always have a manager",
    ),
    CustomerUnserved(
        customer_id=CUSTOMER,
        branch_code="SH001",
        value_tier="premium",
        reason="no active manager has room, in branch SH001 or any other",
        since=MORNING,
    ),
    CustomerErased(customer_id=CUSTOMER, request_reference="DSR-2026-00042", erased_at=MORNING),
    LeadConverted(
        customer_id=CUSTOMER,
        lead_id=uuid.UUID("1ead1ead-0000-4000-8000-000000000001"),
        source="referral",
        grade="A",
        referred_by=None,
    ),
    SurveyAnswered(
        customer_id=CUSTOMER,
        survey_id=uuid.UUID("50e50e50-0000-4000-8000-000000000002"),
        channel="phone",
        csat=4,
        nps=9,
        satisfaction_index=Decimal("82.50"),
        answered_at=MORNING,
    ),
)

_ACCOUNT_EVENTS: tuple[DomainEvent, ...] = (
    TransactionPosted(
        customer_id=CUSTOMER,
        transaction_id="CBS20260302093000000123",
        account_number="6222021001000123456",
        product_type="current",
        direction="debit",
        amount=Decimal("250000.00"),
        currency="CNY",
        balance_after=Decimal("1380450.75"),
        kind="transfer_out",
        channel="mobile",
        counterparty_bank="ICBC",
        booked_at=MORNING,
    ),
    TransactionReversed(
        customer_id=CUSTOMER,
        reversal_id="CBS20260302101500000077",
        transaction_id="CBS20260302093000000123",
        account_number="6222021001000123456",
        product_type="current",
        direction="debit",
        amount=Decimal("250000.00"),
        currency="CNY",
        balance_after=Decimal("1630450.75"),
        kind="transfer_out",
        reason="posting_error",
        booked_at=MORNING + timedelta(minutes=45),
        reversed_booked_at=MORNING,
    ),
    AccountOpened(
        customer_id=CUSTOMER,
        account_number="6222021001000654321",
        product_type="term_deposit",
        product_code="TD-12M",
        currency="CNY",
        opened_on=date(2026, 3, 2),
        maturity_date=date(2027, 3, 2),
        payoff_date=None,
    ),
    AccountClosed(
        customer_id=CUSTOMER,
        account_number="6222021001000777777",
        product_type="loan",
        closed_on=date(2026, 3, 2),
        paid_off=True,
    ),
    InteractionRecorded(
        customer_id=CUSTOMER,
        interaction_id=uuid.UUID("1a7e1a7e-0000-4000-8000-000000000003"),
        channel="atm",
        kind="balance_enquiry",
        occurred_at=MORNING,
    ),
)

_OPPORTUNITY_EVENTS: tuple[DomainEvent, ...] = (
    OpportunityCreated(
        opportunity_id=OPPORTUNITY,
        customer_id=CUSTOMER,
        rule_id="large_withdrawal",
        rule_version=1,
        action="retention_call",
        product=None,
        priority=80,
        owner="manager",
        owner_id=MANAGER,
        channel="phone",
        due_at=datetime(2026, 3, 2, 13, 30, tzinfo=UTC),
        expires_at=datetime(2026, 3, 9, 9, 30, tzinfo=UTC),
        facts={"amount": "250000.00", "currency": "CNY", "share_of_balance": "0.15"},
    ),
    OpportunityUpdated(
        opportunity_id=OPPORTUNITY,
        customer_id=CUSTOMER,
        status="in_contact",
        outcome=None,
        updated_at=MORNING,
    ),
    OpportunityClosed(
        opportunity_id=OPPORTUNITY,
        customer_id=CUSTOMER,
        status="accepted",
        outcome="kept the funds with the bank",
        closed_at=MORNING,
    ),
)

_DECISION_EVENTS: tuple[DomainEvent, ...] = (
    NextBestActionDecided(
        decision_id=DECISION,
        customer_id=CUSTOMER,
        channel="phone",
        served_at=MORNING,
        explored=False,
        features={
            "tier": "premium",
            "loyalty": "loyal",
            "lifecycle": "maturity",
            "quadrant": "satisfied_loyal",
            "products": "2-3",
            "recency": "7d",
            "balance_trend": "fell_30",
            "channel": "phone",
        },
        model_versions={"retention_call": 1840, "wealth_management": 962},
        entries=[
            RankedAction(
                action_id="retention_call",
                rank=1,
                opportunity_id=OPPORTUNITY,
                propensity=Decimal("0.23814412"),
                model_estimate=Decimal("0.23814412"),
                expected_value=Decimal("476.2882"),
                first_choice_probability=Decimal("0.9500"),
            ),
            RankedAction(
                action_id="wealth_management",
                rank=2,
                opportunity_id=None,
                propensity=Decimal("0.17920355"),
                model_estimate=Decimal("0.17920355"),
                expected_value=Decimal("268.8053"),
                first_choice_probability=Decimal("0.0500"),
            ),
        ],
    ),
    NextBestActionResponded(
        decision_id=DECISION,
        action_id="retention_call",
        customer_id=CUSTOMER,
        opportunity_id=OPPORTUNITY,
        outcome="accepted",
        responded_at=MORNING + timedelta(minutes=6),
    ),
)

_COMPLAINT_EVENTS: tuple[DomainEvent, ...] = (
    ComplaintReceived(
        complaint_id=COMPLAINT,
        customer_id=CUSTOMER,
        channel="phone",
        category="fees",
        priority="high",
        received_at=MORNING,
        due_at=datetime(2026, 3, 16, 9, 30, tzinfo=UTC),
    ),
    ComplaintStepCompleted(
        complaint_id=COMPLAINT,
        customer_id=CUSTOMER,
        step="cause_analysis",
        next_step="resolution_proposal",
        completed_at=MORNING,
        due_at=datetime(2026, 3, 5, 9, 30, tzinfo=UTC),
    ),
    ComplaintEscalated(
        complaint_id=COMPLAINT,
        customer_id=CUSTOMER,
        level=1,
        reason="the step's deadline passed",
        escalated_at=MORNING,
    ),
    ComplaintClosed(
        complaint_id=COMPLAINT, customer_id=CUSTOMER, outcome="resolved", closed_at=MORNING
    ),
    ComplaintLetterIssued(
        complaint_id=COMPLAINT,
        customer_id=CUSTOMER,
        letter_id=uuid.UUID("1e77e700-0000-4000-8000-000000000006"),
        kind="acknowledgement",
        language="zh-CN",
        jurisdiction="cn",
        issued_at=MORNING,
    ),
)

_CONTACT_EVENTS: tuple[DomainEvent, ...] = (
    CallStarted(
        call_id=CALL,
        customer_id=CUSTOMER,
        direction="inbound",
        identified_by="phone",
        value_tier="premium",
        queue="vip",
        priority=0,
        started_at=MORNING,
    ),
    CallEnded(
        call_id=CALL,
        customer_id=CUSTOMER,
        outcome="completed",
        queue="vip",
        agent_id="agent-017",
        wrap_up_code="complaint_taken",
        resolved=False,
        transfers=0,
        wait_seconds=12.4,
        handle_seconds=315.0,
        ended_at=MORNING,
        complaint=ComplaintFromCall(
            category="fees", description="charged twice for one interbank transfer"
        ),
    ),
    CallbackScheduled(
        callback_id=uuid.UUID("cab1cab1-0000-4000-8000-000000000004"),
        customer_id=CUSTOMER,
        call_id=CALL,
        queue="vip",
        agent_id="agent-017",
        requested_for=datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
    ),
    OutboundAttempted(
        customer_id=CUSTOMER,
        attempt_id=uuid.UUID("a77e0000-0000-4000-8000-000000000005"),
        opportunity_id=OPPORTUNITY,
        result="reached",
        attempt=1,
        agent_id="agent-017",
        attempted_at=MORNING,
    ),
)

EXAMPLES: dict[str, DomainEvent] = {
    event.event_type: event
    for event in (
        *_CUSTOMER_EVENTS,
        *_ACCOUNT_EVENTS,
        *_OPPORTUNITY_EVENTS,
        *_DECISION_EVENTS,
        *_COMPLAINT_EVENTS,
        *_CONTACT_EVENTS,
    )
}
