"""The reconciliation gauge: accounts whose figures differ from core banking's in the latest
run. Set when a run is stored, and read back from the database on the clock, so that every
replica reports it, one just started included."""

from prometheus_client import CollectorRegistry, Gauge

from services.customer.reconciliation import service as reconciliation_service
from shared.db import transaction
from shared.runtime import PeriodicJob, ServiceRuntime


class ReconciliationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.differing = Gauge(
            "crm_reconciliation_differing_accounts",
            "Accounts whose end-of-day balance or currency differs from core banking's, in the "
            "run of the latest business date (0 before any run).",
            registry=registry,
        )

    def job(self, every_seconds: float) -> PeriodicJob:
        return PeriodicJob("reconciliation-gauge", every_seconds, self.refresh)

    async def refresh(self, runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessions) as session:
            differing = await reconciliation_service.latest_differing(session)
        self.differing.set(differing or 0)
