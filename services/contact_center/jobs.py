"""The live board: gauges of the floor (calls waiting, the longest wait, agents by state) and
of the trailing hour per queue (service level, abandonment), read from the database on the
clock. Every replica reports the same figures, so dashboards take ``max``, not ``sum``."""

import contextlib
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.contact_center.agents import repository as agents_repository
from services.contact_center.calls import repository as calls_repository
from services.contact_center.config import Settings
from services.contact_center.models import AgentState, Skill
from services.contact_center.stats import repository as stats_repository
from shared.db import transaction
from shared.runtime import PeriodicJob, ServiceRuntime

TRAILING = timedelta(hours=1)


class ContactMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.waiting = Gauge(
            "crm_contact_calls_waiting", "Calls waiting in a queue.", ["queue"], registry=registry
        )
        self.oldest_wait = Gauge(
            "crm_contact_oldest_wait_seconds",
            "How long the longest-waiting call in the queue has waited.",
            ["queue"],
            registry=registry,
        )
        self.agents = Gauge(
            "crm_contact_agents", "Agents in each state.", ["state"], registry=registry
        )
        self.offered = Gauge(
            "crm_contact_calls_offered_trailing_hour",
            "Calls offered to the queue (answered or abandoned) in the trailing hour.",
            ["queue"],
            registry=registry,
        )
        self.service_level = Gauge(
            "crm_contact_service_level_ratio",
            "Share of calls offered in the trailing hour answered within the threshold.",
            ["queue"],
            registry=registry,
        )
        self.abandonment = Gauge(
            "crm_contact_abandonment_ratio",
            "Share of calls offered in the trailing hour that were abandoned.",
            ["queue"],
            registry=registry,
        )
        # Operators alert when this stops rising: the board (and its alerts) went stale.
        self.refreshes = Counter(
            "crm_contact_board_refreshes",
            "Completed refreshes of the live board.",
            registry=registry,
        )


class LiveBoard:
    def __init__(self, settings: Settings, metrics: ContactMetrics) -> None:
        self._settings = settings
        self._metrics = metrics

    def job(self) -> PeriodicJob:
        return PeriodicJob(
            "contact-live-board", self._settings.live_metrics_interval_seconds, self.run
        )

    async def run(self, runtime: ServiceRuntime) -> None:
        now = datetime.now(UTC)
        async with transaction(runtime.sessions) as session:
            waiting = await calls_repository.waiting_by_queue(session)
            agents = await agents_repository.agent_counts_by_state(session)
            recent = await stats_repository.leg_figures(
                session,
                now - TRAILING,
                now + timedelta(seconds=1),
                service_level_seconds=self._settings.service_level_seconds,
            )
        by_queue = {f.queue: f for f in recent if f.queue is not None}
        for queue in Skill:
            count, oldest = waiting.get(queue, (0, None))
            self._metrics.waiting.labels(queue).set(count)
            self._metrics.oldest_wait.labels(queue).set(
                (now - oldest).total_seconds() if oldest else 0
            )
            figures = by_queue.get(queue)
            offered = figures.answered + figures.abandoned if figures else 0
            self._metrics.offered.labels(queue).set(offered)
            # No calls, no figure: a quiet queue is not a queue failing its service level.
            if figures and offered:
                self._metrics.service_level.labels(queue).set(figures.answered_within / offered)
                self._metrics.abandonment.labels(queue).set(figures.abandoned / offered)
            else:
                for gauge in (self._metrics.service_level, self._metrics.abandonment):
                    with contextlib.suppress(KeyError):  # never set for this queue
                        gauge.remove(queue)
        for state in AgentState:
            self._metrics.agents.labels(state).set(agents.get(state, 0))
        self._metrics.refreshes.inc()
