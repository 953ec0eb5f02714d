"""The ingest phase of bench/customer_view_ingest.py: three ways of storing the same batches,
from one client and from several side by side.

- ``copy``: the floor of any design, the rows COPYed into a scratch table: no checks, no
  balances, no events.
- ``statements``: the service's own two statements (services/customer/accounts/
  ingest_repository.py) driven directly with batches validated in advance: what the design
  costs in PostgreSQL, with no HTTP and no request handling.
- ``service``: ``POST /v1/transactions`` over HTTP, in the default (full) answer shape, the
  bodies encoded in advance.

Clients post side by side as channels do: each its own customers' accounts, so that their
batches do not queue on one another's account locks (with a bank's millions of accounts, two
channels' batches seldom share one).
"""

import asyncio
import json
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from random import Random
from typing import Any, TypeVar

import asyncpg
import httpx

from services.customer.accounts.ingest import ingest_transactions
from services.customer.accounts.repository import TRANSACTION_COLUMNS
from services.customer.accounts.schemas import TransactionBatch
from services.customer.config import Settings
from shared.auth.tokens import development_bearer
from shared.db import create_engine, create_sessionmaker
from shared.outbox import EVENT_SOURCE

Batch = list[dict[str, Any]]
# One list of batches per client.
Load = list[list[Batch]]
# A batch in the form one way posts it.
T = TypeVar("T")


def fresh_load(
    accounts: list[tuple[str, str, str]], *, clients: int, batches: int, seed: int
) -> Load:
    """``batches`` batches of 1,000 new deposits in all, shared among ``clients`` clients;
    ``accounts`` are (number, currency, owner), dealt to clients by owner."""
    draw = Random(seed)
    owners = sorted({owner for _, _, owner in accounts})
    lane = {owner: n % clients for n, owner in enumerate(owners)}
    mine = [[a for a in accounts if lane[a[2]] == c] for c in range(clients)]
    now = datetime.now(UTC).isoformat()
    return [
        [
            [
                {
                    "transaction_id": f"BENCH-{uuid.uuid4().hex}",
                    "account_number": number,
                    "direction": "credit",
                    "amount": f"{draw.randrange(1, 500)}.00",
                    "currency": currency,
                    "kind": "deposit",
                    "channel": "core",
                    "booked_at": now,
                }
                for number, currency, _ in draw.choices(mine[c], k=1000)
            ]
            for _ in range(batches // clients)
        ]
        for c in range(clients)
    ]


async def _side_by_side(
    load: Load, prepared: list[list[T]], post: Callable[[int, T], Awaitable[None]]
) -> float:
    """Each client posts its batches, in the form ``prepared`` holds them (made from ``load``
    before the clock starts), one after another; the clients side by side. Transactions/s."""

    async def client(number: int) -> None:
        for batch in prepared[number]:
            await post(number, batch)

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(len(load))))
    return sum(len(b) for batches in load for b in batches) / (time.monotonic() - started)


async def copy_rate(dsn: str, load: Load, owners: dict[str, Any]) -> float:
    def row(t: dict[str, Any]) -> tuple[Any, ...]:
        values = {
            **t,
            "customer_id": owners[t["account_number"]],
            "amount": Decimal(t["amount"]),
            "balance_after": Decimal(t["amount"]),
            "booked_at": datetime.fromisoformat(t["booked_at"]),
        }
        return tuple(values.get(column) for column in TRANSACTION_COLUMNS)

    rows = [[[row(t) for t in batch] for batch in batches] for batches in load]
    connections = [await asyncpg.connect(dsn) for _ in load]

    async def post(client: int, records: list[tuple[Any, ...]]) -> None:
        async with connections[client].transaction():
            await connections[client].copy_records_to_table(
                "bench_copy",
                records=records,
                columns=list(TRANSACTION_COLUMNS),
                schema_name="customer",
            )

    try:
        return await _side_by_side(load, rows, post)
    finally:
        for connection in connections:
            await connection.close()


async def statements_rate(settings: Settings, load: Load) -> float:
    validated = [[TransactionBatch(transactions=batch) for batch in batches] for batches in load]
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: settings.event_source})

    async def post(_: int, transactions: TransactionBatch) -> None:
        async with sessions() as session, session.begin():
            await ingest_transactions(
                session, transactions, limit=1000, zone=settings.bank_time_zone
            )

    try:
        return await _side_by_side(load, validated, post)
    finally:
        await engine.dispose()


async def service_rate(base: str, load: Load) -> float:
    # Encoded before the clock starts, as the statements' batches are validated before it: a
    # channel's JSON is its own work, on its own machine, and here it would take the CPU the
    # service and its database share (1.3 ms a batch).
    bodies = [
        [json.dumps({"transactions": batch}).encode() for batch in batches] for batches in load
    ]
    limits = httpx.Limits(max_connections=len(load))
    headers = {**development_bearer(), "Content-Type": "application/json"}
    async with httpx.AsyncClient(
        base_url=base, timeout=120, limits=limits, headers=headers
    ) as client:

        async def post(_: int, body: bytes) -> None:
            answer = await client.post("/v1/transactions", content=body)
            assert answer.status_code == 200, answer.text[:300]

        return await _side_by_side(load, bodies, post)


# What is still to do after a load, read from the database itself: the outbox rows not yet
# relayed, and how far the service's consumer group is behind the local bus's heads on the
# topics it reads. (The /metrics gauges are refreshed by the relay's own rounds, so they can
# read 0 between two rounds while rows still wait.)
_BACKLOG = """
SELECT (SELECT count(*) FROM customer.outbox WHERE published_at IS NULL)
     + (SELECT coalesce(sum(h.next_offset - coalesce(o.next_offset, 0)), 0)
        FROM crm_bus.partition_heads h
        LEFT JOIN crm_bus.consumer_offsets o
          ON o.group_id = $1 AND o.topic = h.topic AND o.partition = h.partition
        WHERE h.topic IN (SELECT topic FROM crm_bus.consumer_offsets WHERE group_id = $1))
"""


async def drained_after(dsn: str, timeout: float, *, group: str = "crm-customer") -> float:
    """Seconds until the outbox is fully relayed and the service's consumer has caught up,
    or -1 if not within ``timeout``."""
    started = time.monotonic()
    connection = await asyncpg.connect(dsn)
    try:
        while time.monotonic() - started < timeout:
            if await connection.fetchval(_BACKLOG, group) == 0:
                return time.monotonic() - started
            await asyncio.sleep(0.05)
        return -1.0
    finally:
        await connection.close()


WAYS = ("copy", "statements", "service")


@dataclass
class IngestFigures:
    """Rates (transactions/s) per number of clients and way, one per round, and how long the
    service took to drain after each of its rounds."""

    rates: dict[tuple[int, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    drained: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))

    def rate(self, clients: int, way: str) -> float:
        return statistics.median(self.rates[(clients, way)])


async def measure(
    *,
    settings: Settings,
    dsn: str,
    service_url: str,
    accounts: list[tuple[str, str, str]],
    owners: dict[str, Any],
    clients: list[int],
    batches: int,
    rounds: int,
    drain_timeout: float,
) -> IngestFigures:
    """Alternate the three ways, ``rounds`` times for each number of clients, in the reverse
    order every other round, so that whatever one way leaves behind in the database (pages to
    write back, tables to analyse) falls on each way alike. After each round that wrote
    events, wait until they are relayed and consumed (timed for the service's), so that no
    round pays for the relay and consumer of the one before."""
    figures = IngestFigures()
    seed = 0
    for count in clients:
        for round_number in range(rounds):
            for way in WAYS if round_number % 2 == 0 else WAYS[::-1]:
                seed += 1
                load = fresh_load(accounts, clients=count, batches=batches, seed=seed)
                if way == "copy":
                    rate = await copy_rate(dsn, load, owners)
                elif way == "statements":
                    rate = await statements_rate(settings, load)
                else:
                    rate = await service_rate(service_url, load)
                figures.rates[(count, way)].append(rate)
                if way != "copy":
                    drained = await drained_after(dsn, drain_timeout)
                    if way == "service":
                        figures.drained[count].append(drained)
    return figures


def report(figures: IngestFigures, *, batches: int) -> None:
    print(f"ingest of {batches:,} transactions a round (median of the rounds, transactions/s)")
    print(
        f"{'clients':<9}{'COPY':>10}{'statements':>12}{'service':>10}"
        f"{'service/statements':>20}{'service/COPY':>14}{'drained after (s)':>19}"
    )
    for count in sorted(figures.drained):
        rate = {way: figures.rate(count, way) for way in WAYS}
        drained = max(figures.drained[count])
        print(
            f"{count:<9}{rate['copy']:>10.0f}{rate['statements']:>12.0f}{rate['service']:>10.0f}"
            f"{rate['service'] / rate['statements']:>20.2f}{rate['service'] / rate['copy']:>14.2f}"
            f"{drained:>19.1f}"
        )
