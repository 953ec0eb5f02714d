"""What the fault tests share."""

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

from contracts.catalogue import Topic
from shared.bus import ReceivedMessage
from shared.db import create_engine
from shared.settings import SharedSettings
from tests.integration.mechanics import read_until
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until


async def unpublished(settings: SharedSettings) -> int:
    """Events of the service's outbox not yet acknowledged by the bus."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            sql = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            return int(await conn.scalar(text(sql)) or 0)
    finally:
        await engine.dispose()


CRM = Path(sys.executable).parent / "crm"


def serve_in_own_process(service: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`crm serve SERVICE` as a process of its own: one a test can kill outright."""
    return subprocess.Popen(
        [str(CRM), "serve", service], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def answers_ready(client: httpx.AsyncClient) -> bool:
    """Whether the service behind ``client`` is up and ready (not yet, or down: False)."""
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@dataclass(frozen=True)
class Published:
    """What reached ``crm.transactions.v1`` of the transactions the API acknowledged."""

    acknowledged: int
    published: int
    republished: int  # extra copies: allowed, delivery is at least once
    out_of_order: int  # customers whose transactions arrived in another order than answered

    @property
    def lost(self) -> int:
        return self.acknowledged - self.published

    def line(self) -> str:
        return (
            f"acknowledged {self.acknowledged}, published {self.published}, lost {self.lost}, "
            f"republished {self.republished}, out of order {self.out_of_order}"
        )


async def published_transactions(
    bootstrap: str, acknowledged: dict[str, list[str]], *, timeout: float = 120
) -> Published:
    """Reads the topic until every acknowledged transaction id (customer id → ids, in the
    order the API answered) is found, or ``timeout``; then counts."""
    wanted = {t for ids in acknowledged.values() for t in ids}

    def complete(found: list[ReceivedMessage]) -> bool:
        return wanted <= {json.loads(m.value).get("transaction_id") for m in found}

    messages = await read_until(
        bootstrap, Topic.TRANSACTIONS, set(acknowledged), complete, timeout=timeout
    )
    seen: dict[str, list[str]] = {c: [] for c in acknowledged}
    copies = 0
    for message in messages:
        body = json.loads(message.value)
        if body.get("transaction_id") not in wanted:
            continue
        if body["transaction_id"] in seen[body["customer_id"]]:
            copies += 1
            continue
        seen[body["customer_id"]].append(body["transaction_id"])
    return Published(
        acknowledged=len(wanted),
        published=sum(len(ids) for ids in seen.values()),
        republished=copies,
        out_of_order=sum(1 for c, ids in acknowledged.items() if seen[c] != ids),
    )


@dataclass
class TransactionLoad:
    """A steady stream of transactions posted one at a time through the customer service's
    API, round after round over its customers. Only a 200 that posted it counts as
    acknowledged; a request that fails (refused, or the service unreachable) is not."""

    client: httpx.AsyncClient
    accounts: dict[str, str]  # customer id → account number
    pause: float = 0.05  # between rounds
    acknowledged: dict[str, list[str]] = field(init=False)  # customer id → ids, in answer order
    refused: Counter[int] = field(default_factory=Counter)  # status → requests
    refused_ids: list[str] = field(default_factory=list)
    slowest_refusal: float = 0.0  # seconds
    unreachable: int = 0

    def __post_init__(self) -> None:
        self.acknowledged = {customer_id: [] for customer_id in self.accounts}

    @classmethod
    async def for_new_customers(
        cls, client: httpx.AsyncClient, customers: int, *, pause: float = 0.05
    ) -> "TransactionLoad":
        accounts = {}
        for _ in range(customers):
            customer = await create_customer(client)
            accounts[customer["id"]] = (await open_account(client, customer["id"]))["full_number"]
        return cls(client, accounts, pause)

    @property
    def count(self) -> int:
        return sum(map(len, self.acknowledged.values()))

    async def reached(self, count: int, *, timeout: float) -> None:
        """Wait until ``count`` transactions are acknowledged: the stream is flowing."""

        async def enough() -> bool:
            return self.count >= count

        await wait_until(enough, timeout=timeout)

    @asynccontextmanager
    async def running(
        self, until: Callable[["TransactionLoad"], bool] | None = None
    ) -> AsyncIterator["asyncio.Task[None]"]:
        """The stream in the background while the block runs: until ``until`` says so, or
        (without one) until the block ends. When the block fails, the stream stops with it."""
        ending = asyncio.Event()
        task = asyncio.create_task(
            self._run(lambda it: ending.is_set() or (until is not None and until(it)))
        )
        try:
            yield task
            ending.set()
            await task
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run(self, done: Callable[["TransactionLoad"], bool]) -> None:
        while not done(self):
            for customer_id, account in self.accounts.items():
                body = transaction(account, booked_at=datetime.now(UTC).isoformat())
                started = time.monotonic()
                try:
                    answer = await self.client.post(
                        "/v1/transactions", json={"transactions": [body]}
                    )
                except httpx.TransportError:
                    self.unreachable += 1
                    await asyncio.sleep(0.2)
                    continue
                if answer.status_code == 200 and answer.json()["posted"] == 1:
                    self.acknowledged[customer_id].append(body["transaction_id"])
                else:
                    self.refused[answer.status_code] += 1
                    self.refused_ids.append(body["transaction_id"])
                    took = time.monotonic() - started
                    self.slowest_refusal = max(self.slowest_refusal, took)
            await asyncio.sleep(self.pause)
