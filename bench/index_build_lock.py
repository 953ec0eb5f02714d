"""How long postings wait while customer 0012 indexes ``transactions``: its revision as shipped
in 0.1.0 (the index built in the revision's transaction) against today's (CONCURRENTLY).

Each run fills a fresh database at revision 0011 with ``--rows`` transactions, then posts one
transaction at a time on its own connection while the migration runs, and reports the longest
wait of a posting during it. Both variants run on the same embedded PostgreSQL, one after the
other.

    .venv/bin/python -m bench.index_build_lock [--rows 2000000]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import MIGRATIONS
from services.customer.config import Settings
from shared.migrations import upgrade

_COLUMNS = (
    "transaction_id, customer_id, account_number, direction, amount, currency, balance_after,"
    " kind, channel, booked_at"
)
FILL = f"""
INSERT INTO customer.transactions ({_COLUMNS})
SELECT 'B-' || g, gen_random_uuid(), '6222' || (g % 100000), 'credit', 1, 'CNY', g, 'deposit',
       'branch', now()
FROM generate_series(1, $1) g
"""
POST = f"""
INSERT INTO customer.transactions ({_COLUMNS})
VALUES ($1, gen_random_uuid(), '62220000', 'credit', 1, 'CNY', 1, 'deposit', 'branch', now())
"""
# Revision 0012 as released in 0.1.0: the columns and the index in one transaction.
IN_TRANSACTION = """
BEGIN;
ALTER TABLE customer.transactions ADD COLUMN reversal_id varchar(64);
ALTER TABLE customer.transactions ADD COLUMN reversal_reason varchar(30);
ALTER TABLE customer.transactions ADD COLUMN reversed_at timestamptz;
CREATE UNIQUE INDEX uq_transactions_reversal_id ON customer.transactions (reversal_id)
    WHERE reversal_id IS NOT NULL;
UPDATE customer.alembic_version SET version_num = '0012';
COMMIT;
"""


@dataclass(frozen=True)
class Outcome:
    variant: str
    migration_seconds: float
    waits: list[float]  # seconds, of each posting made while the migration ran

    def line(self) -> str:
        longest, median = max(self.waits) * 1000, statistics.median(self.waits) * 1000
        return (
            f"{self.variant:<16} migration {self.migration_seconds:5.2f} s; "
            f"{len(self.waits):4d} postings meanwhile, longest wait {longest:6.0f} ms,"
            f" median {median:5.1f} ms"
        )


async def _measure(
    server: EmbeddedPostgres, variant: str, rows: int, migrate: Callable[[str], Awaitable[None]]
) -> Outcome:
    server.ensure_database(f"bench_{variant}")
    url = server.url(f"bench_{variant}")
    await upgrade(Settings(database_url=url), MIGRATIONS, "0011")
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    poster = await asyncpg.connect(dsn)
    try:
        await poster.execute(FILL, rows)
        await poster.execute("VACUUM ANALYZE customer.transactions")
        waits: list[float] = []
        migrating = asyncio.Event()
        finished = asyncio.Event()

        async def post() -> None:
            while not finished.is_set():
                started = time.perf_counter()
                await poster.execute(POST, f"P-{uuid.uuid4().hex}")
                if migrating.is_set():
                    waits.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)

        posting = asyncio.create_task(post())
        await asyncio.sleep(0.5)
        migrating.set()
        started = time.perf_counter()
        await migrate(url)
        took = time.perf_counter() - started
        finished.set()
        await posting
        valid = await poster.fetchval(
            "SELECT indisvalid FROM pg_index"
            " WHERE indexrelid = 'customer.uq_transactions_reversal_id'::regclass"
        )
        assert valid, f"{variant}: the index is not valid"
        return Outcome(variant, took, waits)
    finally:
        await poster.close()


async def _in_transaction(url: str) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(IN_TRANSACTION)
    finally:
        await connection.close()


async def _concurrently(url: str) -> None:
    await upgrade(Settings(database_url=url), MIGRATIONS, "0012")


async def main(rows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-index-") as data:
        server = EmbeddedPostgres(Path(data) / "pg", port=free_port())
        server.start()
        try:
            print(f"customer 0011 -> 0012 on {rows:,} transactions")
            for variant, migrate in (
                ("in transaction", _in_transaction),
                ("concurrently", _concurrently),
            ):
                print((await _measure(server, variant.replace(" ", "_"), rows, migrate)).line())
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Postings' waits while 0012 builds its index")
    parser.add_argument("--rows", type=int, default=2_000_000)
    asyncio.run(main(parser.parse_args().rows))
