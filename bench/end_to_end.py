"""From the bank's transaction to the action: the whole way a user feels, on both buses.

A channel posts transaction batches at a steady ``--rate`` (a batch every ``--tick-ms``), one
transaction in ``1 / --share`` a large withdrawal on a customer of its own; the customer
service commits it, its relay publishes it, the detector raises the opportunity, and a watcher
reads `GET /v1/opportunities` every ``--watch-ms`` as a screen would. For each firing it times
the POST's answer to the opportunity being readable, and splits that into hops from the
services' own rows: the answer to the relay's round (``outbox.published_at``), the round to
the start of the detector's transaction that opened the opportunity (the bus, the consumer's
poll), the detector's transaction (from its start to its commit, PostgreSQL's commit
timestamp), and the commit to readable (on average half of the watcher's interval and its
read, whose own latency is printed too). It checks that no firing was lost or doubled (the
rule's control group, held out by design, counted too). The phase starts once every outbox
and consumer has caught up with the preparation (the services' metrics say so).

- ``local``: the embedded default as a user runs it, `crm run`: the four services in one
  process on the local bus, the detector's worker in a second one, PostgreSQL from the wheel.
- ``local-one-process``, the baseline: `crm run --one-process`, the detector's worker on the
  services' event loop too; the others' p50 is printed against it.
- ``kafka``: the customer and events services as the distributed topology runs them
  (docker-compose.yml: each service's API and worker apart), each with its own database, on a
  real broker. ``kafka-events-whole`` runs the events service in one process, as that
  topology did before.

The phase prints where all the CPU went (each process, PostgreSQL's backends, the broker, the
load) and how busy the cores were; the run begins with a fixed loop's time, to tell a slower
machine from slower code when two days' figures differ.

    .venv/bin/python -m bench.end_to_end [--topology local-one-process local kafka
                                          kafka-events-whole]
                                         [--rate 1000] [--seconds 30]
                                         [--share 0.02] [--tick-ms 20] [--watch-ms 10]

Read the hop shares first: they say where the time goes; the absolute figures move with the
machine's load.
"""

import argparse
import asyncio
import functools
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import cpu
from bench import end_to_end_load as load
from bench.processes import answering, start_quietly
from crm.infra.kafka import KafkaBroker, free_port
from crm.infra.postgres import EmbeddedPostgres
from crm.operations import WORKERS_APART
from services.customer.app import MIGRATIONS as CUSTOMER_MIGRATIONS
from services.customer.config import Settings as CustomerSettings
from services.events.app import MIGRATIONS as EVENTS_MIGRATIONS
from services.events.config import Settings as EventsSettings
from shared.auth.tokens import development_bearer
from shared.migrations import upgrade

CRM = Path(sys.executable).with_name("crm")
WARM_UP_SECONDS = 3.0
# The detector's commit, for its hop: PostgreSQL keeps each transaction's commit time.
COMMIT_TIMES = {"track_commit_timestamp": "on"}


@dataclass(frozen=True)
class Topology:
    customer_url: str
    events_url: str
    customer_dsn: str
    events_dsn: str
    pids: tuple[int, ...]  # the services' processes, whose CPU time the phase reports
    # Every process's metrics, API and workers: the phase starts once none has a backlog.
    metrics_urls: tuple[str, ...]
    servers: dict[str, int]  # PostgreSQL's postmaster, the broker: their CPU is reported too


def _servers(postgres: EmbeddedPostgres, broker: KafkaBroker | None = None) -> dict[str, int]:
    found = {"PostgreSQL": postgres.postmaster_pid(), "the broker": broker.pid if broker else None}
    return {name: pid for name, pid in found.items() if pid is not None}


def _metrics_ports(ports: dict[str, int], workers: dict[str, int], one_process: bool) -> list[int]:
    """`crm run`'s four APIs and the workers it runs apart (the others run beside the APIs)."""
    return [*ports.values(), *([] if one_process else [workers[w] for w in WORKERS_APART])]


def _metrics_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/metrics"


def _dsn(postgres: EmbeddedPostgres, database: str) -> str:
    return postgres.url(database).replace("postgresql+asyncpg", "postgresql")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _quiet_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env["CRM_LOG_LEVEL"] = "WARNING"
    return env


@contextmanager
def embedded(work: Path, *, one_process: bool = False) -> Iterator[Topology]:
    """`crm run` on a PostgreSQL this bench started (`crm run` reuses a running one): the four
    services in one process and the workers of the detector and the customer service in two
    more, or with ``one_process`` all in one. The CPU time counted is the services' process's
    and its children's."""
    postgres = EmbeddedPostgres(work / "pg", port=free_port(), settings=COMMIT_TIMES)
    postgres.start()
    ports = {name: free_port() for name in ("customer", "events", "complaints", "contact_center")}
    env = _quiet_env()
    workers = {name: free_port() for name in ports}
    env.update({f"CRM_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    env.update({f"CRM_{name.upper()}_WORKER_PORT": str(port) for name, port in workers.items()})
    command = [str(CRM), "run", "--data-dir", str(postgres.data_dir)]
    command += ["--pg-port", str(postgres.port), *(["--one-process"] if one_process else [])]
    processes = [start_quietly(command, env)]
    try:
        yield Topology(
            f"http://127.0.0.1:{ports['customer']}",
            f"http://127.0.0.1:{ports['events']}",
            _dsn(postgres, "crm"),
            _dsn(postgres, "crm"),
            tuple(p.pid for p in processes),
            tuple(_metrics_url(port) for port in _metrics_ports(ports, workers, one_process)),
            _servers(postgres),
        )
    finally:
        _stop(processes)
        postgres.stop()


# The distributed topology's processes (docker-compose.yml, deploy/k8s): a service and the
# part of it one process runs (None: the whole service).
DISTRIBUTED: tuple[tuple[str, str | None], ...] = (
    ("customer", "api"),
    ("customer", "worker"),
    ("events", "api"),
    ("events", "worker"),
)


@contextmanager
def on_kafka(
    work: Path, processes_of: tuple[tuple[str, str | None], ...] = DISTRIBUTED
) -> Iterator[Topology]:
    """The customer and events services as the distributed topology runs them, each with a
    database of its own, on a real broker."""
    postgres = EmbeddedPostgres(work / "pg", port=free_port(), settings=COMMIT_TIMES)
    broker = KafkaBroker(work / "kafka")
    postgres.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        broker.start()
        for database in ("e2e_customer", "e2e_events"):
            postgres.ensure_database(database)
        asyncio.run(_migrate(postgres))
        ports = {name: free_port() for name in ("customer", "events")}
        urls = []
        for name, part in processes_of:
            env = _quiet_env()
            env.update(
                CRM_BUS="kafka",
                CRM_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,
                CRM_DATABASE_URL=postgres.url(f"e2e_{name}"),
                **{f"CRM_{name.upper()}_PORT": str(ports[name])},
            )
            command = [str(CRM), "serve", name]
            port = ports[name]
            if part == "worker":
                port = free_port()
                env[f"CRM_{name.upper()}_WORKER_PORT"] = str(port)
            if part is not None:
                command += ["--part", part]
            processes.append(start_quietly(command, env))
            urls.append(_metrics_url(port))
        yield Topology(
            f"http://127.0.0.1:{ports['customer']}",
            f"http://127.0.0.1:{ports['events']}",
            _dsn(postgres, "e2e_customer"),
            _dsn(postgres, "e2e_events"),
            tuple(p.pid for p in processes),
            tuple(urls),
            _servers(postgres, broker),
        )
    finally:
        _stop(processes)
        broker.stop()
        postgres.stop()


async def _migrate(postgres: EmbeddedPostgres) -> None:
    await upgrade(CustomerSettings(database_url=postgres.url("e2e_customer")), CUSTOMER_MIGRATIONS)
    await upgrade(EventsSettings(database_url=postgres.url("e2e_events")), EVENTS_MIGRATIONS)


async def _phase(
    customer: httpx.AsyncClient,
    events: httpx.AsyncClient,
    accounts: load.Accounts,
    args: argparse.Namespace,
    *,
    run: str,
    seconds: float,
) -> load.LoadResult:
    """A steady load with the watcher beside it; waits up to a minute for the last firings."""
    result = load.LoadResult()
    stop = asyncio.Event()
    watcher = asyncio.create_task(load.watch(events, result, stop, every=args.watch_ms / 1000))
    try:
        await load.steady_load(
            customer,
            accounts,
            run=run,
            rate=args.rate,
            seconds=seconds,
            share=args.share,
            tick=args.tick_ms / 1000,
            result=result,
        )
        # About a tenth is held out (the control group) and never readable: wait for the rest.
        expected = math.floor(len(result.firings) * 0.8)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            readable = sum(1 for f in result.firings.values() if f.readable is not None)
            if readable >= expected:
                await asyncio.sleep(2)  # the stragglers above the floor
                break
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await watcher
    return result


async def measure(
    topology: Topology, bus: str, args: argparse.Namespace
) -> tuple[list[str], float]:
    """The phase's lines and its p50 from answer to readable, in ms."""
    await answering(f"{topology.customer_url}/readyz", timeout=120)
    await answering(f"{topology.events_url}/readyz", timeout=120)
    headers = development_bearer()
    firings = math.ceil((args.seconds + WARM_UP_SECONDS) * args.rate * args.share)
    async with (
        httpx.AsyncClient(base_url=topology.customer_url, headers=headers, timeout=60) as customer,
        httpx.AsyncClient(base_url=topology.events_url, headers=headers, timeout=60) as events,
    ):
        started = time.monotonic()
        accounts = await load.prepare(customer, customers=math.ceil(firings / 0.6) + 50)
        print(
            f"[{bus}] prepared {len(accounts.firing)} firing and {len(accounts.ordinary)} "
            f"ordinary accounts in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        # The preparation's registrations and deposits reach every consumer group; those
        # without a batch path take them one transaction at a time, and a backlog left there
        # took most of a core through the first seconds of the phase (py-spy).
        settled = await load.settled(topology.metrics_urls, timeout=300)
        print(f"[{bus}] every outbox and consumer caught up in {settled:.0f} s", flush=True)
        # A warm-up on other customers: the first requests pay for connections and caches.
        warm = await _phase(customer, events, accounts, args, run="warm", seconds=WARM_UP_SECONDS)
        measured = load.Accounts(accounts.ordinary, accounts.firing[len(warm.firings) :])
        account = cpu.CpuAccount(topology.pids, topology.servers)
        ended = await load.ended_transactions(topology.customer_dsn)
        account.start()
        result = await _phase(customer, events, measured, args, run="e2e", seconds=args.seconds)
        used, wall = account.stop()
        ended = {
            database: count - ended.get(database, 0)
            for database, count in (await load.ended_transactions(topology.customer_dsn)).items()
        }
    lost, doubled = await load.read_hops(topology.customer_dsn, topology.events_dsn, result)
    services = account.services_seconds(used)
    lines = [
        *load.report(bus, result, lost, doubled),
        f"[{bus}] the services' processes used {services:.1f} CPU s in the phase "
        f"({services / result.posted * 1e6:.0f} µs a transaction, the watcher's reads included)",
        cpu.report(f"[{bus}]", used, wall, result.posted),
        f"[{bus}] PostgreSQL's transactions in the phase, a second: "
        + ", ".join(f"{db} {n / wall:.0f}" for db, n in sorted(ended.items()) if n > 10),
    ]
    return lines, load.median_to_readable(result)


BASELINE = "local-one-process"


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--topology",
        nargs="+",
        choices=[BASELINE, "local", "kafka", "kafka-events-whole"],
        default=[BASELINE, "local", "kafka"],
    )
    parser.add_argument("--rate", type=int, default=1000, help="transactions a second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--share", type=float, default=0.02, help="of transactions that fire")
    parser.add_argument("--tick-ms", type=float, default=20.0, help="a batch this often")
    parser.add_argument("--watch-ms", type=float, default=10.0, help="the watcher reads this often")
    args = parser.parse_args()
    topologies: dict[str, Callable[[Path], AbstractContextManager[Topology]]] = {
        BASELINE: functools.partial(embedded, one_process=True),
        "local": embedded,
        "kafka": on_kafka,
        # As the distributed topology ran before the events service's worker went apart.
        "kafka-events-whole": functools.partial(
            on_kafka, processes_of=(*DISTRIBUTED[:2], ("events", None))
        ),
    }
    # Before any server starts: the day's core, to compare with the day of another run.
    lines = [cpu.machine_line()]
    print(lines[0], flush=True)
    medians: dict[str, float] = {}
    for name in args.topology:
        with tempfile.TemporaryDirectory() as work, topologies[name](Path(work)) as topology:
            measured, medians[name] = asyncio.run(measure(topology, name, args))
            lines += measured
            print("\n".join(measured), flush=True)
    if BASELINE in medians:
        lines += [
            f"[{name}] p50 against {BASELINE}: {p50 / medians[BASELINE]:.2f}"
            for name, p50 in medians.items()
            if name != BASELINE
        ]
    print("\n".join(lines))


if __name__ == "__main__":
    run()
