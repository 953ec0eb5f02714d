"""Revaluation on the events that change a customer's inputs.

The service consumes its own transaction and account events to keep segments current: ingest
answers at once, and valuation follows within moments, in order per customer."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import DomainEvent
from contracts.customer import (
    AccountClosed,
    AccountOpened,
    TransactionPosted,
    TransactionReversed,
)
from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.valuation.service import (
    mark_standing_valued,
    revalue_customer,
    valuation_inputs,
)
from shared.consumer import BatchHandler, Handler, Handlers
from shared.envelope import EventEnvelope
from shared.logging import correlated
from shared.outbox import events_written_together


def _revalue(settings: Settings) -> Handler:
    async def revalue(
        session: AsyncSession,
        event: TransactionPosted | TransactionReversed | AccountOpened | AccountClosed,
        envelope: EventEnvelope,
    ) -> None:
        await revalue_customer(
            session,
            event.customer_id,
            settings=settings,
            at=datetime.now(UTC),
            unless_valued_since=envelope.time,
        )

    return revalue


REVALUING = (TransactionPosted, TransactionReversed, AccountOpened, AccountClosed)


def build_batch_handler(settings: Settings, *, handlers: Handlers) -> BatchHandler:
    """A poll's run of events in one transaction. Revaluation, the costly part, happens once
    per customer at the end of the run rather than once per event (the latest one in a run is
    what the per-event path would have kept); the other events are handled in order, each by
    its handler in ``handlers``."""

    async def handle_run(
        session: AsyncSession, items: list[tuple[DomainEvent, EventEnvelope]]
    ) -> None:
        # Every customer of the run locked up front, in id order (see lock_customers).
        customers = [c for e, _ in items if (c := getattr(e, "customer_id", None)) is not None]
        await customers_repository.lock_customers(session, customers)
        asked: dict[uuid.UUID, EventEnvelope] = {}
        for event, envelope in items:
            if isinstance(event, REVALUING):
                # The run may join several partitions: the latest event, not the last listed.
                known = asked.get(event.customer_id)
                if known is None or envelope.time >= known.time:
                    asked[event.customer_id] = envelope
            else:
                with correlated(envelope.correlation_id):
                    await handlers[type(event)](session, event, envelope)
        # Most find their segments standing and are only marked valued (a customer valued
        # after the latest event that asks, as a backlog's runs find most, is skipped before
        # their inputs are read); the inputs of the others, whose moves are recorded and
        # published, are read for all at once.
        at = datetime.now(UTC)
        latest = {customer_id: envelope.time for customer_id, envelope in asked.items()}
        moving = await mark_standing_valued(session, latest, settings=settings, at=at)
        inputs = await valuation_inputs(session, moving.ids, at=at, money=moving.money)
        # The run holds its customers' locks, which the ingest of their next transactions
        # waits for: their events go in one write, not one each.
        async with events_written_together(session):
            for customer_id in moving.ids:
                envelope = asked[customer_id]
                with correlated(envelope.correlation_id):
                    await revalue_customer(
                        session,
                        customer_id,
                        settings=settings,
                        at=at,
                        unless_valued_since=envelope.time,
                        inputs=inputs,
                    )

    return handle_run


def build_handlers(settings: Settings) -> Handlers:
    revalue = _revalue(settings)
    return {event_type: revalue for event_type in REVALUING}
