"""Loading the synthetic bank into a running customer service, through its HTTP API."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from crm.synthetic import SyntheticBank


def _nothing(stage: str, count: int) -> None:
    """No progress display."""


@dataclass(frozen=True)
class LoadReport:
    customers: int
    accounts: int
    transactions: int
    seconds: float


async def load_synthetic_bank(
    client: httpx.AsyncClient,
    bank: SyntheticBank,
    *,
    concurrency: int = 8,
    batch: int = 1000,
    loaded: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Load the bank through the customer service's HTTP API (the real rules, the real
    events). Customers and accounts go ``concurrency`` requests at a time; transaction
    batches go in order, since balances follow them. ``loaded(stage, count)`` hears of each
    step ("customers", "accounts", "transactions"), for a progress display."""
    report = loaded or _nothing
    started = time.monotonic()
    limit = asyncio.Semaphore(concurrency)
    ids: dict[str, str] = {}

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with limit:
            answer = await client.post(path, json=body)
            while answer.status_code == 503:  # back-pressure: wait as told, then again
                await asyncio.sleep(float(answer.headers.get("retry-after", "5")))
                answer = await client.post(path, json=body)
        if answer.status_code >= 300:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text[:300]}")
        result: dict[str, Any] = answer.json()
        return result

    async def register(key: str, body: dict[str, Any]) -> None:
        ids[key] = (await post("/v1/customers", body))["id"]
        report("customers", 1)

    async def open_account(key: str, body: dict[str, Any]) -> None:
        await post("/v1/accounts", {**body, "customer_id": ids[key]})
        report("accounts", 1)

    await asyncio.gather(*(register(key, body) for key, body in bank.customers()))
    accounts = list(bank.accounts())
    await asyncio.gather(*(open_account(key, body) for key, body in accounts))
    transactions = 0
    for transactions_batch in bank.transaction_batches(size=batch):
        await post("/v1/transactions", {"transactions": transactions_batch})
        transactions += len(transactions_batch)
        report("transactions", len(transactions_batch))
    return LoadReport(len(ids), len(accounts), transactions, time.monotonic() - started)
