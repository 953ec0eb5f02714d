"""`crm serve SERVICE --part api|worker`: each process runs what it says.

The customer service's API and its worker run as processes of their own, on a database of
their own, with a minute between relay polls: the API serves HTTP and neither publishes nor
consumes; the worker publishes what the API's requests wrote (woken by their commits, not by
its timer) and consumes, and answers the probes and the scrape on its own port."""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from shared.auth.tokens import development_bearer
from tests.conftest import database_of_its_own
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until

CRM = Path(sys.executable).with_name("crm")
START_SECONDS = 60.0
WITHIN = 1.0
# The exposition orders a sample's labels by name.
CONSUMED = (
    'crm_events_consumed_total{group="crm-customer",outcome="applied",topic="crm.transactions.v1"}'
)
PUBLISHED = "crm_events_published_total{"


@dataclass(frozen=True)
class Parts:
    env: dict[str, str]
    database_url: str
    api_port: int
    worker_port: int

    def serve(self, part: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(CRM), "serve", "customer", "--part", part],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def unpublished(self) -> int:
        engine = create_async_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                sql = "SELECT count(*) FROM customer.outbox WHERE published_at IS NULL"
                return int(await conn.scalar(text(sql)) or 0)
        finally:
            await engine.dispose()


@pytest.fixture(params=["local", pytest.param("kafka", marks=pytest.mark.kafka)])
async def parts(request: pytest.FixtureRequest, postgres_server: EmbeddedPostgres) -> Parts:
    url = await database_of_its_own(postgres_server, f"parts_{uuid.uuid4().hex[:8]}")
    api_port, worker_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_DATABASE_URL=url,
        CRM_BUS=request.param,
        CRM_CUSTOMER_PORT=str(api_port),
        CRM_CUSTOMER_WORKER_PORT=str(worker_port),
        # Only a commit's notification can make the relay publish within the test's second.
        CRM_RELAY_POLL_INTERVAL_SECONDS="60",
        CRM_LOG_LEVEL="WARNING",
    )
    if request.param == "kafka":
        env["CRM_KAFKA_BOOTSTRAP_SERVERS"] = request.getfixturevalue("kafka_bootstrap")
    return Parts(env, url, api_port, worker_port)


async def _answers(port: int, path: str) -> int | None:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"http://127.0.0.1:{port}{path}")).status_code
    except httpx.TransportError:
        return None


async def _ready(port: int, process: subprocess.Popen[bytes]) -> None:
    async def ready() -> bool:
        assert process.poll() is None, "crm serve exited before it was ready"
        return await _answers(port, "/readyz") == 200

    await wait_until(ready, timeout=START_SECONDS, every=0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
async def api_client(parts: Parts) -> AsyncIterator[httpx.AsyncClient]:
    process = parts.serve("api")
    try:
        await _ready(parts.api_port, process)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{parts.api_port}", headers=development_bearer(), timeout=30
        ) as client:
            yield client
    finally:
        _stop(process)


async def _post(client: httpx.AsyncClient, account: str) -> None:
    answer = await client.post("/v1/transactions", json={"transactions": [transaction(account)]})
    assert answer.status_code == 200, answer.text


class TestServeByPart:
    async def test_the_api_serves_http_and_neither_publishes_nor_consumes(
        self, parts: Parts, api_client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(api_client)
        account = (await open_account(api_client, customer["id"]))["full_number"]
        await _post(api_client, account)
        await asyncio.sleep(2.0)  # four rounds of the default relay, were one running here

        metrics = (await api_client.get("/metrics")).text
        assert await parts.unpublished() >= 2  # account.opened, transaction.posted
        assert PUBLISHED not in metrics
        assert "crm_events_consumed_total{" not in metrics
        assert await _answers(parts.worker_port, "/healthz") is None

    async def test_the_worker_relays_on_commit_and_consumes(
        self, parts: Parts, api_client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(api_client)
        account = (await open_account(api_client, customer["id"]))["full_number"]
        worker = parts.serve("worker")
        try:
            await _ready(parts.worker_port, worker)

            async def drained() -> bool:
                return await parts.unpublished() == 0

            await wait_until(drained, timeout=30)
            await _post(api_client, account)
            posted = time.monotonic()
            await wait_until(drained, timeout=30, every=0.02)
            took = time.monotonic() - posted

            async def consumed() -> bool:
                async with httpx.AsyncClient(timeout=5) as client:
                    answer = await client.get(f"http://127.0.0.1:{parts.worker_port}/metrics")
                return CONSUMED in answer.text

            await wait_until(consumed, timeout=60)
            health = await _answers(parts.worker_port, "/healthz")
            no_api_here = await _answers(parts.worker_port, "/v1/customers")
            api_metrics = (await api_client.get("/metrics")).text
        finally:
            _stop(worker)

        assert took < WITHIN, f"published {took:.2f} s after the request's commit"
        assert health == 200
        assert no_api_here == 404
        assert "crm_events_consumed_total{" not in api_metrics
