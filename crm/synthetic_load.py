"""Loading the synthetic bank into a running customer service, through its HTTP API."""

import asyncio
import time
from collections.abc import Awaitable, Callable
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
    onboarding_seconds: float  # of ``seconds``: the customers with their accounts


async def load_synthetic_bank(
    client: httpx.AsyncClient,
    bank: SyntheticBank,
    *,
    concurrency: int = 2,
    lanes: int = 4,
    batch: int = 1000,
    onboarding_batch: int = 500,
    loaded: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Load the bank through the customer service's HTTP API (the real rules, the real
    events). Customers go with their accounts in onboarding batches of ``onboarding_batch``,
    ``concurrency`` batches at a time; transaction batches go in ``lanes`` side by side, each
    customer's in order in one lane. ``loaded(stage, count)`` hears of each step
    ("customers", "accounts", "transactions"), for a progress display."""
    report = loaded or _nothing
    started = time.monotonic()
    limit = asyncio.Semaphore(concurrency)

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await client.post(path, json=body)
        while answer.status_code == 503:  # back-pressure: wait as told, then again
            await asyncio.sleep(float(answer.headers.get("retry-after", "5")))
            answer = await client.post(path, json=body)
        if answer.status_code >= 300:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text[:300]}")
        result: dict[str, Any] = answer.json()
        return result

    accounts_of: dict[str, list[dict[str, Any]]] = {}
    for key, body in bank.accounts():
        accounts_of.setdefault(key, []).append(body)
    entries = [
        {"customer": body, "accounts": accounts_of.get(key, [])} for key, body in bank.customers()
    ]

    async def onboard(entries: list[dict[str, Any]]) -> int:
        async with limit:
            answer = await post("/v1/onboarding-batches", {"customers": entries})
        report("customers", len(answer["customer_ids"]))
        opened: int = answer["accounts_opened"]
        return opened

    opened = await asyncio.gather(
        *(
            onboard(entries[start : start + onboarding_batch])
            for start in range(0, len(entries), onboarding_batch)
        )
    )
    # The accounts come with their customers: one step for the display, once all are in.
    report("accounts", sum(opened))
    onboarded = time.monotonic()
    owner = {body["account_number"]: key for key, bodies in accounts_of.items() for body in bodies}
    transactions = await _post_in_lanes(
        bank, owner, lanes=lanes, batch=batch, post=post, report=report
    )
    return LoadReport(
        len(entries), len(owner), transactions, time.monotonic() - started, onboarded - started
    )


async def _post_in_lanes(
    bank: SyntheticBank,
    owner: dict[str, str],
    *,
    lanes: int,
    batch: int,
    post: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
    report: Callable[[str, int], None],
) -> int:
    """Post the transactions as ``lanes`` channels would, side by side: each customer's in one
    lane, in time order, so that every account's balances follow its own history while lanes
    do not wait for one another (their batches lock different accounts)."""
    queues: list[asyncio.Queue[list[dict[str, Any]] | None]] = [
        asyncio.Queue(maxsize=2) for _ in range(lanes)
    ]
    lane_of = {key: n % lanes for n, key in enumerate(sorted(set(owner.values())))}
    posted = 0

    async def deal() -> None:
        pending: list[list[dict[str, Any]]] = [[] for _ in range(lanes)]
        for generated in bank.transaction_batches(size=batch):
            for body in generated:
                lane = lane_of[owner[body["account_number"]]]
                pending[lane].append(body)
                if len(pending[lane]) == batch:
                    await queues[lane].put(pending[lane])
                    pending[lane] = []
        for lane, rest in enumerate(pending):
            if rest:
                await queues[lane].put(rest)
            await queues[lane].put(None)

    async def drive(queue: asyncio.Queue[list[dict[str, Any]] | None]) -> None:
        nonlocal posted
        while (transactions := await queue.get()) is not None:
            await post("/v1/transactions", {"transactions": transactions})
            posted += len(transactions)
            report("transactions", len(transactions))

    await asyncio.gather(deal(), *(drive(queue) for queue in queues))
    return posted
