"""A hot statement compiled once and run as its driver's own SQL, without SQLAlchemy's per-execution machinery.

SQLAlchemy executes a Core statement by generating its cache key (a walk of the whole statement), looking the
compiled form up by that key (hashing and comparing a tuple as large as the statement), building the parameters,
expanding the `IN` lists into the SQL text, then its execution context, cursor and result: for the one wide
statement of a case-view read and the audit's one-statement append, a fifth of a service's CPU per read, about as
much as the driver's own work. `CompiledStatement` does that once per dialect and `IN`-list lengths: the SQL text,
which parameter goes in which position, and each column's result conversion. Each execution binds its parameters
in order, runs the text and converts the rows.

On PostgreSQL, outside a transaction (a read session's and the audit's AUTOCOMMIT connections), the text runs on
asyncpg itself, as the statement SQLAlchemy's asyncpg adapter keeps prepared on the connection (its cache, keyed by
the text, sized by `statement_cache_size`). Otherwise (SQLite,
a connection in a transaction, or an engine something listens to for each statement: the statement spans when they
are exported, a test counting statements) it goes through SQLAlchemy as plain SQL (`exec_driver_sql`), with the
same text and parameters, so transactions, events and spans are as for any statement. Either way an error is the
one SQLAlchemy raises (a timeout, a lost connection: `sop_shared.db.database_problem`'s 503).

It leans on names SQLAlchemy does not publish: the compiler's `_bind_processors`, the asyncpg adapter's
`_execute_mutex`, `_prepare` and `_handle_exception`, the connection's `_handle_dbapi_exception`. The version is
pinned in uv.lock; tests/shared/test_compiled_statements.py (PostgreSQL: the rows against SQLAlchemy's own, the
direct path taken outside a transaction only, a statement timeout and a terminated backend as 503s) fails if an
upgrade moves any of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# Whether the PostgreSQL path runs on asyncpg itself (False: always SQLAlchemy's `exec_driver_sql`; for measuring).
DIRECT = True


@dataclass(frozen=True)
class _Form:
    """The statement for one dialect and one set of `IN`-list lengths: its SQL and how to bind its parameters."""

    sql: str
    # for each position: the parameter's name and the index of its item in a list (None: the value itself), or
    # no name and the value already converted (a literal the statement binds)
    positions: tuple[tuple[str | None, int | None, Callable[[Any], Any] | None, Any], ...]

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, item, process, constant in self.positions:
            if name is None:
                values.append(constant)
                continue
            value = params[name] if item is None else params[name][item]
            values.append(value if process is None else process(value))
        return tuple(values)


@dataclass
class _Compiled:
    compiled: SQLCompiler
    expanding: tuple[str, ...]  # the names of the `IN`-list parameters
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # the result columns that are converted, and how
    forms: dict[tuple[int, ...], _Form]


class CompiledStatement:
    """`CompiledStatement(statement)`; `await rows(connection, params)` gives the rows as tuples of converted
    values in the statement's column order, as `connection.execute(statement, params).all()` would."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[type[Dialect], _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        known = self._by_dialect.get(type(dialect))
        if known is not None:
            return known
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
        if compiled.insert_prefetch or compiled.update_prefetch or not compiled.positional:
            raise TypeError("a statement with Python-side defaults, or for a driver with named parameters")
        every = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in cast(Any, self.statement).exported_columns
        ]
        processors = tuple((i, process) for i, process in enumerate(every) if process is not None)
        expanding = tuple(name for name, bind in compiled.binds.items() if bind.expanding)
        made = self._by_dialect[type(dialect)] = _Compiled(compiled, expanding, processors, {})
        return made

    def _form(self, compiled: _Compiled, params: Mapping[str, Any]) -> _Form:
        shape = tuple(len(params[name]) for name in compiled.expanding)
        form = compiled.forms.get(shape)
        if form is not None:
            return form
        state = compiled.compiled.construct_expanded_state(dict(params))
        unescaped = {escaped: name for name, escaped in (compiled.compiled.escaped_bind_names or {}).items()}
        of_item: dict[str, tuple[str, int]] = {}
        for name, items in state.parameter_expansion.items():
            for i, item in enumerate(items):
                of_item[item] = (unescaped.get(name, name), i)
        positions: list[tuple[str | None, int | None, Callable[[Any], Any] | None, Any]] = []
        # each parameter's conversion, as SQLAlchemy's execution context finds it
        processors: dict[str, Callable[[Any], Any]] = {**compiled.compiled._bind_processors, **state.processors}  # type: ignore[dict-item]
        for key in state.positiontup or ():
            process = processors.get(key)
            if process is not None and not callable(process):  # a tuple `IN` list's: one per element
                raise TypeError("tuples in an IN list are not supported here")
            name = unescaped.get(key, key)
            if key in of_item:
                positions.append((*of_item[key], process, None))
            elif name in params:
                positions.append((name, None, process, None))
            else:  # a value the statement itself binds (a literal): the same on every execution
                value = state.parameters[key]
                positions.append((None, None, None, value if process is None else process(value)))
        form = compiled.forms[shape] = _Form(state.statement, tuple(positions))
        return form

    async def rows(self, connection: AsyncConnection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        dialect = connection.dialect
        compiled = self._compiled(dialect)
        form = self._form(compiled, params)
        arguments = form.arguments(params)
        adapted = _asyncpg_outside_transaction(connection)
        if adapted is not None:
            try:
                async with adapted._execute_mutex:  # what SQLAlchemy's cursor holds around a statement
                    # the statement as asyncpg prepared it on this connection, from SQLAlchemy's own cache of them
                    # (asyncpg's would not keep a text as long as a case view's)
                    prepared, _ = await adapted._prepare(form.sql, dialect._invalidate_schema_cache_asof)  # type: ignore[attr-defined]
                    found: Sequence[Any] = await prepared.fetch(*arguments)
            except Exception as error:
                await connection.run_sync(_raise_as_sqlalchemy, error, form.sql, arguments)
                raise  # not reached: the above raises
        else:
            found = (await connection.exec_driver_sql(form.sql, arguments)).all()
        if not compiled.processors:
            return [tuple(row) for row in found]
        converted = []
        for row in found:
            values = list(row)
            for i, process in compiled.processors:
                value = values[i]
                if value is not None:  # a NULL stays None, as each of SQLAlchemy's conversions leaves it
                    values[i] = process(value)
            converted.append(tuple(values))
        return converted


def _asyncpg_outside_transaction(connection: AsyncConnection) -> Any | None:
    """SQLAlchemy's adapter of an asyncpg connection, when the statement may run on asyncpg directly: PostgreSQL
    in AUTOCOMMIT (no transaction for SQLAlchemy to begin first), the connection live, and nothing listening to
    each statement."""
    if not DIRECT or connection.dialect.driver != "asyncpg":
        return None
    sync = connection.sync_connection
    if sync is None or sync.invalidated or sync.closed:
        return None
    # the connection's listeners: its own, its engine's and those of every engine
    if sync.dispatch.before_cursor_execute or sync.dispatch.after_cursor_execute:
        return None
    adapted: Any = sync.connection.dbapi_connection  # checked out already: no I/O
    if adapted is None or not getattr(adapted, "autocommit", False):
        return None
    return adapted


def _raise_as_sqlalchemy(connection: Connection, error: Exception, sql: str, arguments: tuple[Any, ...]) -> None:
    """Raise a driver's error as SQLAlchemy does for a statement it ran: translated to the DBAPI's exception,
    wrapped in `sqlalchemy.exc.DBAPIError`, the connection invalidated when it was lost."""
    adapted: Any = connection.connection.dbapi_connection
    try:
        adapted._handle_exception(error)  # raises the DBAPI's error for it
    except Exception as dbapi_error:
        connection._handle_dbapi_exception(dbapi_error, sql, arguments, None, None)  # raises SQLAlchemy's
    raise error
