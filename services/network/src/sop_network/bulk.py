"""Many new rows into one table, in the caller's transaction: PostgreSQL's COPY for a large write, a plain
multi-row INSERT otherwise (SQLite, the embedded default, and small writes).

COPY is several times cheaper than INSERT for the server and for us (one binary stream instead of a bound
statement per row), and what makes a state-sized SACWIS load close to a raw load. The rows are the ones the
INSERT would write, value for value: each value goes through its column type's own bind processing (enum
names, JSON text, UTC timestamps), a column left out gets its Python-side default as the INSERT would, and a
column with neither is left to the database (its server default or NULL). A JSON object or array is written by
orjson (an event payload in a tenth of `json.dumps`' time): the same JSON, written compactly and with its
non-ASCII text as UTF-8 rather than escaped, so it reads back as the same value; whatever orjson refuses or would
write otherwise than `json.dumps` (a subclass of str such as a StrEnum member, a key that is not text, an integer
past 64 bits) goes to the column's own serialiser, as before. (A payload is made of text, numbers, booleans and
null. Three things that are no payload's, which `json.dumps` refuses, orjson writes: a UUID object, as its text; a
plain Enum member, as its value; a float that is not finite, as null.) A constraint violation is raised
as SQLAlchemy's `IntegrityError`, as from the INSERT, so callers' savepoints and retries are unchanged; a
cancelled statement or a lost connection as the `DBAPIError` the service answers 503 for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

CHUNK = 500  # rows per INSERT statement on the INSERT path
COPY_MIN_ROWS = 50  # below this a COPY's extra round trip (the table's column types) costs more than it saves


async def insert_rows(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    converted: dict[str, dict[int, Any]] | None = None,
) -> None:
    """Insert `rows` (dicts with the same keys) into `table`, by COPY on PostgreSQL when there are many.

    `converted` names columns whose values other calls share, in columns of the same type (an event's payload in
    the outbox and in the change log): each such value is then converted (its JSON text made) once for all."""
    if not rows:
        return
    if len(rows) < COPY_MIN_ROWS or session.bind is None or session.bind.dialect.name != "postgresql":
        return await _insert(session, table, rows)
    first = rows[0]
    given = [c for c in table.columns if c.key in first]
    defaulted = [c for c in table.columns if c.key not in first and c.default is not None]
    if any(c.default is not None and (c.default.is_sequence or c.default.is_clause_element) for c in defaulted):
        return await _insert(session, table, rows)  # a default only the database can evaluate: no COPY
    await session.flush()  # what the session holds is written first, as an INSERT's autoflush would
    connection = await session.connection()
    dialect = connection.dialect
    # Column by column (a list per column, no tuple per row), and the row tuples made one at a time as the COPY
    # encodes them: a batch's rows would otherwise be tens of thousands of tuples alive at once, each one the
    # cyclic garbage collector counts and walks.
    values: list[list[Any]] = []
    for column in given:
        process = _bind_processor(column.type, dialect)
        done = converted[column.key] if converted and column.key in converted else {}
        column_values = map(itemgetter(column.key), rows)
        values.append(list(column_values) if process is None else _convert(column_values, process, done))
    for column in defaulted:
        values.append([_default(column.default, _bind_processor(column.type, dialect)) for _ in rows])
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        await driver.copy_records_to_table(
            table.name,
            schema_name=table.schema,
            columns=[c.name for c in (*given, *defaulted)],
            records=zip(*values, strict=True),
        )
    except Exception as exc:
        # The driver's own errors, raised as SQLAlchemy raises them from an INSERT, so the service answers the same:
        # a constraint violation (class 23) the callers' savepoints catch, a cancelled statement or a busy server
        # 503 to retry (`sop_shared.db.database_problem` reads the SQLSTATE), a lost connection 503 too.
        sqlstate = str(getattr(exc, "sqlstate", None) or "")
        statement = f"COPY {table.name}"
        if sqlstate.startswith("23"):
            raise IntegrityError(statement, None, exc) from exc
        if sqlstate:
            raise DBAPIError(statement, None, exc) from exc
        if driver.is_closed():
            raise DBAPIError(statement, None, exc, connection_invalidated=True) from exc
        raise


async def _insert(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), list(rows[start : start + CHUNK]))


def _bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How the column's type binds a value for this dialect; for JSON made with `json.dumps` (no serialiser of the
    engine's own), by orjson first."""
    process: Callable[[Any], Any] | None = type_._cached_bind_processor(dialect)
    if process is None or not isinstance(type_, JSON) or getattr(dialect, "_json_serializer", None) is not None:
        return process
    if type_._str_impl._cached_bind_processor(dialect) is not None:
        return process  # the dialect processes the text further
    return partial(_json_text, process)


# Subclasses (of str, int, dict, list: a StrEnum member), dates and times and dataclasses, which orjson would write
# itself where `json.dumps` writes them otherwise or refuses them, are refused, and so left to `json.dumps`.
_AS_JSON_DUMPS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_text(process: Callable[[Any], Any], value: Any) -> Any:
    if type(value) is dict or type(value) is list:
        try:
            return orjson.dumps(value, option=_AS_JSON_DUMPS).decode()
        except orjson.JSONEncodeError:
            pass  # the column's serialiser writes it, or refuses it, as the INSERT would
    return process(value)


def _convert(values: Iterable[Any], process: Callable[[Any], Any], done: dict[int, Any]) -> list[Any]:
    """Each value as the column's type binds it; a value object met before in the column (the batch's one
    timestamp, an enum member, a payload shared with another table's column) is converted once. The rows hold
    the objects meanwhile, so an id is not reused while `done` is."""
    out: list[Any] = []
    append, seen = out.append, done.get  # bound once: this runs for every processed value of a batch
    for value in values:
        key = id(value)
        processed = seen(key, done)  # `done` itself: not met before (no processed value is that dict)
        if processed is done:
            processed = done[key] = process(value)
        append(processed)
    return out


def _default(default: Any, process: Callable[[Any], Any] | None) -> Any:
    """A Python-side column default, evaluated per row as the INSERT evaluates it."""
    value = default.arg if default.is_scalar else default.arg(None)  # a callable SQLAlchemy wrapped to take
    return value if process is None else process(value)  # the execution context (unused by ours)
