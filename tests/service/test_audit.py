"""The audit log: every change and every read of unmasked personal data, with who, role,
object, client and correlation id; readable by auditors; never editable."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm.registry import SERVICES
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from shared.db import create_engine
from tests.service.conftest import serving, settings_for
from tests.service.customer.factories import individual


@pytest.fixture
async def customers(migrated_database: str) -> Any:
    spec = SERVICES["customer"]
    app = spec.create_app(settings_for(spec, migrated_database))
    async with serving(app) as client:
        yield client


async def _audit(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    answer = await client.get(
        "/v1/audit", params=params, headers=development_bearer(Role.AUDITOR, subject="aud-1")
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_change_is_audited_with_who_what_and_the_correlation_id(
    customers: httpx.AsyncClient,
) -> None:
    teller = f"teller-{uuid.uuid4().hex[:8]}"
    as_teller = development_bearer(Role.BRANCH_STAFF, subject=teller, branch="BJ001")
    created = await customers.post(
        "/v1/customers",
        json=individual(),
        headers={**as_teller, "X-Correlation-ID": "corr-audit-1"},
    )
    customer_id = created.json()["id"]
    changed = await customers.patch(
        f"/v1/customers/{customer_id}", json={"version": 1, "name": "张伟明"}, headers=as_teller
    )
    refused = await customers.post(
        "/v1/customers", json=individual(kind="nobody"), headers=as_teller
    )
    read = await customers.get(f"/v1/customers/{customer_id}", headers=as_teller)

    entries = await _audit(customers, subject=teller)

    assert (created.status_code, changed.status_code) == (201, 200)
    assert (refused.status_code, read.status_code) == (422, 200)
    assert [(e["action"], e["role"]) for e in entries] == [
        ("POST /v1/customers", "branch_staff"),
        ("PATCH /v1/customers/{customer_id}", "branch_staff"),
    ]
    assert entries[0]["correlation_id"] == "corr-audit-1"
    assert entries[0]["client"] == "crm-cli"
    assert entries[1]["object_id"] == customer_id
    assert entries[1]["target"] == {"customer_id": customer_id}


async def test_an_unmasked_read_needs_the_scope_and_is_audited(
    customers: httpx.AsyncClient,
) -> None:
    body = individual()
    customer_id = (await customers.post("/v1/customers", json=body)).json()["id"]
    supervisor = f"sup-{uuid.uuid4().hex[:8]}"
    as_supervisor = development_bearer(Role.SUPERVISOR, subject=supervisor)

    masked = await customers.get(f"/v1/customers/{customer_id}", headers=as_supervisor)
    revealed = await customers.get(
        f"/v1/customers/{customer_id}", params={"reveal": "true"}, headers=as_supervisor
    )
    agent = await customers.get(
        f"/v1/customers/{customer_id}",
        params={"reveal": "true"},
        headers=development_bearer(Role.CONTACT_CENTRE_AGENT),
    )
    entries = await _audit(customers, subject=supervisor)

    full_id = body["profile"]["id_number"]
    assert masked.json()["profile"]["id_number"] != full_id
    assert revealed.json()["profile"]["id_number"] == full_id
    assert revealed.json()["profile"]["phones"] == body["profile"]["phones"]
    assert (agent.status_code, agent.json()["field"]) == (403, "reveal")
    assert [(e["action"], e["personal_fields"]) for e in entries] == [
        ("GET /v1/customers/{customer_id}", ["addresses", "emails", "id_number", "phones"])
    ]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET subject = 'nobody'", "DELETE FROM audit_log", "TRUNCATE audit_log"],
)
async def test_nobody_edits_the_log(
    customers: httpx.AsyncClient, migrated_database: str, statement: str
) -> None:
    await customers.post("/v1/customers", json=individual())
    settings = settings_for(SERVICES["customer"], migrated_database)
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_only_auditors_read_the_log(customers: httpx.AsyncClient) -> None:
    answer = await customers.get(
        "/v1/audit", headers=development_bearer(Role.SUPERVISOR, subject="s")
    )
    assert (answer.status_code, answer.json()["scope"]) == (403, "audit:read")
