"""Keeping a service's background tasks (the outbox relay, the event consumer, the periodic
jobs) running for as long as the service runs.

Each task is meant to run until the service stops: one that ends before then, by an error or
by returning, has stopped publishing or consuming while the service still takes writes. The
supervisor logs why it ended and starts it again after a pause. A task that keeps ending
(more than ``max_restarts`` in ``window_seconds``) is given up: the process then reports
itself unhealthy on ``/healthz`` so that the orchestrator restarts it whole, rather than
serving on without it.
"""

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.backoff import BACKGROUND_PAUSES, RetryPauses
from shared.logging import get_logger
from shared.metrics import ServiceMetrics
from shared.waiting import wait_for_event

log = get_logger(__name__)


@dataclass(frozen=True)
class RestartLimit:
    """How many unexpected ends a task may have in a window before it is given up."""

    max_restarts: int = 5
    window_seconds: float = 300.0


DEFAULT_LIMIT = RestartLimit()


class Supervisor:
    def __init__(
        self,
        *,
        metrics: ServiceMetrics,
        stopping: asyncio.Event,
        limit: RestartLimit = DEFAULT_LIMIT,
        pauses: RetryPauses = BACKGROUND_PAUSES,
    ) -> None:
        self._metrics = metrics
        self._stopping = stopping
        self._limit = limit
        self._pauses = pauses
        # The current run of each task, by name: what stop cancels, and what a test may kill.
        self.running: dict[str, asyncio.Task[None]] = {}
        self.given_up: set[str] = set()

    def start(self, name: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run ``run()`` as the task ``name`` and keep it running; the returned task is the
        supervision itself, which ends when the service stops or the task is given up."""
        first = self._run(name, run)
        return asyncio.create_task(self._supervise(name, run, first), name=f"supervise-{name}")

    def _run(self, name: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        current = asyncio.create_task(_as_coroutine(run), name=name)
        self.running[name] = current
        self._metrics.background_task_up.labels(name).set(1)
        return current

    @property
    def healthy(self) -> bool:
        return not self.given_up

    async def _supervise(
        self, name: str, run: Callable[[], Awaitable[None]], current: asyncio.Task[None]
    ) -> None:
        up = self._metrics.background_task_up.labels(name)
        ends: deque[float] = deque()
        backoff = self._pauses.backoff()
        while True:
            try:
                await asyncio.wait({current})
            finally:
                # The supervision is cancelled only when the service stops: take its run along.
                current.cancel()
            up.set(0)
            if self._stopping.is_set():
                return
            now = time.monotonic()
            ends.append(now)
            while ends and ends[0] < now - self._limit.window_seconds:
                ends.popleft()
            reason = _why_it_ended(current)
            error = None if current.cancelled() else current.exception()
            if len(ends) > self._limit.max_restarts:
                self.given_up.add(name)
                log.error(
                    "task.given_up",
                    service=self._metrics.service,
                    task=name,
                    reason=reason,
                    ends=len(ends),
                    exc_info=error,
                )
                return
            self._metrics.background_task_restarts.labels(name).inc()
            log.error(
                "task.ended",
                service=self._metrics.service,
                task=name,
                reason=reason,
                restarting=True,
                exc_info=error,
            )
            await wait_for_event(self._stopping, backoff.after_failure())
            if self._stopping.is_set():
                return
            current = self._run(name, run)


async def _as_coroutine(run: Callable[[], Awaitable[None]]) -> None:
    await run()


def _why_it_ended(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    if error is None:
        return "returned before the service stopped"
    return f"{type(error).__name__}: {error}"[:500]
