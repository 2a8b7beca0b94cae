"""Many new rows into one table, in the caller's transaction: PostgreSQL's COPY for a large write, a plain
multi-row INSERT otherwise (SQLite, the embedded default, and small writes).

COPY is several times cheaper than INSERT for the server and for us (one binary stream instead of a bound
statement per row), and what makes a state-sized SACWIS load close to a raw load. The rows are the ones the
INSERT would write, value for value: each value goes through its column type's own bind processing (enum
names, JSON text, UTC timestamps), a column left out gets its Python-side default as the INSERT would, and a
column with neither is left to the database (its server default or NULL). A constraint violation is raised
as SQLAlchemy's `IntegrityError`, as from the INSERT, so callers' savepoints and retries are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

CHUNK = 500  # rows per INSERT statement on the INSERT path
COPY_MIN_ROWS = 50  # below this a COPY's extra round trip (the table's column types) costs more than it saves


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`, by COPY on PostgreSQL when there are many."""
    if not rows:
        return
    if len(rows) < COPY_MIN_ROWS or session.bind is None or session.bind.dialect.name != "postgresql":
        return await _insert(session, table, rows)
    await session.flush()  # what the session holds is written first, as an INSERT's autoflush would
    connection = await session.connection()
    dialect = connection.dialect
    given = list(rows[0])
    columns = [c for c in table.columns if c.key in rows[0] or c.default is not None]
    defaults = [c.default for c in columns if c.key not in rows[0]]
    if any(d is not None and (d.is_sequence or d.is_clause_element) for d in defaults):
        return await _insert(session, table, rows)  # a default only the database can evaluate: no COPY
    makers: list[Callable[[dict[str, Any]], Any]] = []
    for column in columns:
        process = column.type._cached_bind_processor(dialect)
        if column.key in rows[0]:
            makers.append(_given(column.key, process))
        else:
            makers.append(_default(column.default, process))
    records = [tuple(make(row) for make in makers) for row in rows]
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        await driver.copy_records_to_table(
            table.name, schema_name=table.schema, columns=[c.name for c in columns], records=records
        )
    except Exception as exc:
        if str(getattr(exc, "sqlstate", "")).startswith("23"):  # class 23: integrity constraint violation
            raise IntegrityError(f"COPY {table.name} ({', '.join(given)})", None, exc) from exc
        raise


async def _insert(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), list(rows[start : start + CHUNK]))


def _given(key: str, process: Callable[[Any], Any] | None) -> Callable[[dict[str, Any]], Any]:
    if process is None:
        return lambda row: row[key]
    return lambda row: process(row[key])


def _default(default: Any, process: Callable[[Any], Any] | None) -> Callable[[dict[str, Any]], Any]:
    """A Python-side column default, evaluated per row as the INSERT evaluates it."""
    if default.is_scalar:
        value = default.arg if process is None else process(default.arg)
        return lambda _row: value
    call = default.arg  # a callable SQLAlchemy wrapped to take the execution context (unused by ours)
    if process is None:
        return lambda _row: call(None)
    return lambda _row: process(call(None))
