"""Alembic migrations, one history per service in its own schema.

``upgrade`` is what ``crm migrate`` and the embedded start-up run: it creates the schema, takes
an advisory lock (two replicas starting together must not migrate at once) and runs Alembic on
that connection. Each service's ``migrations/env.py`` only calls :func:`run_migrations`.

Each revision runs in a transaction of its own, so that a revision may leave it for a step
PostgreSQL refuses inside one (``CREATE INDEX CONCURRENTLY``, in an ``autocommit_block``);
the lock is therefore the session's, held across those commits.
"""

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.exc import DBAPIError
from structlog.contextvars import bound_contextvars

from shared.audit import AuditEntry
from shared.db import SharedTablesBase, create_engine
from shared.idempotency import IdempotencyRecord
from shared.inbox import InboxRecord
from shared.outbox import OutboxRecord
from shared.settings import SharedSettings

# The tables every service's schema also holds, declared beside their mechanisms: named here so
# that all of them are registered on SharedTablesBase.metadata before autogenerate compares.
SHARED_TABLES = (OutboxRecord, InboxRecord, IdempotencyRecord, AuditEntry)


def alembic_config(script_location: Path, settings: SharedSettings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    config.attributes["settings"] = settings
    return config


async def upgrade(settings: SharedSettings, script_location: Path, revision: str = "head") -> None:
    schema = settings.db_schema
    lock = {"key": f"migrate:{schema}"}
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(hashtext(:key))"), lock)
            try:
                await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                # Alembic finds no transaction open and so runs one per revision itself.
                await connection.commit()
                config = alembic_config(script_location, settings)
                # Alembic's own lines ("Running upgrade …") then say which service they are about.
                with bound_contextvars(service=settings.service_name):
                    await connection.run_sync(_upgrade_on, config, revision)
            finally:
                # After a failed revision the connection's transaction is aborted: roll it
                # back first, or the unlock is refused (the lock would go with the session).
                await connection.rollback()
                await connection.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), lock)
                await connection.commit()
    finally:
        await engine.dispose()


async def schema_is_current(settings: SharedSettings, script_location: Path) -> bool:
    """Whether the service's schema is at this code's head revision or past it.

    A revision this code does not know is a later release's: expand-then-contract migrations
    keep such a schema serving the code before them, so a pod of the previous release may
    start on it. No version table, or an older revision of this history, is not current."""
    scripts = ScriptDirectory.from_config(alembic_config(script_location, settings))
    heads = set(scripts.get_heads())
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(f'SELECT version_num FROM "{settings.db_schema}".alembic_version')  # nosec B608
            )
            revisions = {row[0] for row in rows}
    except DBAPIError:
        # The schema or its version table is not there yet: the migrations have not run.
        return False
    finally:
        await engine.dispose()
    known = {script.revision for script in scripts.walk_revisions()}
    return bool(revisions) and (revisions == heads or not revisions <= known)


def _upgrade_on(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def run_migrations(target_metadata: MetaData) -> None:
    """The body of a service's ``env.py``: migrate on the connection ``upgrade`` handed over,
    or, when run by the ``alembic`` command itself, on a connection of its own."""
    config = context.config
    settings: SharedSettings = config.attributes["settings"]
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection, target_metadata, settings.db_schema)
        return
    asyncio.run(_run_standalone(target_metadata, settings))


def _run(connection: Connection, target_metadata: MetaData, schema: str) -> None:
    context.configure(
        connection=connection,
        # Every service's schema also holds the outbox and inbox: autogenerate must see them
        # as known, not as tables to drop.
        target_metadata=[target_metadata, SharedTablesBase.metadata],
        version_table_schema=schema,
        compare_type=True,
        include_object=_not_alembic_version,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _not_alembic_version(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "table" and name == "alembic_version")


async def _run_standalone(target_metadata: MetaData, settings: SharedSettings) -> None:
    engine = create_engine(settings)
    try:
        # Not in a transaction of ours: Alembic opens one per revision (see the module's note).
        async with engine.connect() as connection:
            await connection.run_sync(_run, target_metadata, settings.db_schema)
    finally:
        await engine.dispose()
