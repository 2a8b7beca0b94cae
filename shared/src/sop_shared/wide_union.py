"""Several reads of different tables in one statement, portable to PostgreSQL and SQLite: a "wide" UNION ALL.

Each branch is a Core select of its own columns. The union gives every branch's columns slots of their type
(branches share them): a row carries its branch's number, its own values in its slots and a typed NULL
(``CAST(NULL AS <type>)``, so PostgreSQL resolves every slot's type and SQLAlchemy converts each value as its
column's type would) in every other slot. One round trip, one statement compiled once (`CompiledStatement`: no
cache key or parameter building per read; the driver's prepared statement on PostgreSQL), rows read back as plain
dicts per branch, with no ORM identity map."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Enum,
    Integer,
    Select,
    String,
    Table,
    TypeDecorator,
    cast,
    literal_column,
    null,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import CompoundSelect

from sop_shared.compiled_statements import CompiledStatement

T = TypeVar("T")


class WideUnion:
    """`WideUnion({"case": select(...), "member": select(...)})`; `await read(session, params)` gives each
    branch's rows as dicts keyed by the branch's column names (labels), in the order the database returns them
    (sort in Python where order matters).

    Branches share slots of the same type (one branch's `created_at` and another's `decided_at` are one
    `TIMESTAMP` slot): the statement is as wide as its branches need at once, not as all of them together, and
    each row converts only that many values (every slot's result conversion runs on every row, NULL or not).
    Strings of any length, texts and enums stored as strings share one kind of slot (plain text in SQL: a UNION
    of `VARCHAR(40)`, `VARCHAR(1000)` and `TEXT` is text, the same characters); a column of them whose type
    converts what it reads (an enum) is converted by its branch, its own values only. PostgreSQL builds every
    slot of every branch on each execution (each branch's projection and row type), so the width is most of what
    the statement costs it beyond the rows."""

    def __init__(self, branches: Mapping[str, Select[Any]]) -> None:
        self.names = list(branches)
        columns = [list(select.selected_columns) for select in branches.values()]
        self.keys = [[c.key for c in cols] for cols in columns]
        slot_types: list[Any] = []  # each slot's type, by position
        of_kind: dict[tuple[Any, ...], list[int]] = {}  # the slots of one kind of type, in order
        placed: list[list[int]] = []  # each branch's slot of each of its columns
        for cols in columns:
            used: dict[tuple[Any, ...], int] = {}
            slots = []
            for column in cols:
                kind = _TEXT_KIND if _is_text(column.type) else _kind(column.type)
                same = of_kind.setdefault(kind, [])
                if used.get(kind, 0) == len(same):
                    same.append(len(slot_types))
                    slot_types.append(_TEXT if kind is _TEXT_KIND else column.type)
                slots.append(same[used.get(kind, 0)])
                used[kind] = used.get(kind, 0) + 1
            placed.append(slots)
        # a row is (branch, slot 0, slot 1, ...): each branch's values, in its columns' order
        self.getters = [itemgetter(*(slot + 1 for slot in slots)) for slots in placed]
        # the text columns each branch converts itself (their slot is plain text): by position in its values
        self._own_types = [
            [(i, column.type) for i, column in enumerate(cols) if _is_text(column.type)] for cols in columns
        ]
        self._conversions: dict[type[Dialect], list[list[tuple[int, Any]]]] = {}
        selects = []
        for i, select in enumerate(branches.values()):
            own = {
                slot: type_coerce(column, _TEXT) if _is_text(column.type) else column
                for slot, column in zip(placed[i], columns[i], strict=True)
            }
            values = [
                own[n].label(f"c{n}") if n in own else cast(null(), slot_type).label(f"c{n}")
                for n, slot_type in enumerate(slot_types)
            ]
            selects.append(select.with_only_columns(literal_column(str(i), Integer).label("branch"), *values))
        self.statement: CompoundSelect[Any] = union_all(*selects)
        self.compiled = CompiledStatement(self.statement)

    def _conversions_for(self, dialect: Dialect) -> list[list[tuple[int, Any]]]:
        """Each branch's text columns whose type converts what it reads (SQLAlchemy's result processor for the
        dialect, as `CompiledStatement` finds a slot's), by position in the branch's values."""
        known = self._conversions.get(type(dialect))
        if known is None:
            known = self._conversions[type(dialect)] = [
                [
                    (i, process)
                    for i, column_type in own
                    if (process := column_type.dialect_impl(dialect).result_processor(dialect, None)) is not None
                ]
                for own in self._own_types
            ]
        return known

    async def read(self, session: AsyncSession, params: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in self.names}
        lists = [found[name] for name in self.names]
        connection = await session.connection()
        conversions = self._conversions_for(connection.dialect)
        for row in await self.compiled.rows(connection, params):
            branch = row[0]
            values = self.getters[branch](row)
            keys = self.keys[branch]
            if len(keys) == 1:
                values = (values,)
            convert = conversions[branch]
            if convert:
                values = list(values)
                for i, process in convert:
                    value = values[i]
                    if value is not None:  # a NULL stays None, as each of SQLAlchemy's conversions leaves it
                        values[i] = process(value)
            lists[branch].append(dict(zip(keys, values, strict=True)))
        return found


def _kind(column_type: Any) -> tuple[Any, ...]:
    """Which slots a column may share: the same type, converting its values the same way (an enum's own class)."""
    return (type(column_type), repr(column_type), getattr(column_type, "enum_class", None))


# The slot every text column shares (strings of any length, texts, enums stored as strings): plain text, which the
# statement converts not at all (its columns' own conversions are their branch's).
_TEXT = String()
_TEXT_KIND = ("text",)


def _is_text(column_type: Any) -> bool:
    """A column stored as text and read as a str, or converted from one: a `String` (`Text`, an `Enum` that is not
    the database's own enum type), or a type decorating one. Not JSON (its own type in PostgreSQL)."""
    impl = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
    if not isinstance(impl, String) or isinstance(impl, JSON):
        return False
    return not (isinstance(impl, Enum) and impl.native_enum)


def sorted_by(rows: Sequence[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


class Record:
    """A row read as its ORM entity's attributes and `model_dump()` (what the domain rules and the `*_out`
    functions read), without building an ORM instance (a few hundred microseconds each)."""

    __slots__ = ("__dict__", "_entity", "_row")

    def __init__(self, row: dict[str, Any], entity: type[Any] | None = None) -> None:
        # the row is the instance's namespace: its columns read at a plain attribute's speed (the domain rules
        # and the `*_out` functions read a few hundred attributes per view)
        self.__dict__ = row
        self._row, self._entity = row, entity

    def __getattr__(self, name: str) -> Any:  # not a column of the row
        # a property of the entity (computed from its columns) reads the row the same way
        attribute = getattr(self._entity, name, None) if self._entity is not None else None
        if isinstance(attribute, property) and attribute.fget is not None:
            return attribute.fget(self)
        raise AttributeError(name)

    def model_dump(self) -> dict[str, Any]:
        return dict(self._row)


def read_as(entity: type[T], row: dict[str, Any]) -> T:
    """The row typed as its entity, for functions that only read the entity's attributes (a `Record`)."""
    return typing.cast(T, Record(row, entity))


def table_of(entity: type[Any]) -> Table:
    """An entity's table, for Core selects of its columns (SQLModel sets `__table__` when the class is made)."""
    table: Table = getattr(entity, "__table__")  # noqa: B009 - not a declared attribute for the type checker
    return table
