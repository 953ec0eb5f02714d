"""The complaints service on the real PostgreSQL, its consumer and deadline sweep running."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from crm.infra.postgres import EmbeddedPostgres
from services.complaints.app import create_app
from services.complaints.config import Settings
from shared.db import create_engine
from tests.conftest import database_of_its_own
from tests.service.conftest import serving

FRONT_LINE = {"X-Staff-Id": "teller-0042", "X-Staff-Role": "front_line"}
HANDLER = {"X-Staff-Id": "cards-dept-07", "X-Staff-Role": "department_handler"}
SUPERVISOR = {"X-Staff-Id": "supervisor-03", "X-Staff-Role": "supervisor"}
QUALITY = {"X-Staff-Id": "quality-01", "X-Staff-Role": "quality_officer"}


@pytest.fixture
def complaints_settings(migrated_database: str) -> Settings:
    return Settings(
        database_url=migrated_database,
        relay_poll_interval_seconds=0.05,
        deadline_sweep_interval_seconds=0.2,
    )


@pytest.fixture
async def client(complaints_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(complaints_settings)) as client:
        yield client


def complaint_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": str(uuid.uuid4()),
        "channel": "phone",
        "category": "fees",
        "description": "An annual card fee was charged although the card was cancelled in May.",
        "disputed_amount": {"amount": "200.00", "currency": "CNY"},
        "transaction_ids": ["TX-2026-000123"],
    }
    body.update(overrides)
    return body


async def file_complaint(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/complaints", json=complaint_body(**overrides))
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def act(
    client: httpx.AsyncClient,
    case_id: str,
    staff: dict[str, str],
    expect: int = 200,
    **action: Any,
) -> dict[str, Any]:
    response = await client.post(f"/v1/complaints/{case_id}/actions", json=action, headers=staff)
    assert response.status_code == expect, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def walk_to(client: httpx.AsyncClient, case_id: str, step: str) -> dict[str, Any]:
    """Take a fresh case along the happy path until it waits at ``step``."""
    path: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
        "validity": (FRONT_LINE, {"action": "judge_validity", "valid": True}),
        "assignment": (FRONT_LINE, {"action": "assign_department", "department": "cards"}),
        "cause_analysis": (HANDLER,
            {"action": "analyse_cause", "cause": "unset_expectations",
             "finding": "The cancellation did not stop the fee schedule."}),
        "resolution_proposal": (HANDLER,
            {"action": "propose_resolution", "resolution": "Refund the fee and apologise.",
             "compensation": {"amount": "200.00", "currency": "CNY"}}),
        "approval": (SUPERVISOR, {"action": "approve_resolution"}),
        "implementation": (HANDLER, {"action": "implement_resolution", "done": "Refunded."}),
        "evaluation": (QUALITY,
            {"action": "evaluate", "satisfaction": 4, "root_cause": "Fee schedule not stopped",
             "lesson": "Cancel fee schedules together with the card."}),
    }  # fmt: skip
    case: dict[str, Any] = (await client.get(f"/v1/complaints/{case_id}")).json()
    while case["step"] != step:
        staff, action = path[case["step"]]
        case = await act(client, case_id, staff, **action)
    return case


async def outbox_types(settings: Settings, complaint_id: str) -> list[str]:
    """The complaint's events as written to the outbox, in order."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT event_type FROM outbox WHERE payload->>'complaint_id' = :id "
                    "ORDER BY seq"
                ),
                {"id": complaint_id},
            )
            return [row.event_type.split(".")[2] for row in rows]
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def returns_database(postgres_server: EmbeddedPostgres) -> str:
    """A database of its own: a return counts every case of its pack in the period."""
    return await database_of_its_own(postgres_server, "crm_returns_test")
