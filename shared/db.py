"""Async database access: one engine per service, its tables in the service's own schema.

Models are declared without a schema; the engine's ``search_path`` puts every unqualified
name in the service's schema, so the same model code serves a shared database with one
schema per service and a database per service alike.
"""

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
from sqlalchemy import MetaData, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, PoolProxiedConnection

from shared.settings import SharedSettings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class SharedTablesBase(DeclarativeBase):
    """Base of the tables every service has in its own schema (the outbox, the inbox, the
    idempotency keys, the audit log), each declared beside the mechanism that uses it."""

    metadata = new_metadata()


class ServiceBase(DeclarativeBase):
    """Base of a service's models; each service subclasses it with its own metadata."""

    __abstract__ = True


def create_engine(settings: SharedSettings, *, schema: str | None = None) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.database_pool_size,
        max_overflow=0,
        # A request waits this long for a connection, then fails fast with 503 rather than
        # piling up behind an exhausted pool.
        pool_timeout=settings.database_pool_timeout_seconds,
        connect_args=_connect_args(settings, schema or settings.db_schema, ""),
    )
    _ping_when_idle(engine, settings.database_idle_ping_seconds)
    return engine


_RETURNED_AT = "crm_returned_at"


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection before use, but only one that sat idle ``idle_seconds``.

    Written here rather than SQLAlchemy's ``pool_pre_ping``, which checks on every checkout:
    on asyncpg its check is three round trips (BEGIN, an empty query, ROLLBACK), as many as a
    one-query request makes itself. A connection given back a moment ago is all but certainly
    alive; if it broke in that moment its statement fails (503), and SQLAlchemy then retires
    every connection of the pool, as after a failed ping. Idle connections are the ones a
    database restart or a firewall may have cut unseen, so those are checked (this is the
    pool's documented checkout-event recipe, with the idle condition added)."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "connect")
    @event.listens_for(pool, "checkin")
    def _returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _check_if_idle(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is not None and time.monotonic() - returned < idle_seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            # The pool drops this connection and checks out (or opens) another.
            raise DisconnectionError(f"idle connection is gone: {error}") from error


def create_probe_engine(settings: SharedSettings) -> AsyncEngine:
    """For readiness only: a connection of its own per probe, outside the request pool. A
    service whose pool is exhausted is busy, not broken; were readiness to wait on that pool,
    every replica under load would leave the Service at once and turn overload into outage."""
    return create_async_engine(
        settings.database_url.get_secret_value(),
        poolclass=NullPool,
        connect_args=_connect_args(settings, settings.db_schema, "-probe"),
    )


def _connect_args(settings: SharedSettings, search_path: str, role: str) -> dict[str, Any]:
    return {
        "server_settings": {
            "search_path": f"{search_path},public",
            # Times the database writes as text (JSON built in SQL) say UTC, as the API does,
            # whatever zone the server was set up in.
            "TimeZone": "UTC",
            "statement_timeout": str(settings.database_statement_timeout_ms),
            "application_name": f"crm-{settings.service_name}{role}",
        },
        "timeout": 5,
    }


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits when the block ends, rolls back if it raises."""
    async with sessions() as session, session.begin():
        yield session


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


# connection_exception (class 08), and the server refusing work while it starts, stops or
# is full: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database (or the network to it) is unavailable right now,
    as opposed to a fault of the request or the code: the caller should retry later."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        if sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES:
            return True
    return isinstance(
        error, OperationalError | InterfaceError | DisconnectionError | PoolTimeout | OSError
    )


# deadlock_detected, serialization_failure: the transaction lost a race and was rolled back
# whole; the same work tried again succeeds.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable_conflict(error: BaseException) -> bool:
    """Whether the database rolled the transaction back to break a deadlock or a
    serialization conflict: nothing was applied, and retrying is the remedy."""
    if not isinstance(error, DBAPIError):
        return False
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


UNIQUE_VIOLATION = "23505"


def is_unique_violation(error: BaseException) -> bool:
    """Whether a statement broke a unique constraint (another transaction wrote the same key
    first): the transaction is rolled back. A COPY's error comes from asyncpg unwrapped."""
    if isinstance(error, DBAPIError):
        return getattr(error.orig, "sqlstate", None) == UNIQUE_VIOLATION
    return isinstance(error, asyncpg.PostgresError) and error.sqlstate == UNIQUE_VIOLATION


@contextmanager
def unique_violation_as(refusal: Exception) -> Iterator[None]:
    """Raises ``refusal`` instead of a unique violation met in the block: a write that lost a
    race to another transaction writing the same key, after both had checked and found none.
    The transaction is rolled back all the same."""
    try:
        yield
    except (DBAPIError, asyncpg.PostgresError) as error:
        if not is_unique_violation(error):
            raise
        raise refusal from error


# SQLSTATE class 22, data exception: a value the database will not store (too long for its
# column, a character its encoding cannot hold, a date or number out of its type's range).
REFUSED_VALUE_CLASS = "22"


def refused_value(error: BaseException) -> str | None:
    """The database's reason when it refused a value of the request (nothing was written, the
    transaction is rolled back); None for any other error."""
    if not isinstance(error, DBAPIError):
        return None
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    if not sqlstate.startswith(REFUSED_VALUE_CLASS):
        return None
    # The primary message only ("value too long for type character varying(20)"): PostgreSQL
    # puts the offending value, if anywhere, in the detail, which is not echoed.
    # SQLAlchemy's adapter wraps the driver's error; asyncpg's own carries the message.
    driver_error = getattr(error.orig, "__cause__", None) or error.orig
    return str(getattr(driver_error, "message", None) or sqlstate)
