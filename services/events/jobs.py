"""The detector's clock: the time-based rules (birthdays, maturities, dormancy), the expiry
of opportunities and offers nobody acted on (an unanswered offer is learned as refused), and
the pruning of the consumed history. Each replica runs them; decisions are idempotent by
their facts and expiry takes rows with SKIP LOCKED."""

from datetime import UTC, datetime, timedelta

from services.events import outcomes, scheduled_rules
from services.events.config import Settings
from services.events.decisions import learning
from services.events.metrics import DetectorMetrics
from services.events.repository import states as states_repository
from services.events.service import RuleBook
from shared.db import transaction
from shared.runtime import PeriodicJob, ServiceRuntime


def scheduled_jobs(
    settings: Settings, rule_book: RuleBook, metrics: DetectorMetrics
) -> list[PeriodicJob]:
    async def tick(runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessions) as session:
            rules = await rule_book.live(session, settings)
            now = datetime.now(UTC)
            await scheduled_rules.run_scheduled_rules(
                session, rules=rules, settings=settings, now=now
            )
            await states_repository.forget_history_before(
                session, now - timedelta(days=settings.history_days)
            )
        runtime.relay.wake()

    async def expire(runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessions) as session:
            now = datetime.now(UTC)
            expired = await outcomes.expire_opportunities(session, now=now)
            unanswered = await learning.expire_unanswered(
                session, now=now, window=timedelta(days=settings.nba_response_window_days)
            )
        for rule_id in expired:
            metrics.outcomes.labels(rule_id, "expired").inc()
        for action_id in unanswered:
            metrics.responses.labels(action_id, learning.EXPIRED).inc()
        if expired:
            runtime.relay.wake()

    return [
        PeriodicJob("opportunity-schedule", settings.schedule_interval_seconds, tick),
        PeriodicJob("opportunity-expiry", settings.expiry_interval_seconds, expire),
    ]
