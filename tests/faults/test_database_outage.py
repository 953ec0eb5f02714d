"""PostgreSQL stops for 10 s in the middle of a steady stream of transactions and starts again:
readiness turns red at once, requests fail fast with 503 and Retry-After (no hanging), nothing
refused is half-written, and the service recovers without being restarted.

The test prints: acknowledged, stored (every acknowledged transaction must be in the
database), lost (must be 0), refused while down, refused but stored (must be 0), the slowest
refusal, and the time from the database's return to the next acknowledged write.
"""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import MIGRATIONS, create_app
from services.customer.config import Settings
from shared.migrations import upgrade
from tests.faults.conftest import TransactionLoad, unpublished
from tests.reporting import report
from tests.service.conftest import scalar, serving
from tests.service.customer.factories import individual
from tests.waiting import wait_until

FAST = 3.0  # seconds: a request must not hang longer than this while the database is away
OUTAGE_SECONDS = 10


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path / "pg" / "data", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _timed(
    call: httpx.AsyncClient, method: str, path: str, **kwargs: object
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await call.request(method, path, **kwargs)  # type: ignore[arg-type]
    return answer, time.monotonic() - started


async def test_fast_503s_while_down_nothing_lost_and_recovery_without_restart(
    own_postgres: EmbeddedPostgres,
) -> None:
    own_postgres.ensure_database("crm")
    settings = Settings(database_url=own_postgres.url("crm"), database_pool_timeout_seconds=1.0)
    await upgrade(settings, MIGRATIONS)
    async with serving(create_app(settings)) as client:
        load = await TransactionLoad.for_new_customers(client, 5, pause=0.1)
        async with load.running():
            await load.reached(20, timeout=30)
            # In a thread: the service shares this event loop and must keep answering meanwhile.
            await asyncio.to_thread(own_postgres.stop)
            stopped_at = time.monotonic()
            ready, ready_took = await _timed(client, "GET", "/readyz")
            write, write_took = await _timed(client, "POST", "/v1/customers", json=individual())
            live = await client.get("/healthz")
            await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
            acknowledged_while_down = load.count

            await asyncio.to_thread(own_postgres.start)
            returned_at = time.monotonic()

            async def writing_again() -> bool:
                return load.count > acknowledged_while_down

            await wait_until(writing_again, timeout=30)
            recovery = time.monotonic() - returned_at
            ready_again = await client.get("/readyz")
            await asyncio.sleep(2)  # the stream goes on as before

        async def relayed() -> bool:
            # The relay and the consumers came back by themselves: the outbox empties.
            return await unpublished(settings) == 0

        await wait_until(relayed, timeout=30)

    acknowledged = [t for ids in load.acknowledged.values() for t in ids]
    stored = await scalar(
        settings,
        "SELECT count(*) FROM transactions WHERE transaction_id = ANY(:ids)",
        ids=acknowledged,
    )
    half_written = await scalar(
        settings,
        "SELECT count(*) FROM transactions WHERE transaction_id = ANY(:ids)",
        ids=load.refused_ids,
    )
    assert isinstance(stored, int)
    report(
        f"\nPostgreSQL down {OUTAGE_SECONDS} s: acknowledged {len(acknowledged)} "
        f"({len(acknowledged) - acknowledged_while_down} after it returned), "
        f"stored {stored}, lost {len(acknowledged) - stored}, "
        f"refused while down {dict(load.refused)}, refused but stored {half_written}, "
        f"slowest refusal {load.slowest_refusal:.2f} s, "
        f"writing again {recovery:.1f} s after the database returned"
    )
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("unavailable")
    assert ready_took < FAST
    assert write.status_code == 503
    assert write.headers["retry-after"] == "5"
    assert write.json()["type"].endswith("/unavailable")
    assert write_took < FAST
    assert live.status_code == 200
    assert set(load.refused) == {503}
    assert load.refused.total() >= 5
    assert load.slowest_refusal < FAST
    assert stored == len(acknowledged)
    assert half_written == 0
    assert ready_again.status_code == 200
