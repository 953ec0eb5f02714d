"""Serving one or several services with uvicorn in one event loop.

The embedded run serves all four from one process; uvicorn's own signal handling is per server,
so the servers here leave signals to us and stop together on SIGINT/SIGTERM.
"""

import asyncio
import contextlib
import gc
import signal
from collections.abc import Generator, Sequence

import uvicorn
from fastapi import FastAPI
from structlog.contextvars import bound_contextvars

# In-flight requests get this long to finish after a stop signal (issue: graceful shutdown).
GRACEFUL_SHUTDOWN_SECONDS = 8


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


# Young-generation collections every 10,000 allocations net rather than 700: a request or a
# poll makes thousands of short-lived objects (a 1,000-transaction batch, a poll of events), and
# at 700 the collector ran several times inside each.
YOUNG_COLLECTION_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    """Leave what the process has built by now (modules, the apps, their schemas and routes)
    out of every later collection, and collect the young generation less often.

    Without this, each full collection walked the whole heap of imported libraries: about
    65 ms each, stalling every request and message in the process. Loading 20,000
    transactions into the customer service and ingesting 60,000 more, as
    ``bench.customer_view_ingest`` does, spent 1.8 s in collections; with this, 0.4 s
    (measured with ``gc.callbacks``).
    Call it once the process has imported and built everything, before serving."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)


async def serve(apps: Sequence[tuple[str, FastAPI, str, int]]) -> None:
    """Serve each (service name, app, host, port) until SIGINT or SIGTERM."""
    tune_garbage_collector()
    servers = [
        _QuietServer(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
        )
        for _, app, host, port in apps
    ]

    def stop_all() -> None:
        for server in servers:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_all)
    try:
        await asyncio.gather(
            *(_serve_as(name, server) for (name, *_), server in zip(apps, servers, strict=True))
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if any(not server.started for server in servers):
        raise SystemExit("a service failed to start; see the log above")


async def _serve_as(service: str, server: uvicorn.Server) -> None:
    # Every line the server logs (its start, its stop, an error) names its service: four
    # servers share one process in the embedded run, and their lines were alike.
    with bound_contextvars(service=service):
        await server.serve()
