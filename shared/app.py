"""The FastAPI app every service is: ``create_service_app`` composes it, so that a service
package only declares its routers, its handlers and its jobs.

The app owns the service's running parts (``shared.runtime``): built and started in its
lifespan, stopped when it ends. Its routes are the service's routers behind the guard, plus the
operations routes (health, readiness, metrics) and the audit log. A worker process
(``SharedSettings.part``) has the operations routes alone: the same probes and the same
scrape as the API's, on a port of its own.
"""

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from fastapi import APIRouter, FastAPI
from opentelemetry.sdk.trace import TracerProvider

from shared.audit_api import router as audit_router
from shared.auth.http import guard_routers
from shared.auth.tokens import TokenVerifier
from shared.consumer import BatchHandler, Handlers
from shared.health import router as operations_router
from shared.http import RequestContextMiddleware, RunningService
from shared.json_body import document_json_bodies
from shared.logging import configure_logging, get_logger
from shared.metrics import ServiceMetrics
from shared.nul_guard import NUL_GUARD, document_storable_text
from shared.problems import install_problem_handlers
from shared.runtime import PeriodicJob, ServiceRuntime
from shared.settings import SharedSettings
from shared.tracing import create_tracer_provider, fastapi_telemetry

log = get_logger(__name__)

WORKER_DESCRIPTION = (
    "The service's worker: its outbox relay, its event consumer and its periodic jobs. It "
    "answers the probes and the metrics scrape only; the API is served by another process."
)


class AsyncClosable(Protocol):
    async def aclose(self) -> None: ...


def create_service_app(
    settings: SharedSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    handlers: Handlers,
    jobs: Sequence[PeriodicJob] = (),
    metrics: ServiceMetrics | None = None,
    batch_handler: BatchHandler | None = None,
    clients: Sequence[AsyncClosable] = (),
) -> FastAPI:
    """``metrics``: pass one when the service registers domain metrics of its own on it.
    ``clients``: what the service holds open to others (HTTP clients), closed last."""
    metrics = metrics or ServiceMetrics(settings.service_name)
    # Made here rather than in the lifespan so that a test can add a span processor first.
    tracer_provider = create_tracer_provider(settings)
    token_verifier = TokenVerifier(settings)
    clients = (*clients, token_verifier)

    build_runtime = functools.partial(
        ServiceRuntime.build,
        settings,
        handlers=handlers,
        metrics=metrics,
        jobs=jobs,
        batch_handler=batch_handler,
        tracer_provider=tracer_provider,
    )
    lifespan = _lifespan(settings, build_runtime, clients=clients, tracer_provider=tracer_provider)
    serves_api = settings.part.serves_api
    app = FastAPI(
        title=title if serves_api else f"{title} (worker)",
        description=description if serves_api else WORKER_DESCRIPTION,
        version="1.0.0",
        lifespan=lifespan,
        telemetry=fastapi_telemetry(tracer_provider),  # type: ignore[arg-type]
    )
    app.state.tracer_provider = tracer_provider
    app.state.token_verifier = token_verifier
    app.add_middleware(
        RequestContextMiddleware, metrics=metrics, max_body_bytes=settings.max_request_bytes
    )
    install_problem_handlers(app)
    app.include_router(operations_router)
    if not serves_api:
        return app
    # Every route of the service's own routers is behind the guard; only the operations
    # routes (health, readiness, metrics) answer without a token. Text PostgreSQL cannot
    # store is refused before any handler runs.
    guard_routers(
        app,
        [*routers, audit_router],
        checks=[NUL_GUARD],
        describe=[document_json_bodies, document_storable_text],
    )
    return app


def _lifespan(
    settings: SharedSettings,
    build_runtime: Callable[[], ServiceRuntime],
    *,
    clients: Sequence[AsyncClosable],
    tracer_provider: TracerProvider | None,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The app's life: its runtime built and started, then stopped, the clients closed and
    the last spans exported."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(level=settings.log_level, json=settings.log_json)
        runtime = build_runtime()
        # What the request plumbing reaches (shared.http.runtime_of); mypy checks that it fits.
        running: RunningService = runtime
        app.state.runtime = running
        await runtime.start()
        log.info("service.started", service=settings.service_name, bus=settings.bus.value)
        try:
            yield
        finally:
            await runtime.stop()
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.aclose()
            if tracer_provider is not None:
                tracer_provider.shutdown()  # exports the spans still batched
            log.info("service.stopped", service=settings.service_name)

    return lifespan
