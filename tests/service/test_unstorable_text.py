"""Text the database cannot store never reaches it: walked from each service's own OpenAPI
document, every string a client can send (a body field of every write route, a query
parameter of every route) is refused with a 422 that names it when it carries a NUL character,
and every body string with a published maximum is refused when it is one character longer."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm.registry import SERVICES, ServiceSpec
from shared.db import create_engine, refused_value
from shared.settings import SharedSettings
from tests.openapi_walk import caller_of, concrete_path, forms, resolve
from tests.service.conftest import serving, settings_for

WRITES = ("post", "put", "patch")
NUL_TEXT = "a\x00b"


def string_schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The string form a property takes, if it takes one that is free text (no enum)."""
    for option in forms(document, schema):
        if option.get("type") == "string" and "enum" not in option and "const" not in option:
            return option
    return None


def body_strings(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, property, its string schema) for every top-level body string."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if method not in WRITES or "application/json" not in content:
                continue
            body = resolve(document, content["application/json"]["schema"])
            for name, prop in body.get("properties", {}).items():
                text = string_schema(document, prop)
                if text is not None:
                    found.append((method, path, name, text))
    return found


def query_strings(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and string_schema(document, parameter["schema"]):
                    found.append((method, path, parameter["name"]))
    return found


def path_strings(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                text = string_schema(document, parameter["schema"])
                if parameter["in"] == "path" and text and "format" not in text:
                    found.append((method, path, parameter["name"]))
    return found


def named_fields(answer: httpx.Response) -> list[str]:
    return [error["field"] for error in answer.json().get("errors", [])]


async def outbox_size(client: httpx.AsyncClient) -> str:
    metrics = (await client.get("/metrics")).text
    return next(line for line in metrics.splitlines() if line.startswith("crm_outbox_backlog "))


@pytest.mark.parametrize("spec", [pytest.param(s, id=n) for n, s in SERVICES.items()])
class TestUnstorableText:
    async def test_a_nul_in_any_body_string_is_a_422_naming_it(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        app = spec.create_app(settings_for(spec, migrated_database))
        async with serving(app) as client:
            document = (await client.get("/openapi.json")).json()
            targets = body_strings(document)
            assert targets, "no body strings found: the walk is broken"
            before = await outbox_size(client)
            for method, path, name, _ in targets:
                answer = await client.request(
                    method,
                    concrete_path(path),
                    json={name: NUL_TEXT},
                    headers=caller_of(document["paths"][path][method]),
                )
                assert answer.status_code == 422, (method, path, name, answer.text)
                assert named_fields(answer) == [name], (method, path, answer.text)
            assert await outbox_size(client) == before

    async def test_a_nul_in_any_query_parameter_is_a_422_naming_it(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        app = spec.create_app(settings_for(spec, migrated_database))
        async with serving(app) as client:
            document = (await client.get("/openapi.json")).json()
            for method, path, name in query_strings(document):
                answer = await client.request(
                    method,
                    concrete_path(path),
                    params={name: NUL_TEXT},
                    headers=caller_of(document["paths"][path][method]),
                )
                assert answer.status_code == 422, (method, path, name, answer.text)
                assert named_fields(answer) == [name], (method, path, answer.text)

    async def test_a_nul_in_any_text_path_parameter_is_a_422_naming_it(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        app = spec.create_app(settings_for(spec, migrated_database))
        async with serving(app) as client:
            document = (await client.get("/openapi.json")).json()
            for method, path, name in path_strings(document):
                concrete = concrete_path(path.replace("{" + name + "}", "a%00b"))
                answer = await client.request(
                    method, concrete, json={}, headers=caller_of(document["paths"][path][method])
                )
                assert answer.status_code == 422, (method, path, name, answer.text)
                assert name in named_fields(answer), (method, path, answer.text)

    async def test_a_body_string_over_its_maximum_is_a_422_naming_it(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        app = spec.create_app(settings_for(spec, migrated_database))
        async with serving(app) as client:
            document = (await client.get("/openapi.json")).json()
            before = await outbox_size(client)
            for method, path, name, text in body_strings(document):
                if "maxLength" not in text:
                    continue
                too_long = "x" * (text["maxLength"] + 1)
                answer = await client.request(
                    method,
                    concrete_path(path),
                    json={name: too_long},
                    headers=caller_of(document["paths"][path][method]),
                )
                assert answer.status_code == 422, (method, path, name, answer.text)
                assert name in named_fields(answer), (method, path, answer.text)
            assert await outbox_size(client) == before


class TestTheDatabasesRefusal:
    async def test_a_value_the_database_refuses_is_told_apart_with_its_reason(
        self, migrated_database: str
    ) -> None:
        engine = create_engine(SharedSettings(database_url=migrated_database))
        try:
            async with engine.connect() as connection:
                await connection.execute(text("CREATE TEMP TABLE narrow (value varchar(2))"))
                with pytest.raises(DBAPIError) as too_long:
                    await connection.execute(text("INSERT INTO narrow VALUES ('abc')"))
                await connection.rollback()
                with pytest.raises(DBAPIError) as missing:
                    await connection.execute(text("SELECT * FROM no_such_table"))
        finally:
            await engine.dispose()
        assert refused_value(too_long.value) == "value too long for type character varying(2)"
        assert refused_value(missing.value) is None


class TestTooLarge:
    async def test_a_body_over_the_bound_is_a_413_problem_whether_declared_or_streamed(
        self, migrated_database: str
    ) -> None:
        spec = SERVICES["complaints"]
        app = spec.create_app(
            spec.settings_class(database_url=migrated_database, max_request_bytes=2048)
        )
        body = b'{"description": "' + b"x" * 4096 + b'"}'

        async def in_chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 1000):
                yield body[start : start + 1000]

        async with serving(app) as client:
            before = await outbox_size(client)
            declared = await client.post(
                "/v1/complaints", content=body, headers={"content-type": "application/json"}
            )
            streamed = await client.post(
                "/v1/complaints", content=in_chunks(), headers={"content-type": "application/json"}
            )
            small = await client.post("/v1/complaints", json={})
            after = await outbox_size(client)

        for answer in (declared, streamed):
            assert answer.status_code == 413
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["type"].endswith("/payload-too-large")
        assert small.status_code == 422
        assert after == before
