"""Liveness, readiness and metrics endpoints, the same on every service."""

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shared.db import ping as ping_database
from shared.http import runtime_of
from shared.metrics import CONTENT_TYPE_LATEST

READINESS_CHECK_SECONDS = 2.0

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="Liveness: the process answers and its background tasks run",
    responses={503: {"description": "A background task was given up: restart the process"}},
)
async def healthz(request: Request) -> JSONResponse:
    supervisor = runtime_of(request).supervisor
    if supervisor.healthy:
        return JSONResponse({"status": "ok"})
    return JSONResponse(
        {"status": "failed", "given_up": sorted(supervisor.given_up)}, status_code=503
    )


@router.get(
    "/readyz",
    summary="Readiness: the database and the bus are reachable",
    responses={503: {"description": "A dependency is unreachable"}},
)
async def readyz(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    checks: dict[str, str] = {}
    dependencies = [("database", ping_database(runtime.probe_engine))]
    # A process serving the API alone (``crm serve --part api``) does not use the bus: its
    # writes go to the outbox, and the worker publishes them once the bus is back.
    if runtime.settings.part.works_the_bus:
        dependencies.append(("bus", runtime.bus.ping()))
    for name, check in dependencies:
        try:
            # A dependency that hangs is as unready as one that refuses: answer within bounds.
            await asyncio.wait_for(check, READINESS_CHECK_SECONDS)
            checks[name] = "ok"
        except Exception as error:
            checks[name] = f"unavailable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
        headers=None if ready else {"Retry-After": "5"},
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(runtime_of(request).metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
