"""The screen pop against its own dependency, side by side in one run.

Starts the customer and contact-centre services (`crm serve`, real HTTP on loopback, one
embedded PostgreSQL), registers ``--customers`` customers with a phone and an account, waits
until the contact centre has learned them from the events, then in alternating rounds:

* baseline: ``GET /v1/customers/{id}/view`` at the customer service, the call the screen pop
  itself makes;
* subject: ``POST /v1/calls`` at the contact centre with the customer's number: identify from
  the projection, fetch that view, queue and route the call, answer with the pop.

Each measured call is then hung up (not timed), so the queue stays as it was. Prints p50/p99
of each and their ratio; the issue's aim is a pop p99 under 100 ms.

    .venv/bin/python -m bench.screen_pop [--customers 200] [--calls 2000]

The machine is shared and noisy: read the ratios; the absolute figures move run to run.
"""

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from bench.processes import answering, start_quietly
from bench.view_phase import quantile
from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from shared.auth.tokens import development_bearer
from shared.migrations import upgrade

BIN = Path(sys.executable).parent

# A development token of the system role: the benchmarks run against the embedded default.
AUTHORISED = development_bearer()


async def _register(customers: httpx.AsyncClient, count: int) -> list[tuple[str, str]]:
    made = []
    for n in range(count):
        phone = f"138{n:08d}"
        body = {
            "kind": "individual", "name": "王芳", "consent": {"phone": True},
            "profile": {"id_type": "passport", "id_number": f"E{n:08d}", "phones": [phone]},
        }  # fmt: skip
        created = (await customers.post("/v1/customers", json=body)).json()
        await customers.post(
            "/v1/accounts",
            json={
                "account_number": f"6222{n:012d}", "customer_id": created["id"],
                "product_type": "current", "product_code": "CUR-STD", "currency": "CNY",
                "opened_on": "2024-01-15",
            },
        )  # fmt: skip
        made.append((created["id"], phone))
    return made


async def _learned(dsn: str, count: int, timeout: float = 120) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            known = await connection.fetchval("SELECT count(*) FROM contact_center.known_customers")
            if known >= count:
                return
            await asyncio.sleep(0.5)
    finally:
        await connection.close()
    raise RuntimeError("the contact centre did not learn the customers in time")


async def run(customer_count: int, calls: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        server = EmbeddedPostgres(Path(scratch) / "data", port=free_port())
        server.start()
        processes = []
        try:
            server.ensure_database("bench")
            url = server.url("bench")
            for name in ("customer", "contact_center"):
                spec = SERVICES[name]
                await upgrade(spec.settings_class(database_url=url), spec.migrations)
            customer_port, contact_port = free_port(), free_port()
            env = {
                **os.environ, "CRM_DATABASE_URL": url, "CRM_LOG_LEVEL": "WARNING",
                "CRM_CUSTOMER_PORT": str(customer_port),
                "CRM_CONTACT_CENTER_PORT": str(contact_port),
                "CRM_CONTACT_CENTER_CUSTOMER_SERVICE_URL": f"http://127.0.0.1:{customer_port}",
            }  # fmt: skip
            for name in ("customer", "contact_center"):
                processes.append(start_quietly([str(BIN / "crm"), "serve", name], env))
            customer_url = f"http://127.0.0.1:{customer_port}"
            contact_url = f"http://127.0.0.1:{contact_port}"
            await answering(f"{customer_url}/readyz")
            await answering(f"{contact_url}/readyz")
            async with (
                httpx.AsyncClient(
                    base_url=customer_url, timeout=30, headers=AUTHORISED
                ) as customers,
                httpx.AsyncClient(base_url=contact_url, timeout=30, headers=AUTHORISED) as contact,
            ):
                known = await _register(customers, customer_count)
                await _learned(url.replace("+asyncpg", ""), customer_count)
                baseline: list[float] = []
                subject: list[float] = []
                rng = random.Random(1)
                per_round = calls // rounds
                for _ in range(rounds):
                    for _ in range(per_round):
                        customer_id, _phone = rng.choice(known)
                        started = time.perf_counter()
                        view = await customers.get(f"/v1/customers/{customer_id}/view")
                        baseline.append(time.perf_counter() - started)
                        assert view.status_code == 200
                    for _ in range(per_round):
                        _, phone = rng.choice(known)
                        started = time.perf_counter()
                        arrived = await contact.post(
                            "/v1/calls", json={"dialled_number": "95588", "caller_number": phone}
                        )
                        subject.append(time.perf_counter() - started)
                        assert arrived.status_code == 201, arrived.text
                        call_id = arrived.json()["call"]["id"]
                        await contact.post(f"/v1/calls/{call_id}/hang-up", json={})
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=15)
            server.stop()
    base50, base99 = quantile(baseline, 0.5), quantile(baseline, 0.99)
    pop50, pop99 = quantile(subject, 0.5), quantile(subject, 0.99)
    print(
        f"customers {customer_count}, {len(subject)} calls, {len(baseline)} views, {rounds} rounds"
    )
    print(f"customer view (baseline)  p50 {base50 * 1000:6.1f} ms  p99 {base99 * 1000:6.1f} ms")
    print(f"screen pop (POST /calls)  p50 {pop50 * 1000:6.1f} ms  p99 {pop99 * 1000:6.1f} ms")
    print(f"ratio pop/view            p50 {pop50 / base50:6.2f}     p99 {pop99 / base99:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(run(args.customers, args.calls, args.rounds))


if __name__ == "__main__":
    main()
