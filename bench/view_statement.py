"""The 360 view's statement timed inside PostgreSQL, as the service sends it (issue #28: the
view's queries must not slow down with history).

The view over HTTP at half its maximum rate carries the whole machine's noise: its
preloaded/as-loaded p99 ratio was 1.24, 1.45 and 1.08 in three runs of nearly the same code.
Here each sampled customer's view statement runs under ``EXPLAIN (ANALYZE, TIMING OFF)`` on
one connection, a few times over, and PostgreSQL's own planning and execution times are kept:
no HTTP, no Python, no client in them.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.dialects import postgresql

from bench.view_phase import quantile
from services.customer.view.assembly import view_windows
from services.customer.view.repository import VIEW_STATEMENT

REPEAT = 3
_EXPLAIN = "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)"


@dataclass(frozen=True)
class StatementTimes:
    milliseconds: list[float]

    def quantile(self, q: float) -> float:
        return quantile(self.milliseconds, q)

    def line(self) -> str:
        return (
            f"  view statement in PostgreSQL (planning and execution, {len(self.milliseconds)}"
            f" runs): p50 {self.quantile(0.5):.2f} ms, p99 {self.quantile(0.99):.2f} ms"
        )


async def view_statement_times(dsn: str, ids: list[str]) -> StatementTimes:
    """The statement of each customer in ``ids``, ``REPEAT`` times over (the first round
    unmeasured, as the service's connections have it prepared and cached)."""
    compiled = VIEW_STATEMENT.compile(dialect=postgresql.asyncpg.dialect())  # type: ignore[no-untyped-call]
    assert compiled.positiontup is not None
    windows = view_windows(datetime.now(UTC))
    connection = await asyncpg.connect(dsn, server_settings={"search_path": "customer,public"})
    try:
        statement = await connection.prepare(f"{_EXPLAIN} {compiled}")
        times: list[float] = []
        for round_ in range(REPEAT + 1):
            for customer_id in ids:
                values = compiled.construct_params(windows.parameters(uuid.UUID(customer_id)))
                plan = json.loads(
                    await statement.fetchval(*(values[name] for name in compiled.positiontup))
                )[0]
                if round_:
                    times.append(plan["Planning Time"] + plan["Execution Time"])
        return StatementTimes(times)
    finally:
        await connection.close()
