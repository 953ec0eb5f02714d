"""The end-to-end phase's load, its watcher and its hops (``bench/end_to_end.py`` runs them).

A channel posts a batch every tick at a steady rate; one transaction in ``1 / share`` is a
large withdrawal (``large_withdrawal`` fires on it), each on a customer of its own so that
every firing names one customer and one opportunity. A watcher reads `GET /v1/opportunities`
as a phone agent's screen would, and notes when each firing's opportunity is first readable.
The hops come from the services' own rows afterwards: when the relay's round picked the
event up (the customer outbox's ``published_at``: the round's transaction start) and when the
detector's transaction that opened the opportunity began (the ``created_at`` of the
``opportunity.created`` row it wrote to its own outbox) and when it committed (the commit
timestamp PostgreSQL keeps of the opportunity's row, with ``track_commit_timestamp`` on).
"""

import asyncio
import contextlib
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from crm.synthetic import SyntheticBank
from crm.synthetic_load import load_synthetic_bank

FIRING_RULE = "large_withdrawal"
FIRING_AMOUNT = "150000.00"  # the rule fires from 100,000
FUNDING = "1000000.00"
# A small page: at 1,000 tx/s a 10 ms read finds about one new opportunity in five, and a
# page of 100 (its facts and lineage serialized each time) cost the measured service more
# CPU than the detector did. A page all new is followed to the next.
WATCH_PAGE = 10


@dataclass(frozen=True)
class Accounts:
    ordinary: list[str]
    firing: list[str]  # one account per customer, each used once


@dataclass
class Firing:
    transaction_id: str
    answered: float  # wall clock (time.time()): the services' timestamps are wall clocks too
    readable: float | None = None
    relayed: float | None = None
    decided: float | None = None
    committed: float | None = None

    @property
    def total_ms(self) -> float:
        assert self.readable is not None
        return (self.readable - self.answered) * 1000


@dataclass
class LoadResult:
    firings: dict[str, Firing] = field(default_factory=dict)
    posted: int = 0
    reads_ms: list[float] = field(default_factory=list)  # each of the watcher's reads
    posts_ms: list[float] = field(default_factory=list)  # each batch's POST, as the channel waits
    seconds: float = 0.0
    late_batches: int = 0  # batches that could not start on their tick (the service was slower)


async def prepare(client: httpx.AsyncClient, customers: int) -> Accounts:
    """Customers with one funded CNY current account each, through the API."""
    bank = SyntheticBank(seed=7, customers=customers, transactions=0, end_date=date.today())
    await load_synthetic_bank(client, bank)
    # The firings go to customers who agreed to calls (a retention call to anyone else is
    # suppressed), the ordinary transactions to the others.
    callable_ = {key for key, body in bank.customers() if body.get("consent", {}).get("phone")}
    current = [
        (key in callable_, body["account_number"])
        for key, body in bank.accounts()
        if body["product_type"] == "current" and body["currency"] == "CNY"
    ]
    for start in range(0, len(current), 1000):
        batch = [
            _transaction(number, f"FUND-{number}", "credit", FUNDING, "deposit")
            for _, number in current[start : start + 1000]
        ]
        answer = await client.post("/v1/transactions?answer=compact", json=_body(batch))
        answer.raise_for_status()
    return Accounts(
        ordinary=[number for firing, number in current if not firing],
        firing=[number for firing, number in current if firing],
    )


def _transaction(
    account: str, transaction_id: str, direction: str, amount: str, kind: str
) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "account_number": account,
        "direction": direction,
        "amount": amount,
        "currency": "CNY",
        "kind": kind,
        "channel": "atm",
        "booked_at": datetime.now(UTC).isoformat(),
    }


def _body(transactions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"transactions": transactions}


async def steady_load(
    client: httpx.AsyncClient,
    accounts: Accounts,
    *,
    run: str,
    rate: int,
    seconds: float,
    share: float,
    tick: float,
    result: LoadResult,
) -> None:
    """Post ``rate × tick`` transactions every ``tick`` for ``seconds``, each batch on its own
    schedule (a slow answer does not hold back the next channel's batch), noting each firing
    in ``result`` as its answer arrives (the watcher reads it meanwhile)."""
    per_batch = max(round(rate * tick), 1)
    firing_every = round(1 / share)
    if len(accounts.firing) * firing_every < rate * seconds:
        raise ValueError(f"{len(accounts.firing)} firing accounts are too few: prepare more")
    firing_accounts = iter(accounts.firing)
    started = time.monotonic()
    batches = int(seconds / tick)
    in_flight: set[asyncio.Task[None]] = set()

    async def post(batch: list[dict[str, Any]], firing: list[str]) -> None:
        asked = time.perf_counter()
        answer = await client.post("/v1/transactions", json=_body(batch))
        answered = time.time()
        result.posts_ms.append((time.perf_counter() - asked) * 1000)
        answer.raise_for_status()
        for transaction_id in firing:
            result.firings[transaction_id] = Firing(transaction_id, answered)

    counter = 0
    for n in range(batches):
        due = started + n * tick
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -tick:
            result.late_batches += 1
        batch, firing = [], []
        for _ in range(per_batch):
            counter += 1
            transaction_id = f"E2E-{run}-{counter:08d}"
            if counter % firing_every == 0:
                account = next(firing_accounts)  # StopIteration: prepare more customers
                batch.append(
                    _transaction(account, transaction_id, "debit", FIRING_AMOUNT, "withdrawal")
                )
                firing.append(transaction_id)
            else:
                account = accounts.ordinary[counter % len(accounts.ordinary)]
                batch.append(_transaction(account, transaction_id, "credit", "120.00", "deposit"))
        task = asyncio.create_task(post(batch, firing))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    result.posted = counter
    result.seconds = time.monotonic() - started


# The consumers refresh their lag gauges every five seconds (shared.consumer): a backlog is
# gone once every gauge has read zero for longer than that.
SETTLED_FOR_S = 6.0
_BACKLOG_GAUGES = frozenset({"crm_consumer_lag", "crm_outbox_backlog"})


async def settled(metrics_urls: Sequence[str], *, timeout: float) -> float:
    """Wait until no process has an unpublished event or an unhandled message; returns the
    seconds waited."""
    started = time.monotonic()
    quiet_since: float | None = None
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() - started < timeout:
            backlog = 0.0
            for url in metrics_urls:
                try:
                    exposition = (await client.get(url)).text
                except httpx.TransportError:
                    # `crm run` starts its workers after its APIs answer: not up yet.
                    backlog = math.inf
                    break
                backlog += sum(
                    sample.value
                    for family in text_string_to_metric_families(exposition)
                    if family.name in _BACKLOG_GAUGES
                    for sample in family.samples
                )
            now = time.monotonic()
            quiet_since = (quiet_since or now) if backlog == 0 else None
            if quiet_since is not None and now - quiet_since >= SETTLED_FOR_S:
                return now - started
            await asyncio.sleep(0.5)
    raise TimeoutError(f"the services still had a backlog after {timeout:.0f} s")


async def watch(
    client: httpx.AsyncClient, result: LoadResult, stop: asyncio.Event, *, every: float
) -> None:
    """Read the newest opportunities every ``every`` seconds, as a screen would, and note when
    each firing's opportunity is first there. Follows the cursor while a whole page is new."""
    seen: set[str] = set()
    while not stop.is_set():
        cursor: str | None = None
        while True:
            params = {
                "rule_id": FIRING_RULE,
                "limit": str(WATCH_PAGE),
                **({"cursor": cursor} if cursor else {}),
            }
            asked = time.perf_counter()
            page = (await client.get("/v1/opportunities", params=params)).json()
            now = time.time()
            result.reads_ms.append((time.perf_counter() - asked) * 1000)
            fresh = [item for item in page["items"] if item["id"] not in seen]
            for item in fresh:
                seen.add(item["id"])
                for source in item["lineage"].get("events", []):
                    firing = result.firings.get(source.get("transaction_id", ""))
                    if firing is not None and firing.readable is None:
                        firing.readable = now
            if len(fresh) < len(page["items"]) or not page["next_cursor"]:
                break
            cursor = page["next_cursor"]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def ended_transactions(dsn: str) -> dict[str, int]:
    """Transactions each database has ended so far, committed or rolled back: a request, a
    consumer's poll and a relay's round are one each, so their rate says how often the work
    wakes. (PostgreSQL's statistics lag by up to a second: read over a phase, not a moment.)"""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT datname, xact_commit + xact_rollback AS ended FROM pg_stat_database "
            "WHERE datname IS NOT NULL AND NOT datname LIKE 'template%'"
        )
    finally:
        await connection.close()
    return {row["datname"]: row["ended"] for row in rows}


async def read_hops(customer_dsn: str, events_dsn: str, result: LoadResult) -> tuple[int, int]:
    """Fill each firing's relay and decision times from the services' rows; answer how many
    firings have no opportunity (lost) and how many have more than one (doubled), held-out
    ones (the rule's control group) included."""
    ids = list(result.firings)
    customer = await asyncpg.connect(customer_dsn)
    try:
        for transaction_id, relayed in await customer.fetch(
            "SELECT payload->>'transaction_id', published_at FROM customer.outbox "
            "WHERE event_type = 'crm.transaction.posted.v1' "
            "AND payload->>'transaction_id' = ANY($1::text[])",
            ids,
        ):
            if relayed is not None:
                result.firings[transaction_id].relayed = relayed.timestamp()
    finally:
        await customer.close()
    events = await asyncpg.connect(events_dsn)
    try:
        # The opportunity's own created_at is the event's time (replays decide alike); the
        # outbox row its transaction wrote says when the detector's transaction began.
        rows = await events.fetch(
            "SELECT raised_by->>'transaction_id' AS transaction_id, count(*) AS opened, "
            "min(ob.created_at) AS decided, "
            "min(pg_xact_commit_timestamp(o.xmin)) AS committed "
            "FROM events.opportunities o "
            "CROSS JOIN jsonb_array_elements(o.lineage->'events') raised_by "
            "LEFT JOIN events.outbox ob ON ob.event_type = 'crm.opportunity.created.v1' "
            "AND ob.payload::jsonb->>'opportunity_id' = o.id::text "
            "WHERE o.rule_id = $1 AND raised_by->>'transaction_id' = ANY($2::text[]) "
            "GROUP BY 1",
            FIRING_RULE,
            ids,
        )
    finally:
        await events.close()
    for row in rows:
        if row["decided"] is not None:  # held out: no event, no time
            firing = result.firings[row["transaction_id"]]
            firing.decided = row["decided"].timestamp()
            # The row's xmin is the detector's transaction while nothing has updated the
            # opportunity since (nothing does in this phase); a frozen one has no time.
            if row["committed"] is not None:
                firing.committed = row["committed"].timestamp()
    lost = len(ids) - len(rows)
    doubled = sum(1 for row in rows if row["opened"] > 1)
    return lost, doubled


HOPS = (
    "answer to relay round",
    "relay round to detector",
    "detector's transaction",
    "commit to readable",
)


def _hops(firing: Firing) -> tuple[float, float, float, float] | None:
    readable, relayed = firing.readable, firing.relayed
    decided, committed = firing.decided, firing.committed
    if readable is None or relayed is None or decided is None or committed is None:
        return None
    # The round may start before the answer reaches the channel: the commit came first.
    return (
        max(relayed - firing.answered, 0.0),
        decided - relayed,
        committed - decided,
        readable - committed,
    )


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def median_to_readable(result: LoadResult) -> float:
    read = [f.total_ms for f in result.firings.values() if f.readable is not None]
    return _percentile(read, 0.5) if read else float("nan")


def report(bus: str, result: LoadResult, lost: int, doubled: int) -> list[str]:
    """The phase's lines: the hops' shares first, then the whole way's percentiles."""
    read = [f for f in result.firings.values() if f.readable is not None]
    whole = [_hops(f) for f in read]
    timed = [hops for hops in whole if hops is not None]
    lines = [
        f"[{bus}] posted {result.posted} transactions in {result.seconds:.1f} s "
        f"({result.posted / result.seconds:.0f}/s, {result.late_batches} batches late); "
        f"{len(result.firings)} firings, {len(read)} readable (control group held out), "
        f"lost {lost}, doubled {doubled}"
    ]
    if not timed:
        return [*lines, f"[{bus}] no firing was readable"]
    means = [statistics.mean(hops[i] for hops in timed) for i in range(len(HOPS))]
    for i, name in enumerate(HOPS):
        ms = [hops[i] * 1000 for hops in timed]
        lines.append(
            f"[{bus}]   {name:<24} share {means[i] / sum(means):5.0%}  "
            f"p50 {_percentile(ms, 0.5):7.1f} ms  p99 {_percentile(ms, 0.99):7.1f} ms"
        )
    lines.append(
        f"[{bus}]   the channel's posts: p50 {_percentile(result.posts_ms, 0.5):.1f} ms, "
        f"p99 {_percentile(result.posts_ms, 0.99):.1f} ms ({len(result.posts_ms)} batches)"
    )
    lines.append(
        f"[{bus}]   the watcher's reads: p50 {_percentile(result.reads_ms, 0.5):.1f} ms, "
        f"p99 {_percentile(result.reads_ms, 0.99):.1f} ms ({len(result.reads_ms)} reads)"
    )
    totals = [f.total_ms for f in read]
    lines.append(
        f"[{bus}] answer to readable: p50 {_percentile(totals, 0.5):.1f} ms, "
        f"p99 {_percentile(totals, 0.99):.1f} ms, worst {max(totals):.1f} ms "
        f"(aim: p50 < 50, p99 < 250)"
    )
    return lines
