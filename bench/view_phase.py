"""The 360 view phase of bench/customer_view_ingest.py: the service against a bare Starlette +
asyncpg app doing the same reads (bench/baseline_customer_app.py), in alternating rounds:
closed-loop throughput, then p50/p99 latency paced at half of each one's measured maximum."""

import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx

from shared.auth.tokens import development_bearer

AUTHORISED = development_bearer()
SERVERS = ("service", "baseline")


async def _closed_loop(base: str, ids: list[str], clients: int, seconds: float) -> float:
    done = 0
    stop = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal done
        i = offset
        while time.monotonic() < stop:
            answer = await client.get(f"/v1/customers/{ids[i % len(ids)]}/view")
            assert answer.status_code == 200, answer.text[:200]
            done += 1
            i += clients

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, headers=AUTHORISED
    ) as client:
        started = time.monotonic()
        await asyncio.gather(*(worker(client, n) for n in range(clients)))
        return done / (time.monotonic() - started)


async def _paced(base: str, ids: list[str], rate: float, seconds: float) -> list[float]:
    latencies: list[float] = []

    async def one(client: httpx.AsyncClient, customer_id: str) -> None:
        started = time.perf_counter()
        answer = await client.get(f"/v1/customers/{customer_id}/view")
        latencies.append(time.perf_counter() - started)
        assert answer.status_code == 200

    async with httpx.AsyncClient(base_url=base, timeout=30, headers=AUTHORISED) as client:
        tasks = []
        begin = time.monotonic()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, begin + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(client, ids[n % len(ids)])))
        await asyncio.gather(*tasks)
    return latencies


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] if len(values) > 1 else values[0]


@dataclass
class ViewFigures:
    throughput: dict[str, float]
    latencies: dict[str, list[float]]

    def p99(self, name: str) -> float:
        return quantile(self.latencies[name], 0.99) * 1000

    def report(self) -> None:
        best = self.throughput
        ratio = best["service"] / best["baseline"]
        p50 = {n: quantile(v, 0.5) * 1000 for n, v in self.latencies.items()}
        p99 = {n: quantile(v, 0.99) * 1000 for n, v in self.latencies.items()}
        print(f"{'360 view':<34}{'service':>12}{'baseline':>12}{'ratio':>9}")
        print(
            f"{'  max throughput (req/s)':<34}{best['service']:>12.0f}{best['baseline']:>12.0f}"
            f"{ratio:>9.2f}"
        )
        print(f"{'  p50 at half max rate (ms)':<34}{p50['service']:>12.1f}{p50['baseline']:>12.1f}")
        print(f"{'  p99 at half max rate (ms)':<34}{p99['service']:>12.1f}{p99['baseline']:>12.1f}")
        print(
            f"aim: view ≥ 60% of baseline: {'met' if ratio >= 0.6 else 'NOT met'}; "
            f"view p99 < 25 ms: {'met' if p99['service'] < 25 else 'NOT met'}"
        )


async def measure_view(
    service_url: str,
    baseline_url: str,
    ids: list[str],
    *,
    clients: int,
    seconds: float,
    rounds: int,
) -> ViewFigures:
    urls = {"service": service_url, "baseline": baseline_url}
    throughput: dict[str, list[float]] = {name: [] for name in SERVERS}
    for _ in range(rounds):
        for name in SERVERS:
            throughput[name].append(await _closed_loop(urls[name], ids, clients, seconds))
    best = {name: statistics.median(values) for name, values in throughput.items()}
    latencies = {name: await _paced(urls[name], ids, best[name] / 2, seconds) for name in SERVERS}
    return ViewFigures(best, latencies)
