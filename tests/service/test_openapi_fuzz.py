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
CHECKS = "not_a_server_error,response_schema_conformance,positive_data_acceptance"
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
        "CRM_CONTACT_CENTER_EVENTS_SERVICE_URL": f"http://127.0.0.1:{free_port()}",
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


# Each service is fuzzed as two business roles: an integration account (every business scope,
# no object limits) and a supervisor (the data subject's requests, limits on some routes, where
# the 403 must be the documented one); and its audit log as an auditor.
SUPERVISED = "^/v1/customers/[^/]+/(export|erasure)$"
RUNS = (
    (Role.SYSTEM, "--exclude-path", "/v1/audit", "--exclude-path-regex", SUPERVISED),
    (Role.SUPERVISOR, "--exclude-path", "/v1/audit"),
    (Role.AUDITOR, "--include-path", "/v1/audit"),
)


# Rules a request can break while matching its document, because OpenAPI has no way to say
# them: each operation listed may refuse a schema-valid request with a 422 naming the field,
# and no other operation may. The reason is the rule; the test prints each with its reason.
MOMENT_ORDER = "`at` is neither ahead of the service's clock nor before the last event recorded"
BUSINESS_RULES: dict[str, dict[str, str]] = {
    "customer": {
        "POST /v1/customers": "id_number and social_credit_code end in check characters "
        "(GB 11643, GB 32100); a resident ID names a region, and a birth date and gender that "
        "birth_date and gender must match",
        "PATCH /v1/customers/{customer_id}": "the same identity rules as registration",
        "POST /v1/leads/{lead_id}/convert": "the same identity rules as registration",
        "PUT /v1/customers/{customer_id}/consent": "given_at is not in the future",
        "POST /v1/accounts": "a card account names its card_number, which passes the Luhn check",
        "POST /v1/accounts/{account_number}/close": "closed_on is not before the day the "
        "account opened; only a loan is paid off",
        "POST /v1/transactions": "each account_number names an account the bank holds",
        "POST /v1/leads": "estimated_value's currency has a reference rate configured "
        "(CRM_FX_RATES_TO_CNY)",
        "POST /v1/surveys": "csat, nps or both: one of two optional fields is required",
        "POST /v1/customers/{customer_id}/reviews": "reviewed_at is not in the future; "
        "next_review_on comes after the review and within the customer's tier's interval",
        "GET /v1/customers/lookup": "exactly one of four optional identifiers",
        "GET /v1/customers/{customer_id}/view": "as_of is not before the customer was taken on",
        "PUT /v1/customer-groups/{group_id}/members/{customer_id}": "the customer's kind and "
        "the role fit the group's kind; only a subsidiary names parent_customer_id, a current "
        "member not under the customer (no cycle)",
        "POST /v1/customers/{customer_id}/external-holdings": "declared_on is not in the future",
        "GET /v1/analytics/retention": "the period has begun",
        "PUT /v1/customers/{customer_id}/external-holdings/{holding_id}": "declared_on is not "
        "in the future",
        "POST /v1/reconciliations": "business_date has ended in the bank's time zone; each "
        "account_number once; a text/csv body is a header line, then a line per account",
    },
    "events": {
        **{
            operation: "a trigger names events or schedule: true, not both; an up_sell names "
            "its product; a condition names a fact its trigger carries"
            for operation in (
                "POST /v1/rules",
                "PUT /v1/rules/{rule_id}",
                "POST /v1/rules/backtest",
                "POST /v1/rules/{rule_id}/backtest",
            )
        },
    },
    "complaints": {
        "POST /v1/complaints": "the customer_id, or the complainant's name with a phone or an "
        "e-mail; received_at is not in the future",
        "POST /v1/complaints/{complaint_id}/actions": "an integration account names who acts "
        "(X-Staff-Id and X-Staff-Role); a proposal's classification uses its pack's codes",
        "GET /v1/complaints/returns": "the period is of the pack's kind: quarters for cn and "
        "us, half-years for uk",
    },
    "contact_center": {
        "POST /v1/calls/{call_id}/transfer": "exactly one of queue and agent_id",
    },
}
# Body fields and parameters whose rule is not a schema's: any operation taking one may refuse
# with a 422.
BODY_FIELD_RULES = {"at": MOMENT_ORDER}
PARAMETER_RULES = {
    "Idempotency-Key": "a key goes with one request: sent again with another body, it is "
    "refused (the IETF Idempotency-Key draft's 422)",
    "cursor": "a cursor is one the service gave (its content is not a pattern)",
    "from": "a period starts before it ends and spans at most the route's longest period",
    "start": "a period starts before it ends",
}
# Schemathesis's own list for a valid request (positive_data_acceptance): an answer about
# credentials, a missing object, a conflict with the current state or back-pressure.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def business_rules(name: str, document: dict[str, Any]) -> dict[str, str]:
    """The operations of ``document`` whose schema-valid requests a rule may refuse, each with
    its reason: those of BUSINESS_RULES and those taking a parameter of PARAMETER_RULES or a
    body field of BODY_FIELD_RULES."""
    rules = dict(BUSINESS_RULES[name])
    schemas = document.get("components", {}).get("schemas", {})
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            reasons = [PARAMETER_RULES.get(p["name"]) for p in operation.get("parameters", [])]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            schema = (body or {}).get("schema", {})
            # The body's model, or an optional one (anyOf the model and null).
            for form in [schema, *schema.get("anyOf", [])]:
                model = schemas.get(form.get("$ref", "").rsplit("/", 1)[-1], {})
                reasons += [BODY_FIELD_RULES.get(field) for field in model.get("properties", {})]
            label = f"{method.upper()} {path}"
            for reason in filter(None, reasons):
                rules[label] = "; ".join(filter(None, (rules.get(label), reason)))
    return rules


def fuzz_config(objects: dict[str, str], business_rules: dict[str, str]) -> str:
    lines = ["[parameters]"]
    lines += [f'"path.{key}" = {json.dumps(value)}' for key, value in objects.items()]
    for operation in business_rules:
        lines += [
            "",
            "[[operations]]",
            f"include-name = {json.dumps(operation)}",
            "checks.positive_data_acceptance.expected-statuses = " + json.dumps([*ACCEPTED, "422"]),
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", list(SERVICES))
async def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(
    name: str, fuzz_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with crm_serve(name, fuzz_database) as base_url:
        system = development_bearer(Role.SYSTEM, subject="schemathesis")
        async with httpx.AsyncClient(base_url=base_url, headers=system, timeout=10) as client:
            objects = await OBJECTS[name](client)
            rules = business_rules(name, (await client.get("/openapi.json")).json())
        config = tmp_path / "schemathesis.toml"
        config.write_text(fuzz_config(objects, rules))
        for role, *selection in RUNS:
            report = await _fuzz(base_url, config, role, selection)
            # A run that tested nothing (the selection matched no operation) proves nothing.
            tested = re.search(r"Tested: ([1-9][0-9]*)", report)
            cases = re.search(r"Test cases:\s+([0-9]+) generated", report)
            assert tested, report[-3000:]
            assert cases, report[-3000:]
            with capsys.disabled():
                print(
                    f"\nschemathesis {name} as {role.value}: seed {SEED}, {cases[1]} examples "
                    f"over {tested[1]} operations, 0 failures"
                )
        with capsys.disabled():
            print(f"\n{name}: a 422 allowed as a business rule on {len(rules)} operations:")
            print("".join(f"  {label}: {reason}\n" for label, reason in rules.items()))


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
