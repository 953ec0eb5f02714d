"""PostgreSQL stops and starts: readiness turns red at once, requests fail fast with 503 and
Retry-After (no hanging), and the service recovers without being restarted."""

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
from tests.faults.conftest import unpublished
from tests.service.conftest import serving
from tests.service.customer.factories import individual
from tests.waiting import wait_until

FAST = 3.0  # seconds: a request must not hang longer than this while the database is away


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path / "pg" / "data", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _timed(
    call: "httpx.AsyncClient", method: str, path: str, **kwargs: object
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await call.request(method, path, **kwargs)  # type: ignore[arg-type]
    return answer, time.monotonic() - started


class TestDatabaseOutage:
    async def test_fast_503_while_down_and_recovery_without_restart(
        self, own_postgres: EmbeddedPostgres
    ) -> None:
        own_postgres.ensure_database("crm")
        settings = Settings(database_url=own_postgres.url("crm"), database_pool_timeout_seconds=1.0)
        await upgrade(settings, MIGRATIONS)
        async with serving(create_app(settings)) as client:
            before = await client.post("/v1/customers", json=individual())

            own_postgres.stop()
            ready, ready_took = await _timed(client, "GET", "/readyz")
            write, write_took = await _timed(client, "POST", "/v1/customers", json=individual())
            live = await client.get("/healthz")

            own_postgres.start()
            after = await client.post("/v1/customers", json=individual())
            ready_again = await client.get("/readyz")

            async def relayed() -> bool:
                # The relay and the consumer came back by themselves: the outbox empties.
                return await unpublished(settings) == 0

            await wait_until(relayed, timeout=30)

        assert before.status_code == 201
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unavailable")
        assert ready_took < FAST
        assert write.status_code == 503
        assert write.headers["retry-after"] == "5"
        assert write.json()["type"].endswith("/unavailable")
        assert write_took < FAST
        assert live.status_code == 200
        assert after.status_code == 201
        assert ready_again.status_code == 200
