"""A service's worker as a child process of `crm run`.

The embedded default serves the four services in one process, but the detector's worker (the
events service's consumer and relay) runs beside it: sharing one event loop with the other
three services, each of the detector's round trips to PostgreSQL waited behind their work, and
a firing took p50 63–85 ms from the channel's POST to a readable opportunity at 1,000
transactions/s (five runs); with the worker apart, 36–70 ms (four runs; ``bench.end_to_end``,
docs/end-to-end.md). The customer service's worker (its relay and consumer) runs apart as
well: the relay then starts a round 0.6 ms after a channel's commit at p50, not 6.6 ms after,
and the end-to-end p50 went from 57.7 to 51.4 ms in one pair of runs.
The child is the same `crm serve <service> --part worker` the distributed topology runs; the
local bus wakes it through PostgreSQL NOTIFY, and it stops with `crm run`.
"""

import asyncio
import contextlib
import os
import sys

from crm.serving import GRACEFUL_SHUTDOWN_SECONDS
from shared.logging import get_logger

log = get_logger(__name__)

RESTART_PAUSE_SECONDS = 1.0


class ChildWorker:
    """Keeps `crm serve SERVICE --part worker` running until stopped; a worker that dies is
    started again, as a supervisor would restart a container."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._command = ["-m", "crm", "serve", service, "--part", "worker"]
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False

    async def run(self) -> None:
        while not self._stopping:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, *self._command, env=os.environ.copy()
            )
            code = await self._process.wait()
            if self._stopping:
                return
            log.error("worker.exited", service=self.service, code=code)
            await asyncio.sleep(RESTART_PAUSE_SECONDS)

    async def stop(self) -> None:
        self._stopping = True
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile (Ctrl-C reaches it)
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), GRACEFUL_SHUTDOWN_SECONDS + 5)
        except TimeoutError:
            process.kill()
            await process.wait()
