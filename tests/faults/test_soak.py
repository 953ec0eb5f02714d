"""A soak: the customer service and the detector, each a process of its own on the real Kafka
broker, under a steady stream for 10 minutes (``CRM_SOAK_SECONDS``). Memory, open file
descriptors (sockets included) and database connections must stay flat: the test prints them
at the start, after a one-minute warm-up, every minute, and at the end, and compares the end
with the warm-up. Every acknowledged transaction must also have reached the detector.

Behind the ``soak`` marker: `make test` leaves it out, `make soak` (run by `.ci/run`) runs it.
"""

import asyncio
import os
import subprocess
import time
from dataclasses import dataclass

import httpx
import psutil
import pytest

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import MIGRATIONS as CUSTOMER_MIGRATIONS
from services.customer.config import Settings as CustomerSettings
from services.events.app import MIGRATIONS as EVENTS_MIGRATIONS
from services.events.config import Settings as EventsSettings
from shared.auth.tokens import development_bearer
from shared.migrations import upgrade
from tests.faults.conftest import TransactionLoad, answers_ready, serve_in_own_process, stop
from tests.reporting import report
from tests.service.conftest import scalar
from tests.waiting import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.soak]

SECONDS = float(os.environ.get("CRM_SOAK_SECONDS", "600"))
WARM_UP = min(60.0, SECONDS / 5)
MEMORY_GROWTH_LIMIT = 0.10  # of the warmed-up resident set
FD_GROWTH_LIMIT = 10
CONNECTION_GROWTH_LIMIT = 2


@dataclass(frozen=True)
class Sample:
    rss_mib: float
    open_fds: int
    connections: int

    def __str__(self) -> str:
        return f"{self.rss_mib:.1f} MiB, {self.open_fds} fds, {self.connections} db conns"


async def _connections(settings: CustomerSettings, application: str) -> int:
    found = await scalar(
        settings,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :a",
        a=application,
    )
    assert isinstance(found, int)
    return found


async def _sample(
    process: subprocess.Popen[bytes], settings: CustomerSettings, application: str
) -> Sample:
    measured = psutil.Process(process.pid)
    return Sample(
        rss_mib=measured.memory_info().rss / 2**20,
        open_fds=measured.num_fds(),
        connections=await _connections(settings, application),
    )


def _database(server: EmbeddedPostgres, name: str) -> str:
    server.ensure_database(name)
    return server.url(name)


async def test_memory_descriptors_and_connections_stay_flat_under_a_steady_stream(
    postgres_server: EmbeddedPostgres, kafka_bootstrap: str
) -> None:
    customer_settings = CustomerSettings(database_url=_database(postgres_server, "crm_soak_c"))
    events_settings = EventsSettings(database_url=_database(postgres_server, "crm_soak_e"))
    await upgrade(customer_settings, CUSTOMER_MIGRATIONS)
    await upgrade(events_settings, EVENTS_MIGRATIONS)
    customer_port, events_port = free_port(), free_port()
    common = {
        **os.environ, "CRM_BUS": "kafka", "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CRM_LOG_LEVEL": "WARNING", "CRM_RELAY_POLL_INTERVAL_SECONDS": "0.2",
    }  # fmt: skip
    processes = {
        "customer": serve_in_own_process("customer", {
            **common, "CRM_DATABASE_URL": customer_settings.database_url.get_secret_value(),
            "CRM_CUSTOMER_PORT": str(customer_port),
        }),
        "events": serve_in_own_process("events", {
            **common, "CRM_DATABASE_URL": events_settings.database_url.get_secret_value(),
            "CRM_EVENTS_PORT": str(events_port),
        }),
    }  # fmt: skip
    samples: dict[str, list[tuple[float, Sample]]] = {name: [] for name in processes}
    try:
        for port in (customer_port, events_port):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as probe:
                await wait_until(lambda: answers_ready(probe), timeout=60)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{customer_port}", timeout=5, headers=development_bearer()
        ) as client:
            load = await TransactionLoad.for_new_customers(client, 5, pause=0.2)
            started = time.monotonic()

            async def take_samples(at: float) -> None:
                for name, process in processes.items():
                    sample = await _sample(process, customer_settings, f"crm-{name}")
                    samples[name].append((at, sample))

            await take_samples(0.0)

            def soaked(_: TransactionLoad) -> bool:
                return time.monotonic() - started >= SECONDS

            async with load.running(until=soaked) as stream:
                next_sample = WARM_UP
                while not stream.done():
                    await asyncio.sleep(1)
                    elapsed = time.monotonic() - started
                    if elapsed >= next_sample:
                        await take_samples(elapsed)
                        next_sample += 60
            if time.monotonic() - started - samples["customer"][-1][0] > 5:
                await take_samples(time.monotonic() - started)

            async def detected() -> bool:
                return await _observed(events_settings, load) >= load.count

            await wait_until(detected, timeout=60)
    finally:
        for process in processes.values():
            stop(process)

    observed = await _observed(events_settings, load)
    report(f"\nsoak of {SECONDS:.0f} s: {load.count} transactions acknowledged, "
          f"refused {dict(load.refused)}, {observed} reached the detector")  # fmt: skip
    for name, series in samples.items():
        for at, sample in series:
            report(f"soak, {name:8} at {at:5.0f} s: {sample}")
    assert load.count >= SECONDS * 5  # a steady stream really ran
    assert not load.refused
    assert observed == load.count
    for name, series in samples.items():
        warm, end = series[1][1], series[-1][1]
        assert end.rss_mib <= warm.rss_mib * (1 + MEMORY_GROWTH_LIMIT), (name, warm, end)
        assert end.open_fds <= warm.open_fds + FD_GROWTH_LIMIT, (name, warm, end)
        assert end.connections <= warm.connections + CONNECTION_GROWTH_LIMIT, (name, warm, end)


async def _observed(settings: EventsSettings, load: TransactionLoad) -> int:
    """Acknowledged transactions the detector has consumed."""
    found = await scalar(
        settings,
        "SELECT count(*) FROM observed_events WHERE payload->>'transaction_id' = ANY(:ids)",
        ids=[t for ids in load.acknowledged.values() for t in ids],
    )
    assert isinstance(found, int)
    return found
