"""The deadline sweep: reminders before a step's deadline, escalation once it has passed, and
the gauges of open and overdue cases. Runs on the clock in every replica; SKIP LOCKED in the
queries shares the cases between them."""

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.complaints.config import Settings
from services.complaints.deadline_sweep import sweep_deadlines
from services.complaints.procedure import OPEN_STEPS
from services.complaints.repository import complaints as complaints_repository
from shared.db import transaction
from shared.runtime import PeriodicJob, ServiceRuntime


class ComplaintMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.open = Gauge(
            "crm_complaints_open", "Open complaint cases, by step.", ["step"], registry=registry
        )
        self.overdue = Gauge(
            "crm_complaints_overdue",
            "Open complaint cases past their step's deadline, by step.",
            ["step"],
            registry=registry,
        )
        self.escalations = Counter(
            "crm_complaints_escalations", "Cases escalated on a missed deadline.", registry=registry
        )
        # Operators alert when this stops rising: no sweep, no escalation.
        self.sweeps = Counter(
            "crm_complaints_deadline_sweeps", "Completed deadline sweeps.", registry=registry
        )
        self.reminders = Counter(
            "crm_complaints_reminders", "Reminders of a coming deadline.", registry=registry
        )


class DeadlineSweep:
    def __init__(self, settings: Settings, metrics: ComplaintMetrics) -> None:
        self._settings = settings
        self._metrics = metrics

    def job(self) -> PeriodicJob:
        return PeriodicJob(
            "complaint-deadline-sweep", self._settings.deadline_sweep_interval_seconds, self.run
        )

    async def run(self, runtime: ServiceRuntime) -> None:
        now = datetime.now(UTC)
        async with transaction(runtime.sessions) as session:
            report = await sweep_deadlines(session, settings=self._settings, now=now)
            counts = await complaints_repository.open_by_step(session, now=now)
        if report.escalated:
            runtime.relay.wake()
        self._metrics.escalations.inc(report.escalated)
        self._metrics.reminders.inc(report.reminded)
        self._metrics.sweeps.inc()
        by_step = {step: (open_, overdue) for step, open_, overdue in counts}
        for step in OPEN_STEPS:
            open_, overdue = by_step.get(step, (0, 0))
            self._metrics.open.labels(step=step).set(open_)
            self._metrics.overdue.labels(step=step).set(overdue)
