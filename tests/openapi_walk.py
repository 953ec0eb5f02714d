"""Walking a service's published OpenAPI document, for the tests that try every route: its
references resolved, its unions flattened, a caller each operation admits, a path to call."""

import uuid
from typing import Any

from shared.auth.roles import Role
from shared.auth.tokens import development_bearer

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
    """The schemas a value may match, references resolved and nested unions flattened."""
    schema = resolve(document, schema)
    if "anyOf" not in schema:
        return [schema]
    return [form for option in schema["anyOf"] for form in forms(document, option)]


def caller_of(operation: dict[str, Any]) -> dict[str, str]:
    """A token of a role the operation admits, so that a request reaches its checks."""
    allowed = operation.get("x-roles", [])
    role = next((role for role in UNLIMITED_ROLES if role in allowed), Role.SYSTEM)
    return development_bearer(role)


def concrete_path(path: str) -> str:
    """The path template with a fresh id for every parameter."""
    return "/".join(str(uuid.uuid4()) if part.startswith("{") else part for part in path.split("/"))
