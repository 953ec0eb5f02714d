"""The baseline for the 360 view: bare Starlette and asyncpg doing the same reads as the
customer service's view (customer, accounts, 10 recent transactions, 10 recent interactions,
six months of monthly figures), straight SQL, JSON out. No validation, masking, ORM, metrics
or events: what the service's extra work is measured against.

    .venv/bin/python -m bench.baseline_customer_app --dsn postgresql://... --port 9001
"""

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

QUERIES = {
    "customer": "SELECT * FROM customer.customers WHERE id = $1",
    "accounts": "SELECT * FROM customer.accounts WHERE customer_id = $1 ORDER BY opened_on",
    "transactions": "SELECT * FROM customer.transactions WHERE customer_id = $1"
    " ORDER BY booked_at DESC LIMIT 10",
    "interactions": "SELECT * FROM customer.interactions WHERE customer_id = $1"
    " ORDER BY occurred_at DESC LIMIT 10",
    "figures": "SELECT * FROM customer.monthly_flows WHERE customer_id = $1 AND month >= $2"
    " ORDER BY month DESC, currency",
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value) if not isinstance(value, str | int | float | bool | type(None)) else value


def create_app(dsn: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=10)
        yield
        await pool.close()

    async def view(request: Request) -> Response:
        assert pool is not None
        customer_id = request.path_params["customer_id"]
        since = (datetime.now(UTC).date().replace(day=1) - timedelta(days=150)).replace(day=1)
        async with pool.acquire() as connection:
            customer = await connection.fetchrow(QUERIES["customer"], customer_id)
            if customer is None:
                return Response(status_code=404)
            body = {
                "customer": dict(customer),
                "accounts": [
                    dict(r) for r in await connection.fetch(QUERIES["accounts"], customer_id)
                ],
                "recent_transactions": [
                    dict(r) for r in await connection.fetch(QUERIES["transactions"], customer_id)
                ],
                "recent_interactions": [
                    dict(r) for r in await connection.fetch(QUERIES["interactions"], customer_id)
                ],
                "monthly_figures": [
                    dict(r) for r in await connection.fetch(QUERIES["figures"], customer_id, since)
                ],
            }
        return Response(
            json.dumps(body, default=_plain, ensure_ascii=False), media_type="application/json"
        )

    return Starlette(
        routes=[Route("/v1/customers/{customer_id:uuid}/view", view)], lifespan=lifespan
    )


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.dsn), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    run()
