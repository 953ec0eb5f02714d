"""What every endpoint gets from the shared HTTP plumbing: one transaction per request with its
outbox rows, problem+json errors that name the field, and fast 503s without a database."""

import asyncio
import random
import uuid
from decimal import Decimal
from typing import Annotated, ClassVar

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import DomainEvent
from services.customer.app import MIGRATIONS
from shared.app import create_service_app
from shared.db import create_engine
from shared.http import SessionDep
from shared.migrations import upgrade
from shared.outbox import OutboxRecord, record_event
from shared.problems import PROBLEM_JSON, Conflict
from shared.settings import SharedSettings
from tests.service.conftest import serving


class ProbeSettings(SharedSettings):
    service_name: ClassVar[str] = "probe"


class DepositRecorded(DomainEvent):
    event_type = "crm.test.deposit_recorded.v1"
    topic = "crm.test.deposits"
    customer_id: str
    amount: Decimal


class DepositIn(BaseModel):
    customer_id: str = Field(min_length=1)
    amount: Decimal = Field(gt=0)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


# The tag gives the routes their scope (transactions:write), which the test client's token holds.
router = APIRouter(prefix="/v1", tags=["transactions"])


@router.post("/deposits", status_code=201)
async def record_deposit(body: DepositIn, session: SessionDep) -> dict[str, str]:
    event_id = await record_event(
        session, DepositRecorded(customer_id=body.customer_id, amount=body.amount)
    )
    if body.amount > Decimal("1000000"):
        # The event row is already in the session: the refusal must take it back with it.
        raise Conflict("amount above the probe's limit", limit="1000000")
    return {"event_id": str(event_id)}


@router.post("/locks/{first}/{second}")
async def lock_two(first: int, second: int, session: SessionDep) -> dict[str, str]:
    """Takes two advisory locks with a pause between: two requests in opposite orders
    deadlock, and PostgreSQL rolls one back."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
    await asyncio.sleep(0.3)
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})
    return {"locked": f"{first},{second}"}


_TWO_TRANSACTION_IDS = text("SELECT txid_current()")


@router.api_route("/transaction-ids", methods=["GET", "POST"])
async def transaction_ids(session: SessionDep) -> list[int]:
    """The transaction ids of two statements in one request."""
    return [(await session.execute(_TWO_TRANSACTION_IDS)).scalar_one() for _ in range(2)]


@pytest.fixture(scope="module")
async def probe_settings(database_url: str) -> SharedSettings:
    settings = ProbeSettings(database_url=database_url)
    await upgrade(settings, MIGRATIONS)
    return settings


async def _outbox_rows(settings: SharedSettings, customer_id: str) -> list[OutboxRecord]:
    engine = create_engine(settings)
    async with AsyncSession(engine) as session:
        found = list(
            await session.scalars(
                select(OutboxRecord).where(OutboxRecord.message_key == customer_id)
            )
        )
    await engine.dispose()
    return found


def _probe_app(settings: SharedSettings) -> FastAPI:
    return create_service_app(
        settings, title="probe", description="", routers=[router], handlers={}
    )


class TestRequestTransaction:
    async def test_a_successful_request_commits_its_event_with_the_correlation_id(
        self, probe_settings: SharedSettings
    ) -> None:
        customer = f"C{uuid.uuid4().hex[:8]}"
        app = _probe_app(probe_settings)
        async with serving(app) as client:
            answer = await client.post(
                "/v1/deposits",
                json={"customer_id": customer, "amount": "2500.00", "currency": "CNY"},
                headers={"X-Correlation-ID": "req-42"},
            )

        assert answer.status_code == 201
        rows = await _outbox_rows(probe_settings, customer)
        assert len(rows) == 1
        assert rows[0].correlation_id == "req-42"
        assert rows[0].event_type == "crm.test.deposit_recorded.v1"
        assert rows[0].payload == {"customer_id": customer, "amount": "2500.00"}

    async def test_a_refused_request_leaves_nothing_written(
        self, probe_settings: SharedSettings
    ) -> None:
        customer = f"C{uuid.uuid4().hex[:8]}"
        app = _probe_app(probe_settings)
        async with serving(app) as client:
            answer = await client.post(
                "/v1/deposits",
                json={"customer_id": customer, "amount": "5000000", "currency": "CNY"},
            )

        assert answer.status_code == 409
        assert answer.headers["content-type"] == PROBLEM_JSON
        assert answer.json()["limit"] == "1000000"
        assert await _outbox_rows(probe_settings, customer) == []


class TestReadsWithoutATransaction:
    async def test_a_read_runs_each_statement_alone_and_a_write_runs_them_in_one(
        self, probe_settings: SharedSettings
    ) -> None:
        async with serving(_probe_app(probe_settings)) as client:
            read = (await client.get("/v1/transaction-ids")).json()
            written = (await client.post("/v1/transaction-ids")).json()

        assert read[0] != read[1]
        assert written[0] == written[1]


class TestProblems:
    async def test_invalid_input_is_a_422_naming_each_field(
        self, probe_settings: SharedSettings
    ) -> None:
        app = _probe_app(probe_settings)
        async with serving(app) as client:
            answer = await client.post(
                "/v1/deposits", json={"customer_id": "C1", "amount": "-5", "currency": "yuan"}
            )

        problem = answer.json()
        assert answer.status_code == 422
        assert answer.headers["content-type"] == PROBLEM_JSON
        assert problem["type"].endswith("/validation-error")
        assert {e["field"] for e in problem["errors"]} == {"amount", "currency"}
        assert problem["detail"].startswith(("amount:", "currency:"))

    async def test_a_body_that_is_not_json_is_a_422(self, probe_settings: SharedSettings) -> None:
        app = _probe_app(probe_settings)
        async with serving(app) as client:
            answer = await client.post(
                "/v1/deposits", content=b"{not json", headers={"content-type": "application/json"}
            )

        assert answer.status_code == 422
        assert answer.headers["content-type"] == PROBLEM_JSON

    async def test_without_a_database_a_write_is_a_fast_503_with_retry_after(
        self, database_url: str
    ) -> None:
        settings = ProbeSettings(
            database_url="postgresql+asyncpg://postgres@127.0.0.1:9/crm",
            database_pool_timeout_seconds=0.5,
        )
        app = _probe_app(settings)
        async with serving(app) as client:
            answer = await client.post(
                "/v1/deposits", json={"customer_id": "C1", "amount": "1", "currency": "CNY"}
            )

        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "5"
        assert answer.json()["type"].endswith("/unavailable")


class TestRetryableConflicts:
    async def test_the_deadlock_victim_gets_a_503_to_retry_not_a_500(
        self, probe_settings: SharedSettings
    ) -> None:
        a, b = random.sample(range(10**9), 2)
        async with serving(_probe_app(probe_settings)) as client:
            answers = await asyncio.gather(
                client.post(f"/v1/locks/{a}/{b}"), client.post(f"/v1/locks/{b}/{a}")
            )
            statuses = sorted(answer.status_code for answer in answers)
            assert statuses == [200, 503]
            victim = next(answer for answer in answers if answer.status_code == 503)
            assert victim.headers["content-type"] == PROBLEM_JSON
            assert victim.headers["retry-after"] == "1"
            assert victim.json()["type"].endswith("/try-again")
            retried = await client.post(victim.request.url.path)
            assert retried.status_code == 200
