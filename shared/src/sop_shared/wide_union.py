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

from sqlalchemy import Integer, Select, Table, cast, literal_column, null, union_all
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
    each row converts only that many values (every slot's result conversion runs on every row, NULL or not)."""

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
                kind = _kind(column.type)
                same = of_kind.setdefault(kind, [])
                if used.get(kind, 0) == len(same):
                    same.append(len(slot_types))
                    slot_types.append(column.type)
                slots.append(same[used.get(kind, 0)])
                used[kind] = used.get(kind, 0) + 1
            placed.append(slots)
        # a row is (branch, slot 0, slot 1, ...): each branch's values, in its columns' order
        self.getters = [itemgetter(*(slot + 1 for slot in slots)) for slots in placed]
        selects = []
        for i, select in enumerate(branches.values()):
            own = dict(zip(placed[i], columns[i], strict=True))
            values = [
                own[n].label(f"c{n}") if n in own else cast(null(), slot_type).label(f"c{n}")
                for n, slot_type in enumerate(slot_types)
            ]
            selects.append(select.with_only_columns(literal_column(str(i), Integer).label("branch"), *values))
        self.statement: CompoundSelect[Any] = union_all(*selects)
        self.compiled = CompiledStatement(self.statement)

    async def read(self, session: AsyncSession, params: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in self.names}
        lists = [found[name] for name in self.names]
        for row in await self.compiled.rows(await session.connection(), params):
            branch = row[0]
            values = self.getters[branch](row)
            keys = self.keys[branch]
            lists[branch].append(dict(zip(keys, values if len(keys) > 1 else (values,), strict=True)))
        return found


def _kind(column_type: Any) -> tuple[Any, ...]:
    """Which slots a column may share: the same type, converting its values the same way (an enum's own class)."""
    return (type(column_type), repr(column_type), getattr(column_type, "enum_class", None))


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
