"""The guard every business route passes: a valid bearer token whose role holds the route's
scope (shared.auth.roles says how a route's scope is found).

``guard_routers`` includes a service's routers in its app behind the guard, so a route exists
only behind it, and writes each route's scope and the roles holding it into the OpenAPI
document (``x-scope``, ``x-roles``).
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.roles import READ, ROLE_SCOPES, WRITE
from shared.auth.tokens import InvalidToken, Principal, TokenVerifier
from shared.http import READ_METHODS
from shared.problems import Problem, ProblemError

SCOPE_EXTENSION = "x-scope"
ROLES_EXTENSION = "x-roles"

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An OAuth2 access token from the bank's identity provider (`crm token` in "
    "development), sent as `Authorization: Bearer <token>`.",
)


class Unauthenticated(ProblemError):
    status, slug, title = 401, "unauthenticated", "A valid bearer token is required"

    def __init__(self, detail: str, *, invalid: bool) -> None:
        super().__init__(detail)
        # RFC 6750 section 3: the challenge, with error="invalid_token" when one was sent.
        challenge = 'Bearer realm="crm"' + (', error="invalid_token"' if invalid else "")
        self.headers = {"WWW-Authenticate": challenge}


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Your role may not do this"


def requires_scope(scope: str) -> dict[str, Any]:
    """``openapi_extra`` for a route that needs a narrower scope than its tag's read/write."""
    return {SCOPE_EXTENSION: scope}


def scope_of(route: APIRoute) -> str:
    """The scope a route needs: the one it names, else its first tag's read or write.
    Worked out once per route when the app is built (``guard_routers``)."""
    extra = route.openapi_extra or {}
    if SCOPE_EXTENSION in extra:
        return str(extra[SCOPE_EXTENSION])
    methods = route.methods or set()
    if not route.tags:
        raise RuntimeError(f"{sorted(methods)} {route.path} has no tag to take a scope from")
    return f"{route.tags[0]}:{READ if methods <= READ_METHODS else WRITE}"


async def authorise(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthenticated("send an Authorization: Bearer <token> header", invalid=False)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify(credentials.credentials)
    except InvalidToken as error:
        raise Unauthenticated(str(error), invalid=True) from error
    scope: str = request.app.state.route_scopes[id(request.scope["route"])]
    if not principal.may(scope):
        raise Forbidden(f"the {principal.role.value} role does not hold {scope}", scope=scope)
    request.state.principal = principal
    return principal


def current_principal(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


async def _principal(request: Request) -> Principal:
    return current_principal(request)  # async: no worker thread (see settings_dependency)


PrincipalDep = Annotated[Principal, Depends(_principal)]

GUARD = Depends(authorise)

GUARD_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "No bearer token, or one expired or not signed by the bank",
        "model": Problem,
    },
    403: {"description": "The token's role does not hold this route's scope", "model": Problem},
    503: {
        "description": (
            "Overloaded (back-pressure) or a dependency unavailable: nothing was applied; "
            "retry after Retry-After seconds"
        ),
        "model": Problem,
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1, "maximum": 60}}},
    },
}
TOO_LARGE_RESPONSE: dict[str, Any] = {
    "description": "The request body is over CRM_MAX_REQUEST_BYTES (8 MiB by default)",
    "model": Problem,
}


def guard_routers(
    app: FastAPI,
    routers: Sequence[APIRouter],
    *,
    checks: Sequence[Any] = (),
    describe: Sequence[Callable[[dict[str, Any]], None]] = (),
) -> None:
    """Include ``routers`` behind the guard and document each route's scope and roles;
    ``checks`` are further dependencies every route runs once the caller is admitted, and
    ``describe`` writes into the OpenAPI document what those checks enforce.

    Fails at start-up, not at the first request, if a route's scope cannot be told.
    """
    scoped = [
        (route, scope_of(route))
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    # By object id (routes are not hashable): a request's scope names the routers' own route
    # objects, which live as long as their modules.
    app.state.route_scopes = {id(route): scope for route, scope in scoped}
    for route, _ in scoped:
        # A route reading its body itself (shared.json_body) documents it in openapi_extra.
        if route.body_field is not None or "requestBody" in (route.openapi_extra or {}):
            route.responses.setdefault(413, TOO_LARGE_RESPONSE)
    for router in routers:
        app.include_router(router, dependencies=[GUARD, *checks], responses=GUARD_RESPONSES)
    documented = {
        (method.lower(), route.path): scope
        for route, scope in scoped
        for method in route.methods or ()
    }
    generate = app.openapi

    def openapi_with_scopes() -> dict[str, Any]:
        first = app.openapi_schema is None
        document = generate()  # FastAPI keeps it: the scopes are written into it once
        if first:
            for path, operations in document.get("paths", {}).items():
                for method, operation in operations.items():
                    scope = documented.get((method, path))
                    if scope is not None:
                        operation[SCOPE_EXTENSION] = scope
                        operation[ROLES_EXTENSION] = roles_holding(scope)
            for write in describe:
                write(document)
        return document

    app.openapi = openapi_with_scopes  # type: ignore[method-assign]


def roles_holding(scope: str) -> list[str]:
    return sorted(role.value for role, scopes in ROLE_SCOPES.items() if scope in scopes)
