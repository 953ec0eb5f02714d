"""Bulk writes: many rows in one statement or one stream, in the session's transaction.

COPY for appends (the outbox, a batch of staged rows), and for upserts and inserts of new rows
one INSERT over unnest() of one array per column: a consumer's or a batch's rows are one round
trip, not one per row or per table.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Numeric, Table, Text, TypeDecorator, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import DeclarativeBase

from shared.db import ServiceBase


async def copy_rows(
    session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Bulk-load rows with PostgreSQL's COPY, in the session's transaction.

    COPY moves thousands of rows in one stream, several times faster than INSERT even
    batched. The table is found through the service's search_path, like every other
    statement."""
    await copy_rows_on(await session.connection(), table, columns, rows)


async def copy_rows_on(
    connection: AsyncConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    schema: str | None = None,
) -> None:
    """:func:`copy_rows` on a connection in a transaction. SQLAlchemy has no COPY, so this
    reaches the asyncpg connection underneath."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    if not driver.is_in_transaction():
        # The driver begins SQLAlchemy's transaction lazily, on the first statement it runs;
        # a COPY sent before that would commit on its own and survive a rollback.
        await connection.execute(text("SELECT 1"))
    assert driver.is_in_transaction()
    await driver.copy_records_to_table(
        table, records=rows, columns=list(columns), schema_name=schema
    )


async def upsert(
    session: AsyncSession,
    model: type[ServiceBase],
    rows: dict[str, Any] | Sequence[dict[str, Any]],
    *,
    key: str | Sequence[str],
    keep: Sequence[str] = (),
) -> None:
    """Insert each row, or overwrite the columns it names on the row with the same ``key``:
    how projections apply the latest event about something. The rows name the same columns.
    Columns in ``keep`` are written on insert only (a first-seen date, say)."""
    rows = [rows] if isinstance(rows, dict) else list(rows)
    keys = (key,) if isinstance(key, str) else tuple(key)
    await write_all(session, [RowsWrite(model, rows, keys, tuple(keep))])


class JSONText(TypeDecorator[str]):
    """A JSONB value bound as the JSON text it already is: the driver sends text to jsonb as
    it is, and JSONB's own binding would serialize the text again, as a JSON string."""

    impl = JSONB
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


@dataclass(frozen=True)
class RowsWrite:
    """One table's rows for :func:`write_all`, all naming the same columns: upserted on
    ``key`` as :func:`upsert` does (``keep`` as there), or with no key inserted where new, as
    :func:`insert_new` does."""

    model: type[DeclarativeBase]
    rows: Sequence[dict[str, Any]]
    key: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    # JSON columns whose values are given as JSON text already (a model's model_dump_json(),
    # made in one call where a dict is built and then serialized value by value).
    json_text: tuple[str, ...] = ()


async def write_all(session: AsyncSession, writes: Sequence[RowsWrite]) -> None:
    """Several tables' rows in one statement, each table's write a data-modifying WITH query:
    one round trip where there were one per table. The writes see the same snapshot and not
    each other's rows, so none may depend on another's (two writes to one table, say)."""
    present = [w for w in writes if w.rows]
    if not present:
        return
    shapes = tuple(
        (cast(Table, w.model.__table__), tuple(w.rows[0]), w.key, w.keep, w.json_text)
        for w in present
    )
    statement = _write_all_statement(shapes)
    parameters: dict[str, list[Any]] = {}
    for n, (write, shape) in enumerate(zip(present, shapes, strict=True)):
        parameters.update(_as_arrays(shape[0], write.rows, shape[1], _write_prefix(n)))
    await session.execute(statement, parameters)


async def insert_new(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    returning: str,
) -> list[Any]:
    """Insert the rows whose key is not there yet (the others are left as they are); returns
    the ``returning`` column of the rows inserted now. (With no answer needed, a
    :class:`RowsWrite` without a key does the same, and can join other writes.)"""
    if not rows:
        return []
    names, table = tuple(rows[0]), cast(Table, model.__table__)
    statement = _insert_new_statement(table, names, returning)
    result = await session.execute(statement, _as_arrays(table, rows, names))
    return list(result.scalars())


# Many rows in one statement: each column travels as one array parameter and unnest() turns
# the arrays back into rows. An executemany runs the statement once per row, and SQLAlchemy
# converts every value of every row on the way; here it converts one parameter per column
# (asyncpg encodes the arrays), and the statement compiles once per table and columns.
def _insert_unnested(
    table: Table, names: tuple[str, ...], prefix: str = "", json_text: tuple[str, ...] = ()
) -> Any:
    arrays = [
        bindparam(f"{prefix}{name}_values", type_=ARRAY(_carrier(table, name, json_text)))
        for name in names
    ]
    rows = func.unnest(*arrays).table_valued(*names).render_derived()
    decimals = _decimal_columns(table)
    columns = [rows.c[n].cast(table.c[n].type) if n in decimals else rows.c[n] for n in names]
    return pg_insert(table).from_select(list(names), select(*columns))


@functools.cache
def _decimal_columns(table: Table) -> frozenset[str]:
    """The columns whose values travel as text, cast back in the statement: asyncpg's binary
    numeric encoder costs about 1 µs a value in Python, a str() and a text array about a
    third of that (timed on 3,000 values), and a detector's run writes a few thousand."""
    return frozenset(
        column.key
        for column in table.c
        if isinstance(column.type, Numeric) and column.type.asdecimal
    )


def _carrier(table: Table, name: str, json_text: tuple[str, ...]) -> Any:
    if name in json_text:
        return JSONText()
    if name in _decimal_columns(table):
        return Text()
    return table.c[name].type


def _write_statement(
    table: Table,
    names: tuple[str, ...],
    keys: tuple[str, ...],
    keep: tuple[str, ...],
    prefix: str,
    json_text: tuple[str, ...] = (),
) -> Any:
    statement = _insert_unnested(table, names, prefix, json_text)
    if not keys:
        return statement.on_conflict_do_nothing()
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={n: statement.excluded[n] for n in names if n not in keys and n not in keep},
    )


# Statements are immutable, and building one anew (columns, coercions) cost more than running
# it on a hot consumer path: each shape is built once per process.
@functools.cache
def _write_all_statement(
    shapes: tuple[
        tuple[Table, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...
    ],
) -> Any:
    first, *others = (
        _write_statement(table, names, keys, keep, _write_prefix(n), json_text)
        for n, (table, names, keys, keep, json_text) in enumerate(shapes)
    )
    if not others:
        return first
    # PostgreSQL runs every data-modifying WITH query to completion, read or not.
    return first.add_cte(*(other.cte(f"write_{n}") for n, other in enumerate(others, 1)))


def _write_prefix(n: int) -> str:
    """The n-th write's parameter names are prefixed, so two tables' columns never clash."""
    return f"w{n}_"


@functools.cache
def _insert_new_statement(table: Table, names: tuple[str, ...], returning: str) -> Any:
    return _write_statement(table, names, (), (), prefix="").returning(table.c[returning])


def _as_arrays(
    table: Table, rows: Sequence[dict[str, Any]], names: tuple[str, ...], prefix: str = ""
) -> dict[str, list[Any]]:
    decimals = _decimal_columns(table)
    arrays: dict[str, list[Any]] = {}
    for name in names:
        values = [row[name] for row in rows]
        if name in decimals:
            values = [None if v is None else str(v) for v in values]
        arrays[f"{prefix}{name}_values"] = values
    return arrays
