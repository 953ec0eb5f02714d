"""A bank grown large, for measuring what history costs: the customers loaded through the API
cloned by SQL until the database holds the asked number of transactions.

The clones are history only (no events, no identifiers): what they add is what a bank's years
add to the tables the ingest and the 360 view read, their indexes included. Cloning by SQL
takes a minute where posting five million transactions through the API would take ten.
"""

import time

import asyncpg

# Per table: the columns a clone gets new values for (an SQL expression over the source row
# `s` and the clone `k`: its number `k.n` and its new customer id `k.id`); every other column
# is copied as it is.
_CLONED = {
    "customers": {"id": "k.id"},
    "accounts": {
        "account_number": "lpad(CAST(k.n AS text), 4, '0') || s.account_number",
        "customer_id": "k.id",
        "card_token": "NULL",
    },
    "transactions": {
        "transaction_id": "'P' || k.n || '-' || s.transaction_id",
        "customer_id": "k.id",
        "account_number": "lpad(CAST(k.n AS text), 4, '0') || s.account_number",
        "reversal_id": "NULL",
    },
    "monthly_flows": {"customer_id": "k.id"},
}
# Which rows of each table are cloned: all but the batches earlier rounds posted.
_KEPT = {"transactions": " WHERE s.transaction_id NOT LIKE 'BENCH-%'"}
# How each table's rows find their customer.
_OWNER = {
    "customers": "id",
    "accounts": "customer_id",
    "transactions": "customer_id",
    "monthly_flows": "customer_id",
}


async def preload(dsn: str, *, transactions: int) -> tuple[int, int, float]:
    """Clone the customers until about ``transactions`` are stored; returns the customers and
    transactions stored, and the seconds it took."""
    started = time.monotonic()
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET search_path TO customer")
        # The loaded bank's own history: not the batches earlier rounds posted.
        held = await connection.fetchval(
            "SELECT count(*) FROM transactions WHERE transaction_id NOT LIKE 'BENCH-%'"
        )
        copies = max(1, round(transactions / max(held, 1)) - 1)
        async with connection.transaction():
            await connection.execute(
                "CREATE TEMP TABLE clone ON COMMIT DROP AS"
                " SELECT c.id AS source, gen_random_uuid() AS id, n"
                " FROM customers c, generate_series(1, $1) AS n",
                copies,
            )
            for table, replaced in _CLONED.items():
                columns = [
                    row["column_name"]
                    for row in await connection.fetch(
                        "SELECT column_name FROM information_schema.columns"
                        " WHERE table_schema = 'customer' AND table_name = $1"
                        " AND is_generated = 'NEVER' AND identity_generation IS NULL"
                        " ORDER BY ordinal_position",
                        table,
                    )
                ]
                values = [replaced.get(column, f"s.{column}") for column in columns]
                # Table and column names come from the constants above and the catalogue.
                await connection.execute(
                    f"INSERT INTO {table} ({', '.join(columns)})"  # nosec B608
                    f" SELECT {', '.join(values)} FROM clone k"
                    f" JOIN {table} s ON s.{_OWNER[table]} = k.source{_KEPT.get(table, '')}"
                )
        await connection.execute("ANALYZE")
        customers = await connection.fetchval("SELECT count(*) FROM customers")
        stored = await connection.fetchval("SELECT count(*) FROM transactions")
    finally:
        await connection.close()
    return customers, stored, time.monotonic() - started
