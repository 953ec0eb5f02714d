"""A consumer's run of revaluations, the design against the path it replaced, side by side.

The design (``services.customer.valuation.consumers``, the handler the customer service's
consumer runs): the run's customers decided from plain rows, the ones whose segments stand
stamped in one statement, only the moving ones valued through ``revalue_customer``. The
baseline is what a run did before (commit ``657888c``): every customer's inputs loaded as
objects and each valued through ``revalue_customer``, its ``valued_at`` written by the unit
of work.

Loads a synthetic bank through the customer service's API (its consumer values everyone),
stops the service, then times runs of ``--run`` customers, each one transaction as the
consumer's (locks, reads, decisions, writes, commit), in alternating rounds over the same
customers. Prints runs a second, this process's CPU a customer and the ratio.

    .venv/bin/python -m bench.valuation_run [--customers 2000] [--run 100] [--rounds 6]

The machine is shared and noisy: read the ratio; the absolute figures move run to run.
"""

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.processes import BENCH_DATABASE, answering, bench_postgres, start_quietly
from contracts.base import DomainEvent
from contracts.catalogue import EventType
from contracts.examples import EXAMPLES
from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from crm.synthetic import SyntheticBank
from crm.synthetic_load import load_synthetic_bank
from services.customer.app import MIGRATIONS
from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.valuation.consumers import build_batch_handler, build_handlers
from services.customer.valuation.service import revalue_customer, valuation_inputs
from shared.auth.tokens import development_bearer
from shared.db import create_engine, create_sessionmaker
from shared.envelope import EventEnvelope
from shared.logging import configure_logging
from shared.migrations import upgrade
from shared.outbox import EVENT_SOURCE, events_written_together

BIN = Path(sys.executable).parent
Run = Callable[[AsyncSession, list[uuid.UUID], datetime], Awaitable[None]]


def _posted(customer_id: uuid.UUID) -> DomainEvent:
    """A transaction event of the customer: the handler reads only whom it asks to value."""
    return EXAMPLES[EventType.TRANSACTION_POSTED].model_copy(update={"customer_id": customer_id})


def design(settings: Settings) -> Run:
    handle_run = build_batch_handler(settings, handlers=build_handlers(settings))

    async def run(session: AsyncSession, customers: list[uuid.UUID], at: datetime) -> None:
        items = [
            (_posted(customer_id), EventEnvelope(str(uuid.uuid4()), "bench", "bench", "", at))
            for customer_id in customers
        ]
        await handle_run(session, items)

    return run


def before_657888c(settings: Settings) -> Run:
    async def run(session: AsyncSession, customers: list[uuid.UUID], at: datetime) -> None:
        ordered = sorted(customers)
        await customers_repository.lock_customers(session, ordered)
        inputs = await valuation_inputs(session, ordered, at=at)
        async with events_written_together(session):
            for customer_id in ordered:
                await revalue_customer(
                    session,
                    customer_id,
                    settings=settings,
                    at=at,
                    unless_valued_since=at,
                    inputs=inputs,
                )

    return run


async def _load(postgres: EmbeddedPostgres, args: argparse.Namespace) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_DATABASE_URL=postgres.url(BENCH_DATABASE),
        CRM_CUSTOMER_PORT=str(port),
        CRM_LOG_LEVEL="WARNING",
    )
    service = start_quietly([str(BIN / "crm"), "serve", "customer"], env)
    try:
        url = f"http://127.0.0.1:{port}"
        await answering(f"{url}/readyz")
        bank = SyntheticBank(
            seed=7,
            customers=args.customers,
            transactions=args.customers * 50,
            end_date=date.today(),
        )
        headers = development_bearer()
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            await load_synthetic_bank(client, bank)
    finally:
        service.terminate()
        service.wait(timeout=30)


async def _time(
    sessions: async_sessionmaker[AsyncSession], run: Run, runs: list[list[uuid.UUID]]
) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds for the runs, each in a transaction."""
    wall, cpu = time.perf_counter(), time.process_time()
    for customers in runs:
        async with sessions() as session, session.begin():
            await run(session, customers, datetime.now(UTC))
    return time.perf_counter() - wall, time.process_time() - cpu


async def main(args: argparse.Namespace, postgres: EmbeddedPostgres) -> None:
    # The synthetic bank has no managers: each tier move that asks for one says so.
    configure_logging(level="ERROR")
    settings = Settings(database_url=postgres.url(BENCH_DATABASE))
    await upgrade(settings, MIGRATIONS)
    started = time.monotonic()
    await _load(postgres, args)
    print(f"loaded {args.customers} customers in {time.monotonic() - started:.0f} s", flush=True)
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: settings.event_source})
    try:
        async with sessions() as session:
            ids = list(
                await session.scalars(text("SELECT id FROM customers WHERE status = 'active'"))
            )
        random.Random(11).shuffle(ids)
        runs = [ids[i : i + args.run] for i in range(0, len(ids), args.run)]
        paths = {"design": design(settings), "before": before_657888c(settings)}
        # Everyone valued once by each path, so that the rounds find what a steady day finds.
        for run in paths.values():
            await _time(sessions, run, runs)
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, run in paths.items():
                figures[name].append(await _time(sessions, run, runs))
    finally:
        await engine.dispose()
    rates = {}
    for name, rounds in figures.items():
        wall = sorted(w for w, _ in rounds)[len(rounds) // 2]
        cpu = sorted(c for _, c in rounds)[len(rounds) // 2]
        rates[name] = len(runs) / wall
        print(
            f"{name:<7} {rates[name]:7.1f} runs of {args.run}/s, this process's CPU "
            f"{cpu / len(ids) * 1e6:6.0f} µs a customer (medians of {len(rounds)} rounds)"
        )
    print(f"design / before: {rates['design'] / rates['before']:.2f}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--run", type=int, default=100, help="customers a run")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds of each path")
    args = parser.parse_args()
    with bench_postgres() as postgres:
        asyncio.run(main(args, postgres))


if __name__ == "__main__":
    run()
