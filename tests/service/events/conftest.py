"""The detector on the real PostgreSQL: events fed through the same handler the consumer
calls, one transaction each, with the rules under test only (so one test's rule never
fires on another test's customers)."""

import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import DomainEvent
from contracts.complaints import ComplaintClosed, ComplaintReceived
from contracts.customer import (
    AccountClosed,
    AccountOpened,
    CustomerRegistered,
    CustomerSegmentChanged,
    CustomerUpdated,
    InteractionRecorded,
    TransactionPosted,
)
from services.events import scheduled_rules, service
from services.events.config import Settings
from services.events.detector import LiveRule
from services.events.models import Firing, Opportunity
from services.events.rule_admin import BUILTIN_RULES, read_rule_file
from services.events.rules import RuleDefinition
from services.events.state_cache import StateCache
from shared.db import create_engine, create_sessionmaker, transaction
from shared.envelope import EventEnvelope
from shared.outbox import EVENT_SOURCE
from tests.service.conftest import scalar
from tests.waiting import wait_until

NOW = datetime.now(UTC).replace(microsecond=0)
# The detector counts days in the bank's time zone: from 16:00 UTC Shanghai is a day ahead.
BANK_TODAY = NOW.astimezone(ZoneInfo(Settings().timezone)).date()
_offsets = itertools.count()


@pytest.fixture
def events_settings(events_database: str) -> Settings:
    return Settings(
        database_url=events_database,
        relay_poll_interval_seconds=0.05,
        schedule_interval_seconds=3600,
        rule_cache_seconds=0,
    )


@pytest.fixture
async def sessions(events_settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(events_settings)
    made = create_sessionmaker(engine)
    made.configure(info={EVENT_SOURCE: events_settings.event_source})
    yield made
    await engine.dispose()


def builtin(rule_id: str, *, holdout: bool = False) -> LiveRule:
    """A built-in rule as shipped; without its control group unless asked (so that a test of
    a threshold does not depend on which customers the hold-out picks)."""
    definition = read_rule_file(BUILTIN_RULES)[rule_id]
    if not holdout:
        definition = definition.model_copy(update={"holdout_share": Decimal(0)})
    return LiveRule(rule_id, 1, "active", definition)


def custom(rule_id: str, document: dict[str, Any], status: str = "active") -> LiveRule:
    return LiveRule(rule_id, 1, status, RuleDefinition.model_validate(document))


@dataclass
class Detector:
    """Feeds events as the consumer would, with a chosen rule set; with a ``cache``, the
    customers' states are kept in memory between events, as the consumer keeps them."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    cache: StateCache | None = None

    async def feed(
        self,
        event: DomainEvent,
        *rules: LiveRule,
        event_id: str | None = None,
        time: datetime = NOW,
    ) -> list[str]:
        """``time`` is the envelope's: when an event without a time of its own happened."""
        return await self._handle([(event, _envelope(event, event_id, time))], rules)

    async def feed_run(
        self, run: Sequence[tuple[DomainEvent, datetime]], *rules: LiveRule
    ) -> list[str]:
        """Several events (each with its envelope's time) in one transaction, as the consumer
        handles what one poll brought; the decisions on all of them, in order."""
        return await self._handle([(e, _envelope(e, None, time)) for e, time in run], rules)

    async def _handle(
        self, items: list[tuple[DomainEvent, EventEnvelope]], rules: Sequence[LiveRule]
    ) -> list[str]:
        async with transaction(self.sessions) as session:
            handled = await service.handle_events(
                session, items, rules=list(rules), settings=self.settings, cache=self.cache
            )
        return handled.decisions

    async def tick(self, *rules: LiveRule, now: datetime = NOW) -> int:
        async with transaction(self.sessions) as session:
            return await scheduled_rules.run_scheduled_rules(
                session, rules=list(rules), settings=self.settings, now=now
            )

    async def opportunities(self, customer_id: uuid.UUID) -> list[Opportunity]:
        async with self.sessions() as session:
            statement = (
                select(Opportunity)
                .where(Opportunity.customer_id == customer_id)
                .order_by(Opportunity.created_at)
            )
            return list((await session.scalars(statement)).all())

    async def firings(self, customers: list[uuid.UUID]) -> list[Firing]:
        """What the rules decided on these customers, in the order they decided it."""
        async with self.sessions() as session:
            statement = select(Firing).where(Firing.customer_id.in_(customers)).order_by(Firing.seq)
            return list((await session.scalars(statement)).all())


def _envelope(event: DomainEvent, event_id: str | None, time: datetime) -> EventEnvelope:
    return EventEnvelope(
        id=event_id or str(uuid.uuid4()),
        source="/crm/test",
        type=event.event_type,
        subject=event.subject,
        time=time,
        position=(event.topic, 0, next(_offsets)),
    )


# Every rule's test runs twice: with the states read from the tables for each event, and with
# them kept in memory between events as the consumer keeps them; both must decide alike.
@pytest.fixture(params=["states_read", "states_kept"])
def detector(
    request: pytest.FixtureRequest,
    sessions: async_sessionmaker[AsyncSession],
    events_settings: Settings,
) -> Detector:
    cache = StateCache(1000) if request.param == "states_kept" else None
    return Detector(sessions, events_settings, cache)


def registered(
    customer_id: uuid.UUID,
    *,
    tier: str = "ordinary",
    consent: dict[str, bool] | None = None,
    birth_month_day: str | None = None,
) -> CustomerRegistered:
    return CustomerRegistered(
        customer_id=customer_id, kind="individual", branch_code="0101", value_tier=tier,
        identifiers=[], consent={"phone": True} if consent is None else consent,
        preferred_channel="phone", birth_month_day=birth_month_day,
    )  # fmt: skip


def posted(
    customer_id: uuid.UUID,
    amount: str | int,
    *,
    direction: str = "credit",
    kind: str = "deposit",
    balance_after: str | int = 0,
    at: datetime = NOW,
    account: str = "6222000011112222",
    counterparty_bank: str | None = None,
    product_type: str = "current",
) -> TransactionPosted:
    return TransactionPosted(
        customer_id=customer_id, transaction_id=f"TX-{uuid.uuid4().hex[:12]}",
        account_number=account, product_type=product_type, direction=direction,
        amount=Decimal(str(amount)), currency="CNY", balance_after=Decimal(str(balance_after)),
        kind=kind, channel="web", counterparty_bank=counterparty_bank, booked_at=at,
    )  # fmt: skip


def opened(
    customer_id: uuid.UUID, account: str, product_type: str, maturity: date | None = None
) -> AccountOpened:
    return AccountOpened(
        customer_id=customer_id, account_number=account, product_type=product_type,
        product_code=f"{product_type.upper()}-1", currency="CNY", opened_on=NOW.date(),
        maturity_date=maturity, payoff_date=None,
    )  # fmt: skip


def closed(
    customer_id: uuid.UUID, account: str, product_type: str, paid_off: bool
) -> AccountClosed:
    return AccountClosed(
        customer_id=customer_id, account_number=account, product_type=product_type,
        closed_on=NOW.date(), paid_off=paid_off,
    )  # fmt: skip


def contact(
    customer_id: uuid.UUID, at: datetime, *, channel: str = "phone", kind: str = "enquiry"
) -> InteractionRecorded:
    return InteractionRecorded(
        customer_id=customer_id, interaction_id=uuid.uuid4(), channel=channel, kind=kind,
        occurred_at=at,
    )  # fmt: skip


def tier_changed(
    customer_id: uuid.UUID, previous: str, current: str, direction: str, *, at: datetime = NOW
) -> CustomerSegmentChanged:
    return CustomerSegmentChanged(
        customer_id=customer_id, dimension="value_tier", previous=previous, current=current,
        direction=direction, reason="test", policy=None, effective_at=at,
    )  # fmt: skip


def complaint(
    customer_id: uuid.UUID, *, at: datetime = NOW, complaint_id: uuid.UUID | None = None
) -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id=complaint_id or uuid.uuid4(), customer_id=customer_id, channel="phone",
        category="fees", priority="high", received_at=at, due_at=at + timedelta(days=1),
    )  # fmt: skip


def complaint_closed(
    customer_id: uuid.UUID, complaint_id: uuid.UUID, *, at: datetime = NOW
) -> ComplaintClosed:
    return ComplaintClosed(
        complaint_id=complaint_id, customer_id=customer_id, outcome="resolved", closed_at=at
    )


def consent_changed(customer_id: uuid.UUID, consent: dict[str, bool]) -> CustomerUpdated:
    return CustomerUpdated(
        customer_id=customer_id,
        version=2,
        status="active",
        changed_fields=["consent"],
        identifiers=[],
        consent=consent,
        preferred_channel="phone",
    )


def debit(
    customer_id: uuid.UUID,
    amount: str | int,
    *,
    kind: str = "withdrawal",
    at: datetime = NOW,
    counterparty_bank: str | None = None,
    balance_after: str | int = 0,
) -> TransactionPosted:
    return posted(
        customer_id, amount, direction="debit", kind=kind, at=at,
        counterparty_bank=counterparty_bank, balance_after=balance_after,
    )  # fmt: skip


def salary(customer_id: uuid.UUID, amount: int, *, at: datetime, payer: str) -> TransactionPosted:
    return posted(customer_id, amount, kind="salary", at=at, counterparty_bank=payer)


async def known_customer(
    detector: Detector,
    *,
    tier: str = "ordinary",
    consent: dict[str, bool] | None = None,
    birth_month_day: str | None = None,
) -> uuid.UUID:
    """A customer the detector has registered: by default ordinary, consenting to calls."""
    customer_id = uuid.uuid4()
    await detector.feed(
        registered(customer_id, tier=tier, consent=consent, birth_month_day=birth_month_day)
    )
    return customer_id


async def observed(settings: Settings, customers: list[uuid.UUID]) -> int:
    """Events of these customers the detector has consumed (its kept history)."""
    count = await scalar(
        settings, "SELECT count(*) FROM observed_events WHERE customer_id = ANY(:c)", c=customers
    )
    return int(str(count))


async def wait_observed(
    settings: Settings, customers: list[uuid.UUID], total: int, *, timeout: float = 90
) -> None:
    """Until the detector has consumed ``total`` events of these customers."""

    async def done() -> bool:
        return await observed(settings, customers) == total

    await wait_until(done, timeout=timeout)
