"""HTTP plumbing every service shares: the request's unit of work, correlation ids, metrics."""

import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import audit
from shared.bus import Bus
from shared.logging import correlation_id_var, get_logger, new_correlation_id
from shared.metrics import ServiceMetrics
from shared.outbox import OUTBOX_WRITTEN
from shared.outbox_relay import OutboxRelay
from shared.problems import TOO_LARGE_TITLE, BackPressure, problem_response
from shared.settings import SharedSettings
from shared.supervision import Supervisor

CORRELATION_HEADER = "x-correlation-id"
S = TypeVar("S", bound=SharedSettings)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


log = get_logger(__name__)


class RunningService(Protocol):
    """What the request plumbing uses of the service's running parts (``shared.runtime``'s
    ``ServiceRuntime``, which the app's lifespan puts on ``app.state.runtime``). Declared here
    so that the plumbing does not import the runtime, which the app factory assembles from it."""

    @property
    def settings(self) -> SharedSettings: ...
    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...
    @property
    def relay(self) -> OutboxRelay: ...
    @property
    def bus(self) -> Bus: ...
    @property
    def metrics(self) -> ServiceMetrics: ...
    @property
    def probe_engine(self) -> AsyncEngine: ...
    @property
    def supervisor(self) -> Supervisor: ...


def runtime_of(request: Request) -> RunningService:
    runtime: RunningService = request.app.state.runtime
    return runtime


def settings_dependency(kind: type[S]) -> Callable[[Request], Coroutine[Any, Any, S]]:
    """A dependency giving the running service's settings as its own class: a service
    declares ``SettingsDep = Annotated[Settings, Depends(settings_dependency(Settings))]``.

    Dependencies here are ``async`` even when they never wait: FastAPI runs a plain function
    in a worker thread, and that hop cost more per request than everything the function does."""

    async def settings(request: Request) -> S:
        found = runtime_of(request).settings
        assert isinstance(found, kind)
        return found

    return settings


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed before the answer is sent, so an answer of
    success means the change and its events are durable; rolled back if anything raises.

    A read (GET, HEAD) runs each statement as a transaction of its own instead: no BEGIN and
    COMMIT go around it, two of the three round trips of a read made in one statement, such as
    the 360 view. It gives up nothing: under READ COMMITTED, the services' level, a transaction
    gave a read's statements no common snapshot either. Reads never write, but for the audit
    record of personal data shown, which is one statement, and the reads that keep what they
    answered (:data:`KeepingReadSessionDep`)."""
    async with _unit_of_work(request, one_transaction=request.method not in READ_METHODS) as s:
        yield s


async def keeping_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read's session in one transaction, for a read that keeps what it answered and
    publishes it (a next best action's decision): its statements and its events commit
    together or not at all. As a read, it is never refused for the outbox's backlog."""
    async with _unit_of_work(request, one_transaction=True) as session:
        yield session


@asynccontextmanager
async def _unit_of_work(request: Request, *, one_transaction: bool) -> AsyncIterator[AsyncSession]:
    runtime = runtime_of(request)
    reading = request.method in READ_METHODS
    backlog = runtime.relay.backlog
    if not reading and backlog > runtime.settings.outbox_backlog_limit:
        raise BackPressure(
            f"{backlog} events are waiting to be published; retry later", backlog=backlog
        )
    async with runtime.sessions() as session:
        async with session.begin():
            if not one_transaction:
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield session
            principal = getattr(request.state, "principal", None)
            if principal is not None and (
                not reading or audit.PERSONAL_FIELDS_READ in session.info
            ):
                audit.record(session, request, principal)
        if session.info.pop(OUTBOX_WRITTEN, False):
            runtime.relay.wake()


# scope="function": the transaction ends right after the endpoint, before the response goes out.
SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]
KeepingReadSessionDep = Annotated[AsyncSession, Depends(keeping_read_session, scope="function")]


class RequestContextMiddleware:
    """Correlation id in and out (``X-Correlation-ID``), the RED metrics of each route, and one
    log line per request: method, route template, status, duration, correlation id and the
    caller's role, never the path's ids, a query or a body (they carry personal data)."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, max_body_bytes: int) -> None:
        self._app = app
        self._metrics = metrics
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(CORRELATION_HEADER.encode())
        correlation_id = _valid_correlation_id(incoming) or new_correlation_id()
        token = correlation_id_var.set(correlation_id)
        status = 500
        started = time.perf_counter()

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((CORRELATION_HEADER.encode(), correlation_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            # OWASP API4: a body past the bound is a 413 before the service reads it whole.
            # Not FastAPI's max_body_size: it answers a body declared too large in plain text,
            # and every error of this API is problem+json.
            if _declared_length(scope) > self._max_body_bytes:
                await _too_large(scope, receive, send_with_context, self._max_body_bytes)
            else:
                bounded = _bounded(receive, self._max_body_bytes)
                await self._app(scope, bounded, send_with_context)
        finally:
            route = scope.get("route")
            # The route template, never the raw path: ids in paths would make labels unbounded
            # and put customers' ids and account numbers in the log.
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            seconds = time.perf_counter() - started
            self._metrics.http_requests.labels(method, template, str(status)).inc()
            self._metrics.http_request_duration.labels(method, template).observe(seconds)
            principal = scope.get("state", {}).get("principal")
            log.info(
                "request",
                method=method,
                route=template,
                status=status,
                duration_ms=round(seconds * 1000, 1),
                role=getattr(getattr(principal, "role", None), "value", None),
            )
            correlation_id_var.reset(token)


def _bounded(receive: Receive, max_bytes: int) -> Receive:
    """``receive``, refusing a body sent in chunks once it passes ``max_bytes``."""
    received = 0

    async def receive_within_bound() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > max_bytes:
            raise HTTPException(413, _limit(max_bytes))
        return message

    return receive_within_bound


def _declared_length(scope: Scope) -> int:
    declared = dict(scope.get("headers") or []).get(b"content-length", b"")
    return int(declared) if declared.isdigit() else 0


def _limit(max_bytes: int) -> str:
    return f"A request body may hold at most {max_bytes} bytes."


async def _too_large(scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
    answer = problem_response(
        Request(scope, receive),
        status=413,
        slug="payload-too-large",
        title=TOO_LARGE_TITLE,
        detail=_limit(max_bytes),
    )
    await answer(scope, receive, send)


def _valid_correlation_id(raw: bytes | None) -> str | None:
    if not raw or len(raw) > 100:
        return None
    value = raw.decode("ascii", errors="ignore")
    return value if value.replace("-", "").replace("_", "").isalnum() else None
