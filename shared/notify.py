"""PostgreSQL LISTEN/NOTIFY: how a process learns at once that another one committed work for it.

A writer issues ``pg_notify`` inside its transaction; PostgreSQL delivers the notification when
that transaction commits, and never when it rolls back: exactly when there is something to do.
The outbox relay is woken this way by the writers' commits, and the local bus's consumers by the
relay's appends, whichever process they run in.

A listener holds a connection of its own, outside the pool (a pooled one would be handed to
requests, and a pool's connections come and go). When it drops, the listener connects again
and wakes its owner once, for whatever was notified while nobody listened. A notification can
still be missed in that gap: the owners keep their timers as the fallback.
"""

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backoff import BACKGROUND_PAUSES, RetryPauses
from shared.logging import get_logger
from shared.waiting import wait_for_event

log = get_logger(__name__)

# A connection cut without a word (a firewall's idle timeout, a host gone) is noticed only by
# using it: one short query this often while no notification comes.
CHECK_SECONDS = 30.0
CONNECT_SECONDS = 5.0


def listener_dsn(engine: AsyncEngine) -> str:
    """The engine's database as a plain PostgreSQL URL, for a connection of asyncpg's own."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class NotificationListener:
    """LISTENs on ``channel`` and calls ``on_notify`` for each notification, until stopped."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        on_notify: Callable[[], None],
        *,
        application_name: str = "crm-listener",
        pauses: RetryPauses = BACKGROUND_PAUSES,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.channel = channel
        self._dsn = dsn
        self._on_notify = on_notify
        self._application_name = application_name
        self._pauses = pauses
        self._check_seconds = check_seconds
        self._stopping = False
        # Set by stop() and by the connection's end: either way the listening loop stops.
        self._interrupted = asyncio.Event()
        self.connection: asyncpg.Connection | None = None
        self.listening = asyncio.Event()

    def stop(self) -> None:
        self._stopping = True
        self._interrupted.set()

    async def run(self) -> None:
        backoff = self._pauses.backoff()
        while not self._stopping:
            self._interrupted.clear()
            try:
                await self._listen()
                backoff.succeeded()
            except Exception as error:
                log.warning("notify.listen_failed", channel=self.channel, error=str(error))
            if not self._stopping:
                await wait_for_event(self._interrupted, backoff.after_failure())

    async def _listen(self) -> None:
        connection = await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_SECONDS,
            server_settings={"application_name": self._application_name},
        )
        self.connection = connection
        try:
            connection.add_termination_listener(lambda _: self._interrupted.set())
            await connection.add_listener(self.channel, self._notified)
            self.listening.set()
            # Whatever was committed while no connection listened.
            self._on_notify()
            while not self._stopping:
                if await wait_for_event(self._interrupted, self._check_seconds):
                    break
                await connection.fetchval("SELECT 1", timeout=CONNECT_SECONDS)
            if not self._stopping:
                raise ConnectionError("the listening connection was closed")
        finally:
            self.listening.clear()
            self.connection = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), CONNECT_SECONDS)
            if not connection.is_closed():
                connection.terminate()

    def _notified(self, connection: object, pid: int, channel: str, payload: str) -> None:
        self._on_notify()
