"""A request body validated straight from its bytes, for the few routes whose bodies are large.

FastAPI parses a body model in two steps: ``json.loads`` builds a tree of Python objects, then
pydantic walks that tree. For a 1,000-transaction batch that is some 20,000 Python objects made
only to be thrown away. ``TypeAdapter.validate_json`` does both steps in pydantic's core in one
pass. A route using this takes the ``Request`` and declares ``openapi_extra=body.openapi()``;
the document then describes the body exactly as if FastAPI had read it, and a refusal is the
same 422 problem, naming the same fields.
"""

import json
from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

M = TypeVar("M", bound=BaseModel)
_SCHEMA_REF = "#/components/schemas/{model}"
# The models of every JsonBody, so that the document can carry their schemas.
_MODELS: dict[str, type[BaseModel]] = {}


class JsonBody(Generic[M]):
    def __init__(self, model: type[M]) -> None:
        self._model = model
        self._adapter = TypeAdapter(model)
        _MODELS[model.__name__] = model

    def openapi(self) -> dict[str, Any]:
        """The route's ``openapi_extra``: its request body, as a reference to the model."""
        schema = {"$ref": _SCHEMA_REF.format(model=self._model.__name__)}
        return {
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}
        }

    async def read(self, request: Request) -> M:
        raw = await request.body()
        try:
            return self._adapter.validate_json(raw)
        except ValidationError as error:
            # Only a refused body is parsed a second time, to name its fields in the problem.
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in error.errors()], body=_parsed(raw)
            ) from None


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def document_json_bodies(document: dict[str, Any]) -> None:
    """Put the schemas of the bodies this document's routes read by :class:`JsonBody` into
    its components (FastAPI adds only the models its own parameters name)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                name = str(content.get("schema", {}).get("$ref", "")).rsplit("/", 1)[-1]
                model = _MODELS.get(name)
                if model is None or name in schemas:
                    continue
                schema = model.model_json_schema(ref_template=_SCHEMA_REF, mode="validation")
                for nested, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(nested, definition)
                schemas[name] = schema
    # In FastAPI's order, so that a document's diff shows only what changed.
    document["components"]["schemas"] = dict(sorted(schemas.items()))
