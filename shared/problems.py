"""RFC 9457 problem details: every error answer is ``application/problem+json``.

Domain errors carry their status (a service raises ``NotFound``; the handler answers 404); 422
is for payload validation only and names each field that failed. When the database is
unavailable the answer is a fast 503 with ``Retry-After``, never a hang or a 500.
"""

from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.bus import BusUnavailableError
from shared.db import is_retryable_conflict, is_unavailable, refused_value
from shared.logging import current_correlation_id, get_logger

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "https://problems.crm.bank.example/"
RETRY_AFTER_SECONDS = 5
TOO_LARGE_TITLE = "Content Too Large"
RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "correlation_id"})


class Problem(BaseModel):
    """The body of every error answer (RFC 9457), for the OpenAPI document."""

    model_config = ConfigDict(extra="allow")  # extension members: errors, scope, backlog, ...

    type: str
    title: str
    status: int
    detail: str
    instance: str
    correlation_id: str | None = None


def problem_type(slug: str) -> str:
    """Stable type URIs: channels switch on them, so they never change once published."""
    return f"{TYPE_PREFIX}{slug}"


class ProblemError(Exception):
    """An error the service can explain to its caller."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"
    headers: dict[str, str] | None = None  # sent with the answer (WWW-Authenticate, say)

    def __init__(self, detail: str, **extensions: Any) -> None:
        clash = RESERVED_MEMBERS & extensions.keys()
        if clash:
            raise ValueError(f"problem extensions may not redefine {sorted(clash)}")
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidField(ProblemError):
    """A value its schema admits but a rule refuses (a period that ends before it starts, a
    date before the account opened): the same 422 and ``errors`` list as a value the schema
    refuses, so that a client handles every refused value one way."""

    status, slug, title = 422, "validation-error", "Invalid request"

    def __init__(self, field: str, message: str, *, where: str = "body") -> None:
        super().__init__(
            f"{field}: {message}",
            field=field,
            errors=[{"field": field, "in": where, "message": message}],
        )


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


_Found = TypeVar("_Found")


async def get_or_404(lookup: Awaitable[_Found | None], error: NotFound) -> _Found:
    """What the lookup found, or the service's own 404 when it found nothing."""
    found = await lookup
    if found is None:
        raise error
    return found


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class Unavailable(ProblemError):
    status, slug, title = 503, "unavailable", "Service unavailable"


class BackPressure(Unavailable):
    """Saturated, not broken: an outbox past its limit, or every pooled connection busy."""

    slug, title = "back-pressure", "Too much work is waiting; retry later"


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    correlation_id = current_correlation_id()
    if correlation_id:
        body["correlation_id"] = correlation_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(location: tuple[Any, ...] | list[Any], body: Any = None) -> str:
    """The field as the caller knows it: FastAPI reports ("body", "amount", 0, "currency"),
    the caller sent amount[0].currency.

    pydantic also puts the member of a union it tried in the location ("name", "none";
    "individual", "profile" for a tagged union): the caller sent no field of that name, so
    such a part is dropped. It is told by walking the body along the location: a part that
    names no key of the object there (and is not the last part, a missing field), or that
    stands under a value with no fields, is a member's tag."""
    parts = list(location)
    if parts and parts[0] in ("query", "path", "header", "cookie") and len(parts) > 1:
        # A parameter is one value (or a list of them): what follows its name is a union's
        # member, or a list's index.
        return str(parts[1]) + "".join(f"[{p}]" for p in parts[2:] if isinstance(p, int))
    if parts and parts[0] == "body":
        parts = parts[1:]
    path, node, known = "", body, body is not None
    for index, part in enumerate(parts):
        if known and isinstance(part, str):
            last = index == len(parts) - 1
            if isinstance(node, dict) and part not in node and not last:
                continue
            if not isinstance(node, dict):
                continue
            node = node.get(part)
        elif known and isinstance(part, int):
            node = node[part] if isinstance(node, list) and -len(node) <= part < len(node) else None
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _message(item: dict[str, Any]) -> str:
    """What was wrong in the validator's own words: pydantic heads a validator's ValueError
    with "Value error, ", which tells the caller nothing."""
    raised = item.get("ctx", {}).get("error")
    if item.get("type") == "value_error" and isinstance(raised, ValueError):
        return str(raised)
    return str(item.get("msg", "invalid"))


async def _validation_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors: list[dict[str, str]] = []
    named: set[tuple[str, str]] = set()
    for item in error.errors():
        field = _field_path(item.get("loc", ()), error.body)
        where = str(item.get("loc", ("body",))[0])
        # A union's members each report the same field; the first says what was wrong.
        if (field, where) not in named:
            named.add((field, where))
            errors.append({"field": field, "in": where, "message": _message(item)})
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem_response(
        request,
        status=422,
        slug="validation-error",
        title="Invalid request",
        detail=f"{first['field']}: {first['message']}",
        errors=errors,
    )


async def _domain_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if error.status == 503 else error.headers
    return problem_response(
        request,
        status=error.status,
        slug=error.slug,
        title=error.title,
        detail=error.detail,
        headers=headers,
        **error.extensions,
    )


async def _http_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
        error.status_code, "http-error"
    )
    return problem_response(
        request,
        status=error.status_code,
        slug=slug,
        title=TOO_LARGE_TITLE if error.status_code == 413 else str(error.detail),
        detail=str(error.detail),
        headers=dict(error.headers) if error.headers else None,
    )


async def _unexpected_problem(request: Request, error: Exception) -> JSONResponse:
    if is_retryable_conflict(error):
        log.warning("request.conflict_retryable", path=request.url.path, error=str(error)[:200])
        return problem_response(
            request,
            status=503,
            slug="try-again",
            title="The request met a concurrent one; retry it",
            detail="Nothing was applied; the same request retried will succeed.",
            headers={"Retry-After": "1"},
        )
    if isinstance(error, PoolTimeout):
        # Every connection of the pool stayed busy for the pool timeout: the service is at
        # capacity, not broken. Refusing now keeps requests from piling up behind the pool.
        log.warning("request.pool_exhausted", path=request.url.path)
        return problem_response(
            request,
            status=BackPressure.status,
            slug=BackPressure.slug,
            title=BackPressure.title,
            detail="Every database connection of this service is busy; nothing was applied.",
            headers={"Retry-After": "1"},
        )
    if is_unavailable(error) or isinstance(error, BusUnavailableError | TimeoutError):
        log.warning("request.dependency_unavailable", path=request.url.path, error=str(error))
        return problem_response(
            request,
            status=503,
            slug="unavailable",
            title="Service unavailable",
            detail="A system this service depends on is unavailable; retry later.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    reason = refused_value(error)
    if reason is not None:
        # The schemas bound every value to what its column holds; this answers what slipped
        # through them as the caller's error, not ours, and is logged so the gap is closed.
        log.warning("request.value_refused_by_database", path=request.url.path, reason=reason)
        return problem_response(
            request,
            status=422,
            slug="value-not-storable",
            title="A value cannot be stored",
            detail=f"A value of the request cannot be stored: {reason}. Nothing was applied.",
            errors=[{"field": "body", "in": "body", "message": reason}],
        )
    log.exception("request.failed", path=request.url.path)
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title="Internal error",
        detail="The request could not be completed; it was not applied.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(ProblemError, _domain_problem)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(Exception, _unexpected_problem)
