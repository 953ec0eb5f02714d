"""Handlers of the events the detector consumes: every event a rule may listen to, an erasure
and a reversal go through the same path (keep the customer's state, run the rules); the
contact centre's call results record what became of the opportunities it called about."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import DomainEvent
from contracts.contact_center import OutboundAttempted
from services.events import outcomes, service
from services.events.config import Settings
from services.events.metrics import DetectorMetrics
from services.events.rules import CONSUMED_EVENTS
from services.events.service import RuleBook
from services.events.state_cache import StateCache
from shared.consumer import BatchHandler, Handler, Handlers
from shared.envelope import EventEnvelope


def build_batch_handler(
    settings: Settings, rule_book: RuleBook, metrics: DetectorMetrics | None = None
) -> BatchHandler:
    """A poll's run of events in one transaction (the consumer's fast path). The states it
    saves are kept in memory for the next runs (and for :func:`build_handlers` built on it)."""
    cache = StateCache(settings.state_cache_customers)

    async def detect_all(
        session: AsyncSession, items: list[tuple[DomainEvent, EventEnvelope]]
    ) -> None:
        results = [e for e, _ in items if isinstance(e, OutboundAttempted)]
        if results:
            applied = await outcomes.record_call_results(session, results, now=datetime.now(UTC))
            if metrics is not None:
                for rule_id, status in applied:
                    metrics.outcomes.labels(rule_id, status).inc()
        observed = [(e, env) for e, env in items if not isinstance(e, OutboundAttempted)]
        rules = await rule_book.live(session, settings)
        handled = await service.handle_events(
            session, observed, rules=rules, settings=settings, cache=cache
        )
        if metrics is not None:
            # Counted before the commit: a rolled-back decision is retried and counted again,
            # which a rate over minutes does not notice; an exact count is in rule_firings.
            for rule_id, mode, decision in handled.firings:
                metrics.decisions.labels(rule_id, mode, decision).inc()
            metrics.states.labels("memory").inc(handled.states_kept)
            metrics.states.labels("tables").inc(handled.states_read)
            now = datetime.now(UTC)
            for _, envelope in observed:
                metrics.detection_delay.observe(max((now - envelope.time).total_seconds(), 0.0))

    return detect_all


def build_handlers(
    settings: Settings, rule_book: RuleBook, metrics: DetectorMetrics | None = None
) -> Handlers:
    """One event at a time: the consumer's path for a run the batch could not take."""
    detect_all = build_batch_handler(settings, rule_book, metrics)

    async def detect(session: AsyncSession, event: DomainEvent, envelope: EventEnvelope) -> None:
        await detect_all(session, [(event, envelope)])

    handler: Handler = detect
    return dict.fromkeys([*CONSUMED_EVENTS.values(), OutboundAttempted], handler)
