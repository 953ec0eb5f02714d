"""Refusing text PostgreSQL cannot store: the NUL character (U+0000).

PostgreSQL's text types cannot hold U+0000, so a NUL that reached a statement failed there as a
server error, after part of the request's work was done. Every route is guarded before its
handler runs: a NUL in the body, a query parameter or a path parameter is a 422 that names
each field carrying one, and nothing is written.

One check at the request's edge rather than a validator on every string field: a NUL in a
JSON body can only be written ``\\u0000``, so a byte search clears a request (a 1,000-
transaction batch included) in microseconds, and only a request that has one is parsed again
to name the fields.
"""

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError

NUL = "\x00"
_ESCAPED_NUL = b"\\u0000"
MESSAGE = "must not contain the NUL character (U+0000), which cannot be stored"


async def refuse_nul_characters(request: Request) -> None:
    errors = [
        _error(("query", name))
        for name, value in request.query_params.multi_items()
        if NUL in value or NUL in name
    ]
    errors += [
        _error(("path", name)) for name, value in request.path_params.items() if NUL in value
    ]
    body = await request.body()
    parsed: Any = None
    if _ESCAPED_NUL in body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None  # not JSON: the route's own parsing answers it
        errors += [_error(("body", *location)) for location in _nul_locations(parsed)]
    if errors:
        raise RequestValidationError(errors, body=parsed)


def _nul_locations(
    value: Any, location: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield location
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield (*location, key)
            yield from _nul_locations(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_locations(item, (*location, index))


def _error(location: tuple[str | int, ...]) -> dict[str, Any]:
    return {"type": "string_nul", "loc": location, "msg": MESSAGE, "input": None}


NUL_GUARD = Depends(refuse_nul_characters)


# What the guard and the request models enforce, as the document's patterns, so that a client
# generated from it never sends text it would see refused: no NUL anywhere, and a body's text
# with a minimum length has that many characters once its surrounding white space is taken
# off (RequestModel strips it). Patterns are ECMA-262 and Python alike.
ANY_TEXT = r"^[^\x00]*$"


def _text_of_at_least(characters: int) -> str:
    if characters <= 1:
        return r"^\s*[^\s\x00][^\x00]*$"
    return rf"^\s*[^\s\x00][^\x00]{{{characters - 2},}}[^\s\x00]\s*$"


def document_storable_text(document: dict[str, Any]) -> None:
    """Give every request string the document leaves free a pattern saying the rules above."""
    components = document.get("components", {}).get("schemas", {})
    seen: set[tuple[str, bool]] = set()

    def walk(schema: Any, *, stripped: bool) -> None:
        if not isinstance(schema, dict):
            return
        reference = schema.get("$ref")
        if isinstance(reference, str):
            name = reference.rsplit("/", 1)[-1]
            if (name, stripped) not in seen and name in components:
                seen.add((name, stripped))
                walk(components[name], stripped=stripped)
            return
        if schema.get("type") == "string" and not {"pattern", "enum", "format", "const"} & set(
            schema
        ):
            least = int(schema.get("minLength", 0))
            schema["pattern"] = _text_of_at_least(least) if stripped and least else ANY_TEXT
        for key in ("properties", "patternProperties"):
            for member in schema.get(key, {}).values():
                walk(member, stripped=stripped)
        for key in ("anyOf", "oneOf", "allOf"):
            for member in schema.get(key, []):
                walk(member, stripped=stripped)
        for key in ("items", "additionalProperties", "propertyNames"):
            walk(schema.get(key), stripped=stripped)

    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                walk(parameter.get("schema"), stripped=False)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content.get("schema"), stripped=True)
