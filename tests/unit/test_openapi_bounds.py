"""Every input a client can send is bounded, and the document says so (OWASP API Security Top
10 2023, API4 "unrestricted resource consumption"): walked from each service's published
OpenAPI document, every string has a length, pattern, format or enumeration, every number and
integer a maximum, every array a maximum number of items and every open object a maximum
number of properties, in the body, the path and the query alike."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crm.registry import SERVICES
from tests.openapi_walk import resolve

DOCUMENTS = Path(__file__).parents[2] / "docs" / "openapi"
STRING_BOUNDS = ("maxLength", "enum", "const", "format", "pattern")


def unbounded(
    document: dict[str, Any], schema: dict[str, Any], where: str, seen: frozenset[str]
) -> Iterator[str]:
    reference = schema.get("$ref")
    if reference in seen:
        return
    seen = seen | {reference} if reference else seen
    schema = resolve(document, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from unbounded(document, option, where, seen)
    kind = schema.get("type")
    if kind == "string" and not any(bound in schema for bound in STRING_BOUNDS):
        yield f"{where}: a string without a length"
    if kind in ("integer", "number") and not ({"maximum", "exclusiveMaximum"} & set(schema)):
        yield f"{where}: a {kind} without a maximum"
    if kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: an array without maxItems"
        yield from unbounded(document, schema.get("items", {}), f"{where}[]", seen)
    for name, prop in schema.get("properties", {}).items():
        yield from unbounded(document, prop, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from unbounded(document, extra, f"{where}{{}}", seen)
        if "maxProperties" not in schema:
            yield f"{where}: an object without maxProperties"


def inputs(document: dict[str, Any]) -> Iterator[str]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['in']} {parameter['name']}"
                yield from unbounded(document, parameter["schema"], where, frozenset())
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                where = f"{method.upper()} {path} body"
                yield from unbounded(document, body["schema"], where, frozenset())


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_input_of_the_document_is_bounded(service: str) -> None:
    document = json.loads((DOCUMENTS / f"{service}.json").read_text())
    assert list(inputs(document)) == []


def test_the_walk_finds_an_unbounded_input() -> None:
    document = {
        "paths": {
            "/v1/things": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "note": {"type": "string"},
                                        "tags": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert list(inputs(document)) == [
        "POST /v1/things body.note: a string without a length",
        "POST /v1/things body.tags: an array without maxItems",
        "POST /v1/things body.tags[]: a string without a length",
    ]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_what_a_client_gets_for_too_much_is_documented(service: str) -> None:
    document = json.loads((DOCUMENTS / f"{service}.json").read_text())
    guarded = {
        f"{method.upper()} {path}": operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "x-scope" in operation
    }
    assert guarded
    assert [name for name, op in guarded.items() if "503" not in op["responses"]] == []
    with_body = {name: op for name, op in guarded.items() if "requestBody" in op}
    assert [name for name, op in with_body.items() if "413" not in op["responses"]] == []
