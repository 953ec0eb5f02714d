"""One error contract for every query parameter: walked from each service's OpenAPI document,
every parameter of every route is sent a value its schema refuses, and every answer is a 422
whose ``errors`` list names that parameter."""

from typing import Any

import httpx
import pytest

from crm.registry import SERVICES, ServiceSpec
from shared.nul_guard import ANY_TEXT
from tests.openapi_walk import caller_of, concrete_path, forms
from tests.service.conftest import serving, settings_for


def malformed(document: dict[str, Any], schema: dict[str, Any]) -> str:
    """A value no form the parameter takes accepts."""
    options = forms(document, schema)
    options = [o for o in options if o.get("type") != "null"]
    kinds = {o.get("type") for o in options}
    if kinds <= {"integer", "number", "boolean"}:
        return "not-a-number"
    # Free text: any characters but NUL, so only its length can be wrong.
    free_text = [
        o
        for o in options
        if o.get("type") == "string"
        and not {"enum", "format"} & set(o)
        and o.get("pattern", ANY_TEXT) == ANY_TEXT
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
                        concrete_path(path),
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
                            concrete_path(path),
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
