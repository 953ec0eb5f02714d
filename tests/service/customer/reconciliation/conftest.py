"""Reconciliation with core banking on the real PostgreSQL, in a database of its own.

Each test reconciles a business date of its own, far in the past, on which only its own
accounts were open: an account opened on a later day is neither compared nor missed, so one
test's accounts never count in another's run (beyond the accounts it misses, which the tests
look up by number rather than count)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from crm.infra.postgres import EmbeddedPostgres
from services.customer.config import Settings
from tests.conftest import database_of_its_own
from tests.service.customer.factories import create_customer, open_account

RUNS = "SELECT count(*) FROM reconciliation_runs"


@pytest.fixture(scope="session")
async def reconciliation_database(postgres_server: EmbeddedPostgres) -> str:
    return await database_of_its_own(postgres_server, "crm_reconciliation_test")


@pytest.fixture
def customer_settings(reconciliation_database: str) -> Settings:
    return Settings(database_url=reconciliation_database, relay_poll_interval_seconds=0.05)


async def account_held(
    client: httpx.AsyncClient, *, opened_on: str, opening_balance: str = "0.00", **changes: Any
) -> str:
    customer = await create_customer(client)
    opened = await open_account(
        client, customer["id"], opened_on=opened_on, opening_balance=opening_balance, **changes
    )
    return str(opened["full_number"])


async def post(client: httpx.AsyncClient, *transactions: dict[str, Any]) -> None:
    answer = await client.post("/v1/transactions", json={"transactions": list(transactions)})
    assert answer.status_code == 200, answer.text


def line(number: str, balance: str, currency: str = "CNY") -> dict[str, str]:
    return {"account_number": number, "currency": currency, "balance": balance}


async def reconcile(
    client: httpx.AsyncClient, business_date: str, *lines: dict[str, str], **headers: str
) -> httpx.Response:
    return await client.post(
        "/v1/reconciliations",
        params={"business_date": business_date},
        json={"balances": list(lines)},
        headers=headers,
    )


def masked(number: str) -> str:
    return "*" * (len(number) - 4) + number[-4:]


def findings(answer: httpx.Response) -> dict[str, dict[str, Any]]:
    return {item["account_number"]: item for item in answer.json()["differences"]}


def days_ago(days: int) -> str:
    """A business day that has ended in the bank's time zone (ahead of UTC)."""
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()
