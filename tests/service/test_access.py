"""Every route of every service, found from its OpenAPI document: no token is a 401, a role
without the route's scope a 403, a role with it gets past the guard. A route added tomorrow is
in this sweep without anyone listing it."""

import re
import uuid
from typing import Any

import httpx
import pytest

from crm.registry import SERVICES, ServiceSpec
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer, issue_development_token
from shared.problems import PROBLEM_JSON
from shared.settings import SharedSettings
from tests.service.conftest import serving, settings_for
from tests.service.customer.factories import create_customer

SERVICE_SPECS = [pytest.param(spec, id=name) for name, spec in SERVICES.items()]
UNGUARDED = {"/healthz", "/readyz", "/metrics"}
# Every claim a role's object-level limits could ask for, so that only the scope decides here.
LIMITS = {"branch": "BJ001", "manager_id": uuid.uuid4(), "department": "retail-banking"}


def _concrete(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "version":
            return "1"
        if name == "account_number":
            return "6222020000000001"
        return str(uuid.uuid4())

    return re.sub(r"{([a-z_]+)}", value, path)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _as(role: Role) -> dict[str, str]:
    return development_bearer(role, subject=f"test-{role.value}", **LIMITS)


@pytest.mark.parametrize("spec", SERVICE_SPECS)
async def test_every_route_but_health_needs_a_token_whose_role_holds_its_scope(
    spec: ServiceSpec, migrated_database: str
) -> None:
    app = spec.create_app(settings_for(spec, migrated_database))
    async with serving(app) as client:
        operations = _operations(app.openapi())
        guarded = [op for op in operations if op[1] not in UNGUARDED]
        assert [op for op in guarded if not op[2].get("security")] == []
        assert len(guarded) > 5

        wrong: list[str] = []
        for method, template, operation in guarded:
            path, scope = _concrete(template), operation["x-scope"]
            anonymous = await client.request(method, path, headers={"Authorization": ""})
            if anonymous.status_code != 401 or "Bearer" not in anonymous.headers.get(
                "www-authenticate", ""
            ):
                wrong.append(f"{method} {template} without a token: {anonymous.status_code}")
            if anonymous.headers.get("content-type") != PROBLEM_JSON:
                wrong.append(f"{method} {template} 401 is not problem+json")
            for role in Role:
                answer = await client.request(method, path, headers=_as(role))
                if role.value in operation["x-roles"]:
                    if answer.status_code in (401, 403) or answer.status_code >= 500:
                        wrong.append(f"{method} {template} as {role}: {answer.status_code}")
                elif answer.status_code != 403 or answer.json().get("scope") != scope:
                    status = answer.status_code
                    wrong.append(f"{method} {template} as {role} (no {scope}): {status}")

        assert wrong == []


async def test_health_readiness_and_metrics_answer_without_a_token(migrated_database: str) -> None:
    spec = SERVICES["customer"]
    app = spec.create_app(settings_for(spec, migrated_database))
    async with serving(app) as client:
        answers = [
            await client.get(path, headers={"Authorization": ""}) for path in sorted(UNGUARDED)
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 200]


async def test_an_expired_token_is_told_apart_from_a_missing_one(migrated_database: str) -> None:
    spec = SERVICES["customer"]
    app = spec.create_app(settings_for(spec, migrated_database))
    expired = issue_development_token(
        SharedSettings(), role=Role.SYSTEM, subject="late", seconds=1, now=1_000_000_000
    )
    async with serving(app) as client:
        answer = await client.get("/v1/customers", headers={"Authorization": f"Bearer {expired}"})
        malformed = await client.get("/v1/customers", headers={"Authorization": "Basic eDp5"})

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="crm", error="invalid_token"'
    assert answer.json()["detail"] == "the token has expired"
    assert malformed.status_code == 401
    assert malformed.headers["www-authenticate"] == 'Bearer realm="crm"'


async def test_a_channel_may_identify_and_view_but_not_search(migrated_database: str) -> None:
    spec = SERVICES["customer"]
    app = spec.create_app(settings_for(spec, migrated_database))
    async with serving(app, role=Role.CHANNEL) as channel:
        lookup = await channel.get("/v1/customers/lookup", params={"phone": "13800138000"})
        search = await channel.get("/v1/customers", params={"name": "王"})
        managers = await channel.get("/v1/managers")

    assert lookup.status_code == 200
    assert (search.status_code, search.json()["scope"]) == (403, "customers:read")
    assert managers.status_code == 403
    assert search.json()["detail"] == "the channel role does not hold customers:read"


def test_the_openapi_document_says_which_roles_may_call_each_route() -> None:
    spec = SERVICES["customer"]
    document = spec.create_app(spec.settings()).openapi()
    view = document["paths"]["/v1/customers/{customer_id}/view"]["get"]

    assert view["x-scope"] == "customers:view"
    assert "channel" in view["x-roles"]
    assert "administrator" not in view["x-roles"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_a_service_calls_another_with_its_own_token(migrated_database: str) -> None:
    """The contact centre's customer directory authenticates as a channel account."""
    from services.contact_center.calls.customer_client import CustomerClient
    from services.contact_center.config import Settings as ContactCenterSettings

    spec = SERVICES["customer"]
    customer_app = spec.create_app(settings_for(spec, migrated_database))
    async with serving(customer_app) as system:
        customer = await create_customer(system)
        directory = CustomerClient(
            ContactCenterSettings(database_url=migrated_database),
            transport=httpx.ASGITransport(app=customer_app),
        )
        try:
            view = await directory.view(uuid.UUID(customer["id"]))
            asked = await directory._client.get("/v1/customers")  # beyond a channel's scopes
        finally:
            await directory.aclose()

    assert view is not None
    assert view["customer"]["id"] == customer["id"]
    assert asked.status_code == 403
