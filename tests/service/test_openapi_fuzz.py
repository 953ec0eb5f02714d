"""Schemathesis against each service's own OpenAPI document, over real HTTP to `crm serve`, with
a valid token: generated requests, valid and invalid, find no 5xx and no response that breaks
the schema the document promises.

Each service runs as the process an operator starts, on a database of its own (the fuzzer
writes whatever the schema allows, which no other test should have to see). The seed is fixed
so that a failure in CI is the same failure on a laptop. Before the run, a few real objects are
made through the API and their ids given to Schemathesis as path parameters, so that requests
reach the service's rules rather than stopping at a 404."""

import asyncio
import json
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.conftest import database_of_its_own
from tests.service.customer.factories import create_customer, open_account

CRM = Path(sys.executable).with_name("crm")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance"
EXAMPLES_PER_OPERATION = 12
SEED = 20261123


@pytest.fixture(scope="session")
async def fuzz_database(postgres_server: EmbeddedPostgres) -> str:
    return await database_of_its_own(postgres_server, "crm_fuzz_test")


@asynccontextmanager
async def crm_serve(name: str, database_url: str) -> AsyncIterator[str]:
    """`crm serve NAME` on a free port; yields its base URL and stops it with SIGTERM."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env |= {
        "CRM_DATABASE_URL": database_url,
        f"CRM_{name.upper()}_PORT": str(port),
        "CRM_LOG_LEVEL": "WARNING",
        # The contact centre's customer directory: nobody listens there, which the fuzzer
        # meets as the dependency being away (an answer the document names, not a 500).
        "CRM_CONTACT_CENTER_CUSTOMER_SERVICE_URL": f"http://127.0.0.1:{free_port()}",
    }
    process = await asyncio.create_subprocess_exec(
        str(CRM), "serve", name, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        await _ready(base_url, process)
        yield base_url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _ready(base_url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=1) as client:
        for _ in range(200):
            if process.returncode is not None:
                assert process.stderr is not None
                log = (await process.stderr.read()).decode()[-3000:]
                pytest.fail(f"crm serve exited with {process.returncode}:\n{log}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"{base_url} was not ready within 40 s")


async def _created(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> dict[str, Any]:
    answer = await client.post(path, json=body)
    assert answer.status_code == 201, f"{path}: {answer.status_code} {answer.text}"
    created: dict[str, Any] = answer.json()
    return created


async def _customer_objects(client: httpx.AsyncClient) -> dict[str, str]:
    customer = await create_customer(client)
    account = await open_account(client, customer["id"])
    manager = await _created(
        client, "/v1/managers",
        {"employee_number": "E0000001", "name": "陈静", "branch_code": "BJ001", "capacity": 50},
    )  # fmt: skip
    lead = await _created(
        client, "/v1/leads",
        {"name": "周敏", "source": "walk_in",
         "estimated_value": {"amount": "300000", "currency": "CNY"}},
    )  # fmt: skip
    return {"customer_id": customer["id"], "account_number": account["full_number"],
            "manager_id": manager["id"], "lead_id": lead["id"]}  # fmt: skip


async def _events_objects(client: httpx.AsyncClient) -> dict[str, str]:
    rules = (await client.get("/v1/rules")).json()["items"]
    return {"rule_id": rules[0]["rule_id"]}


async def _complaints_objects(client: httpx.AsyncClient) -> dict[str, str]:
    case = await _created(
        client, "/v1/complaints",
        {"customer_id": str(uuid.uuid4()), "channel": "phone", "category": "fees",
         "description": "An annual card fee was charged although the card was cancelled."},
    )  # fmt: skip
    return {"complaint_id": case["id"]}


async def _contact_center_objects(client: httpx.AsyncClient) -> dict[str, str]:
    now = datetime.now(UTC).isoformat()
    await _created(
        client,
        "/v1/agents",
        {"id": "fuzz-agent", "name": "Agent", "skills": ["general"], "at": now},
    )
    call = await _created(client, "/v1/calls", {"dialled_number": "95588", "at": now})
    callback = await _created(
        client, "/v1/callbacks", {"phone_number": "13912345678", "requested_for": now}
    )
    return {"agent_id": "fuzz-agent", "call_id": call["call"]["id"],
            "callback_id": callback["id"], "customer_id": str(uuid.uuid4())}  # fmt: skip


OBJECTS: dict[str, Callable[[httpx.AsyncClient], Awaitable[dict[str, str]]]] = {
    "customer": _customer_objects,
    "events": _events_objects,
    "complaints": _complaints_objects,
    "contact_center": _contact_center_objects,
}


# Each operation is fuzzed as a role that holds its scope: the audit log as an auditor, a data
# subject's requests as a supervisor, the rest as an integration account (every business
# scope, no object limits).
SUPERVISED = "^/v1/customers/[^/]+/(export|erasure)$"
RUNS = (
    (Role.SYSTEM, "--exclude-path", "/v1/audit", "--exclude-path-regex", SUPERVISED),
    (Role.AUDITOR, "--include-path", "/v1/audit"),
)
SERVICE_RUNS = {"customer": ((Role.SUPERVISOR, "--include-path-regex", SUPERVISED),)}


@pytest.mark.parametrize("name", list(SERVICES))
async def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(
    name: str, fuzz_database: str, tmp_path: Path
) -> None:
    async with crm_serve(name, fuzz_database) as base_url:
        system = development_bearer(Role.SYSTEM, subject="schemathesis")
        async with httpx.AsyncClient(base_url=base_url, headers=system, timeout=10) as client:
            objects = await OBJECTS[name](client)
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            "[parameters]\n"
            + "".join(f'"path.{k}" = {json.dumps(v)}\n' for k, v in objects.items())
        )
        for role, *selection in RUNS + SERVICE_RUNS.get(name, ()):
            report = await _fuzz(base_url, config, role, selection)
            # A run that tested nothing (the selection matched no operation) proves nothing.
            assert re.search(r"Tested: [1-9]", report), report[-3000:]


async def _fuzz(base_url: str, config: Path, role: Role, selection: list[str]) -> str:
    token = development_bearer(role, subject=f"schemathesis-{role.value}")["Authorization"]
    fuzzer = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "--no-color", "--config-file", str(config),
        "run", f"{base_url}/openapi.json", *selection,
        "--checks", CHECKS,
        "--header", f"Authorization: {token}",
        "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--seed", str(SEED),
        "--phases", "examples,coverage,fuzzing",
        "--workers", "1",
        "--request-timeout", "20",
        "--suppress-health-check", "all",
        cwd=config.parent, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await fuzzer.communicate()
    report = output.decode()
    assert fuzzer.returncode == 0, f"as {role}:\n{report[-12000:]}"
    return report
