"""One error contract for every query parameter: walked from each service's OpenAPI document,
every parameter of every route is sent a value its schema refuses, and every answer is a 422
whose ``errors`` list names that parameter."""

import re
import uuid
from typing import Any

import httpx
import pytest

from crm.registry import SERVICES, ServiceSpec
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import serving, settings_for

# The roles that need no object claims, in the order a test prefers them.
UNLIMITED_ROLES = (Role.SYSTEM, Role.SUPERVISOR, Role.ADMINISTRATOR, Role.AUDITOR)


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def forms(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schemas a parameter may match, nested unions flattened."""
    schema = resolve(document, schema)
    if "anyOf" not in schema:
        return [schema]
    return [form for option in schema["anyOf"] for form in forms(document, option)]


def malformed(document: dict[str, Any], schema: dict[str, Any]) -> str:
    """A value no form the parameter takes accepts."""
    options = forms(document, schema)
    options = [o for o in options if o.get("type") != "null"]
    kinds = {o.get("type") for o in options}
    if kinds <= {"integer", "number", "boolean"}:
        return "not-a-number"
    free_text = [
        o
        for o in options
        if o.get("type") == "string" and not {"enum", "format", "pattern"} & set(o)
    ]
    if free_text:
        longest = max(int(o.get("maxLength", 0)) for o in free_text)
        return "x" * (longest + 1)
    return "!!-not-valid-!!"


def takes_a_moment(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    return any(o.get("format") == "date-time" for o in forms(document, schema))


def problems_of(answer: httpx.Response) -> list[dict[str, Any]]:
    body = answer.json()
    errors: list[dict[str, Any]] = body.get("errors", []) if isinstance(body, dict) else []
    return errors


def caller_of(operation: dict[str, Any]) -> dict[str, str]:
    allowed = operation.get("x-roles", [])
    role = next((role for role in UNLIMITED_ROLES if role in allowed), Role.SYSTEM)
    return development_bearer(role)


def concrete(path: str) -> str:
    return re.sub(r"{[a-z_]+}", lambda _: str(uuid.uuid4()), path)


@pytest.mark.parametrize("spec", [pytest.param(s, id=n) for n, s in SERVICES.items()])
async def test_a_malformed_query_parameter_is_a_422_naming_it(
    spec: ServiceSpec, migrated_database: str
) -> None:
    app = spec.create_app(settings_for(spec, migrated_database))
    async with serving(app) as client:
        document = (await client.get("/openapi.json")).json()
        answers: dict[str, tuple[int, list[str]]] = {}
        moments: dict[str, tuple[int, list[str]]] = {}
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] != "query":
                        continue
                    value = malformed(document, parameter["schema"])
                    answer: httpx.Response = await client.request(
                        method,
                        concrete(path),
                        params={parameter["name"]: value},
                        headers=caller_of(operation),
                    )
                    named = [e["field"] for e in problems_of(answer)]
                    where = f"{method.upper()} {path} ?{parameter['name']}"
                    answers[where] = (answer.status_code, named)
                    if takes_a_moment(document, parameter["schema"]):
                        # A date-time without its offset names no moment.
                        naive = await client.request(
                            method,
                            concrete(path),
                            params={parameter["name"]: "2026-12-01T10:00:00"},
                            headers=caller_of(operation),
                        )
                        fields = [e["field"] for e in problems_of(naive)]
                        moments[where] = (naive.status_code, fields)
    assert answers, "no query parameters found: the walk is broken"
    assert moments, "no date-time parameters found: the walk is broken"
    wrong = {
        where: answer
        for where, answer in (answers | {f"{w} (naive)": a for w, a in moments.items()}).items()
        if answer[0] != 422 or where.rsplit("?", 1)[1].split(" ")[0] not in answer[1]
    }
    assert wrong == {}
