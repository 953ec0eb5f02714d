"""The 360 view's statement timed inside PostgreSQL, as the service sends it (issue #28: the
view's queries must not slow down with history).

The view over HTTP at half its maximum rate carries the whole machine's noise: its
preloaded/as-loaded p99 ratio was 1.24, 1.45 and 1.08 in three runs of nearly the same code.
Here each sampled customer's view statement runs under ``EXPLAIN (ANALYZE, TIMING OFF)`` on
one connection, a few times over, and PostgreSQL's own planning and execution times are kept:
no HTTP, no Python, no client in them.
"""

import json
import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.dialects import postgresql

from services.customer.surveys import repository as surveys_repository
from services.customer.valuation.money import FEES_WINDOW
from services.customer.view.assembly import FIGURE_MONTHS, RECENT, months_back
from services.customer.view.repository import _VIEW

REPEAT = 3
_EXPLAIN = "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)"


@dataclass(frozen=True)
class StatementTimes:
    milliseconds: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.milliseconds)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)]

    def line(self) -> str:
        median = statistics.median(self.milliseconds)
        return (
            f"  view statement in PostgreSQL (planning and execution, {len(self.milliseconds)}"
            f" runs): p50 {median:.2f} ms, p99 {self.quantile(0.99):.2f} ms"
        )


async def view_statement_times(dsn: str, ids: list[str]) -> StatementTimes:
    """The statement of each customer in ``ids``, ``REPEAT`` times over (the first round
    unmeasured, as the service's connections have it prepared and cached)."""
    compiled = _VIEW.compile(dialect=postgresql.asyncpg.dialect())  # type: ignore[no-untyped-call]
    assert compiled.positiontup is not None
    now = datetime.now(UTC)
    connection = await asyncpg.connect(dsn, server_settings={"search_path": "customer,public"})
    try:
        statement = await connection.prepare(f"{_EXPLAIN} {compiled}")
        times: list[float] = []
        for round_ in range(REPEAT + 1):
            for customer_id in ids:
                values = compiled.construct_params(
                    {
                        "customer_id": uuid.UUID(customer_id),
                        "recent": RECENT,
                        "figures_since": months_back(now.date(), FIGURE_MONTHS - 1),
                        "fees_since": now - FEES_WINDOW,
                        "satisfaction_since": now - surveys_repository.INDEX_WINDOW,
                    }
                )
                plan = json.loads(
                    await statement.fetchval(*(values[name] for name in compiled.positiontup))
                )[0]
                if round_:
                    times.append(plan["Planning Time"] + plan["Execution Time"])
        return StatementTimes(times)
    finally:
        await connection.close()
