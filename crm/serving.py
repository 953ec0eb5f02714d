"""Serving one or several services with uvicorn in one event loop.

The embedded run serves all four from one process; uvicorn's own signal handling is per server,
so the servers here leave signals to us and stop together on SIGINT/SIGTERM.
"""

import asyncio
import contextlib
import signal
from collections.abc import Generator, Sequence

import uvicorn
from fastapi import FastAPI

# In-flight requests get this long to finish after a stop signal (issue: graceful shutdown).
GRACEFUL_SHUTDOWN_SECONDS = 8


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(apps: Sequence[tuple[FastAPI, str, int]]) -> None:
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
        for app, host, port in apps
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
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if any(not server.started for server in servers):
        raise SystemExit("a service failed to start; see the log above")
