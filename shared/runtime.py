"""One service's running parts: engine → bus → outbox relay → event consumer → periodic jobs,
started together and stopped in reverse order. ``shared.app`` builds the FastAPI app that owns
them; the request plumbing reaches them through ``shared.http.runtime_of``.

Which of them run depends on the process's part (``SharedSettings.part``): all of them, the API's
(no relay, consumer or jobs: it only counts the outbox's backlog, for back-pressure) or the
worker's (the bus work). The relay listens for the writers' commits (``shared.notify``), so that
it publishes at once whichever process wrote.
"""

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bus import Bus
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus
from shared.consumer import BatchHandler, EventConsumer, Handlers
from shared.db import create_engine, create_probe_engine, create_sessionmaker
from shared.logging import get_logger
from shared.metrics import ServiceMetrics
from shared.notify import NotificationListener, listener_dsn
from shared.outbox import EVENT_SOURCE, outbox_channel
from shared.outbox_relay import BACKLOG_REFRESH_SECONDS, OutboxRelay
from shared.settings import BusBackend, SharedSettings
from shared.supervision import RestartLimit, Supervisor
from shared.tracing import bus_tracer, trace_engine
from shared.waiting import wait_for_event

log = get_logger(__name__)

SHUTDOWN_SECONDS = 8.0


def create_bus(
    settings: SharedSettings, engine: AsyncEngine, *, probe_engine: AsyncEngine | None = None
) -> Bus:
    if settings.bus is BusBackend.KAFKA:
        return KafkaBus.from_settings(settings)
    return LocalBus(engine, partitions=settings.local_bus_partitions, probe_engine=probe_engine)


@dataclass(frozen=True)
class PeriodicJob:
    """Work a service does on the clock rather than on a request or an event (a deadline
    sweep). ``run`` opens its own transaction; with several replicas each runs the job, so
    the job must share work safely (row locks with SKIP LOCKED)."""

    name: str
    every_seconds: float
    run: Callable[["ServiceRuntime"], Awaitable[None]]


@dataclass
class ServiceRuntime:
    settings: SharedSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus
    metrics: ServiceMetrics
    relay: OutboxRelay
    consumer: EventConsumer | None
    probe_engine: AsyncEngine
    jobs: Sequence[PeriodicJob] = ()
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    listeners: list[NotificationListener] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        limit = RestartLimit(
            max_restarts=self.settings.background_task_max_restarts,
            window_seconds=self.settings.background_task_restart_window_seconds,
        )
        self.supervisor = Supervisor(metrics=self.metrics, stopping=self.stopping, limit=limit)

    @classmethod
    def build(
        cls,
        settings: SharedSettings,
        *,
        handlers: Handlers,
        metrics: ServiceMetrics,
        jobs: Sequence[PeriodicJob] = (),
        batch_handler: BatchHandler | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> "ServiceRuntime":
        engine = create_engine(settings)
        trace_engine(engine, tracer_provider)
        sessions = create_sessionmaker(engine)
        sessions.configure(info={EVENT_SOURCE: settings.event_source})
        probe_engine = create_probe_engine(settings)
        bus = create_bus(settings, engine, probe_engine=probe_engine)
        tracer = bus_tracer(tracer_provider, settings.bus.value)
        relay = OutboxRelay(
            sessions,
            bus,
            schema=settings.db_schema,
            metrics=metrics,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval_seconds,
            tracer=tracer,
        )
        works = settings.part.works_the_bus
        consumer = (
            EventConsumer(
                bus=bus,
                sessions=sessions,
                group=f"crm-{settings.service_name}",
                handlers=handlers,
                metrics=metrics,
                max_attempts=settings.consumer_max_attempts,
                retry_backoff=settings.consumer_retry_backoff_seconds,
                batch_size=settings.consumer_batch_size,
                linger_ms=settings.consumer_linger_ms,
                on_committed=relay.wake,
                batch_handler=batch_handler,
                tracer=tracer,
            )
            if handlers and works
            else None
        )
        return cls(
            settings,
            engine,
            sessions,
            bus,
            metrics,
            relay,
            consumer,
            probe_engine,
            jobs if works else (),
        )

    async def start(self) -> None:
        if not self.settings.part.works_the_bus:
            # Requests refuse writes while the backlog is over its limit: the relay elsewhere
            # keeps the count for its own process, so this one counts for itself.
            self.tasks.append(self.supervisor.start("outbox-backlog", self._watch_backlog))
            return
        try:
            await self.bus.start()
        except Exception as error:
            # Keep serving: writes go to the outbox, readiness says the bus is down, and the
            # relay and consumer keep trying until it is back.
            log.warning("bus.start_failed", service=self.settings.service_name, error=str(error))
        # Looked up at each start, not bound once: a restart runs what the part is then.
        self.tasks.append(self.supervisor.start("outbox-relay", lambda: self.relay.run()))
        listener = NotificationListener(
            listener_dsn(self.engine),
            outbox_channel(self.settings.db_schema),
            self.relay.wake,
            application_name=f"crm-{self.settings.service_name}-relay",
        )
        self.listeners.append(listener)
        self.tasks.append(self.supervisor.start("outbox-listener", listener.run))
        if self.consumer is not None:
            consumer = self.consumer
            self.tasks.append(self.supervisor.start("event-consumer", lambda: consumer.run()))
        for job in self.jobs:
            self.tasks.append(
                self.supervisor.start(job.name, functools.partial(self._run_periodically, job))
            )

    async def _run_periodically(self, job: PeriodicJob) -> None:
        while not self.stopping.is_set():
            try:
                await job.run(self)
            except Exception as error:
                # The database may be away; the next round tries again, nothing is lost.
                log.warning("job.failed", job=job.name, error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=job.every_seconds)

    async def _watch_backlog(self) -> None:
        while not self.stopping.is_set():
            await self.relay.observe_backlog()
            await wait_for_event(self.stopping, BACKLOG_REFRESH_SECONDS)

    async def stop(self) -> None:
        self.stopping.set()
        if self.consumer is not None:
            self.consumer.stop()
        self.relay.stop()
        for listener in self.listeners:
            listener.stop()
        _, pending = (
            await asyncio.wait(self.tasks, timeout=SHUTDOWN_SECONDS) if self.tasks else ((), ())
        )
        for task in pending:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.settings.part.works_the_bus:
            await self.relay.drain(timeout=2.0)
            with contextlib.suppress(Exception):
                await self.bus.stop()
        await self.engine.dispose()
        await self.probe_engine.dispose()
