"""Cursor pagination over time-ordered UUIDv7 ids: `?limit=&cursor=` -> {items, next_cursor}."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, TypeVarTuple

import orjson
from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_

from sop_shared.problems import InvalidInput

T = TypeVar("T")
Row = TypeVarTuple("Row")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(item_id: uuid.UUID, *, before: bool = False) -> str:
    """A cursor at one item: the items after it (the default), or with `before` the items before it."""
    raw = json.dumps({"before" if before else "after": str(item_id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_cursor(cursor: str, *, field: str = "cursor") -> tuple[uuid.UUID, bool]:
    """The item a cursor is at and whether it reads the items before it (True) or after it (False)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(body, dict) or len(body) != 1 or not body.keys() <= {"after", "before"}:
            raise KeyError("after")
        ((direction, at),) = body.items()
        if not isinstance(at, str):  # uuid.UUID(5) raises AttributeError, which would be a 500
            raise TypeError("the position must be a string")
        return uuid.UUID(at), direction == "before"
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidInput.field(field, "not a cursor this API issued") from exc


def decode_cursor(cursor: str, *, field: str = "cursor") -> uuid.UUID:
    """The item a cursor is at, whichever way it reads."""
    return decode_page_cursor(cursor, field=field)[0]


# The position past every id: a cursor before it reads a list's last items (GraphQL `last` without `before`).
END = uuid.UUID(int=2**128 - 1)


def from_the_end() -> str:
    """The cursor reading the last items of a list, backward."""
    return encode_cursor(END, before=True)


def forward(cursor: str, *, field: str = "after") -> str:
    """The cursor reading the items after the one `cursor` is at (GraphQL `after`: any cursor of the list)."""
    return encode_cursor(decode_cursor(cursor, field=field))


def backward(cursor: str, *, field: str = "before") -> str:
    """The cursor reading the items before the one `cursor` is at (GraphQL `before`: any cursor of the list)."""
    return encode_cursor(decode_cursor(cursor, field=field), before=True)


# Sequence numbers live in BIGINT columns: a cursor past the largest one would fail in the database (a 500).
MAX_SEQUENCE = 2**63 - 1


def encode_sequence_cursor(seq: int) -> str:
    """A cursor over a commit-ordered sequence number (the change feed)."""
    return base64.urlsafe_b64encode(json.dumps({"seq": seq}).encode()).decode().rstrip("=")


def decode_sequence_cursor(cursor: str) -> int:
    try:
        seq = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQUENCE:
            raise TypeError("seq")
        return seq
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidInput.field("cursor", "not a cursor this API issued") from exc


class PageRequest(BaseModel):
    """A window of a list ordered by id: `limit` items after `after` (forward), or the `limit` items just
    before `before` (backward; still given in id order). A page's `next_cursor` reads on in the same
    direction: after its last item going forward, before its first item going backward."""

    limit: int = DEFAULT_LIMIT
    after: uuid.UUID | None = None
    before: uuid.UUID | None = None

    @property
    def backward(self) -> bool:
        return self.before is not None

    def apply(self, query: Select[*Row], id_column: Any) -> Select[*Row]:
        """Keyset pagination: ordered by id, one more row than asked to know if a next page exists."""
        if self.before is not None:
            return query.where(id_column < self.before).order_by(id_column.desc()).limit(self.limit + 1)
        if self.after is not None:
            query = query.where(id_column > self.after)
        return query.order_by(id_column).limit(self.limit + 1)

    def page(self, rows: list[T], id_of: Any = lambda row: row.id) -> tuple[list[T], str | None]:
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        if self.before is not None:
            rows = rows[::-1]  # read nearest first; shown in id order
            return rows, encode_cursor(id_of(rows[0]), before=True) if more else None
        return rows, encode_cursor(id_of(rows[-1])) if more else None


async def _page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(description="`next_cursor` of the page before (a cursor reading backward pages backward)"),
    ] = None,
) -> PageRequest:
    if cursor is None:
        return PageRequest(limit=limit)
    at, before = decode_page_cursor(cursor)
    return PageRequest(limit=limit, before=at) if before else PageRequest(limit=limit, after=at)


PageDep = Annotated[PageRequest, Depends(_page_request)]


# --- long lists of one case, read a window at a time (the case view's statements, trajectories, check-ins) ---

# A position is a few short values; anything longer was not issued here.
MAX_CURSOR_LENGTH = 512
NOT_OURS = "not a cursor this API issued for this list of this case"


class ListPaging(BaseModel):
    """Where a bounded list stands: how many items it holds in all, the cursor reading on (null: no more), and
    the cursors at the window's first and last items (null when it shows none)."""

    total_count: int
    next_cursor: str | None
    start_cursor: str | None = Field(
        default=None, description="Reads the items before the first one shown, backward (pass as `cursor`)"
    )
    end_cursor: str | None = Field(
        default=None, description="Reads the items after the last one shown, forward (pass as `cursor`)"
    )


class CountedPage(Page[T], Generic[T]):
    """A page of a long list with how many items the whole list holds. `next_cursor` reads on in the direction
    the page was read (forward after its last item, or backward before its first); `start_cursor` and
    `end_cursor` read before its first item and after its last."""

    total_count: int
    start_cursor: str | None = Field(
        default=None, description="Reads the items before the first one shown, backward (pass as `cursor`)"
    )
    end_cursor: str | None = Field(
        default=None, description="Reads the items after the last one shown, forward (pass as `cursor`)"
    )

    def paging(self) -> ListPaging:
        return ListPaging(
            total_count=self.total_count,
            next_cursor=self.next_cursor,
            start_cursor=self.start_cursor,
            end_cursor=self.end_cursor,
        )


@dataclass(frozen=True)
class Reading:
    """Where a cursor of a case list reads from: its position (None: an end of the list, the start going forward
    or the end going backward) and whether it reads the items before it."""

    at: tuple[Any, ...] | None
    backward: bool = False


@dataclass(frozen=True)
class CaseList:
    """One long list of one case, as its cursors name it. A cursor carries a digest of the case and the list
    it was issued for, a position in the list's own order and the way it reads from there (after it, or with
    `before` the items before it); a cursor of another case or list is refused exactly like a forged one (same
    field, same message). Any cursor of the list may be turned to read either way (`forward`, `backward`)."""

    case_id: uuid.UUID
    name: str

    @property
    def _digest(self) -> str:
        return hashlib.blake2b(f"{self.case_id}/{self.name}".encode(), digest_size=8).hexdigest()

    def cursor(self, position: Sequence[str | int], *, before: bool = False) -> str:
        body: dict[str, Any] = {"of": self._digest, "at": list(position)}
        if before:
            body["before"] = True
        return _encoded(body)

    def from_the_end(self) -> str:
        """The cursor reading the list's last items, backward (GraphQL `last` without `before`)."""
        return self.cursor((), before=True)

    def forward(self, cursor: str, *, field: str = "after") -> str:
        """The cursor reading the items after the one `cursor` is at (any cursor of this list)."""
        return self.cursor(self._decode(cursor, field=field)[0])

    def backward(self, cursor: str, *, field: str = "before") -> str:
        """The cursor reading the items before the one `cursor` is at (any cursor of this list)."""
        return self.cursor(self._decode(cursor, field=field)[0], before=True)

    def reading(self, cursor: str | None, shape: Sequence[Callable[[Any], Any]], *, field: str = "cursor") -> Reading:
        """The position a cursor of this list reads from, each value converted by `shape`, and its direction."""
        if cursor is None:
            return Reading(None)
        values, before = self._decode(cursor, field=field)
        if not values:  # an end of the list (or a cursor issued by a window of no items)
            return Reading(None, before)
        try:
            if len(values) != len(shape):
                raise ValueError("another shape")
            return Reading(tuple(convert(value) for convert, value in zip(shape, values, strict=True)), before)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput.field(field, NOT_OURS) from exc

    def position(
        self, cursor: str | None, shape: Sequence[Callable[[Any], Any]], *, field: str = "cursor"
    ) -> tuple[Any, ...] | None:
        """The position a cursor of this list is at, each value converted by `shape`; None for none."""
        return self.reading(cursor, shape, field=field).at

    def check(self, cursor: str | None, *, field: str = "cursor") -> list[str | int]:
        """The raw position of a cursor issued for this list (refused, naming `field`, if it was not)."""
        if cursor is None:
            return []
        return self._decode(cursor, field=field)[0]

    def _decode(self, cursor: str, *, field: str) -> tuple[list[str | int], bool]:
        try:
            if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
                raise ValueError("not ours")
            body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            values = body["at"]
            if body["of"] != self._digest or not isinstance(values, list):
                raise ValueError("another list's cursor")
            if not body.keys() <= {"of", "at", "before"} or body.get("before", True) is not True:
                raise ValueError("not ours")
            if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
                raise TypeError("position")
            return values, "before" in body
        except (ValueError, KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise InvalidInput.field(field, NOT_OURS) from exc

    def seek(
        self, query: Select[*Row], columns: Sequence[Any], reading: Reading, *, limit: int, descending: bool = False
    ) -> Select[*Row]:
        """The query for `limit + 1` rows from where `reading` reads, in reading order (the list's order
        going forward, its reverse going backward: `page` puts them back). The list is ordered by `columns`,
        all ascending or, with `descending`, all descending."""
        reverse = descending != reading.backward
        if reading.at is not None:
            query = query.where(after(columns, reading.at, descending=reverse))
        return query.order_by(*(c.desc() if reverse else c for c in columns)).limit(limit + 1)

    def page(
        self,
        rows: Sequence[T],
        *,
        limit: int,
        total: int,
        position_of: Callable[[T], Sequence[str | int]],
        backward: bool = False,
    ) -> CountedPage[T]:
        """`rows` read in reading order with one more than `limit` (see `seek`): the page in the list's order,
        the total and the cursors."""
        shown = list(rows[:limit])
        if backward:
            shown.reverse()
        paging = self.paging(shown, total=total, more=len(rows) > limit, position_of=position_of, backward=backward)
        return CountedPage(
            items=shown,
            total_count=total,
            next_cursor=paging.next_cursor,
            start_cursor=paging.start_cursor,
            end_cursor=paging.end_cursor,
        )

    def paging(
        self,
        shown: Sequence[T],
        *,
        total: int,
        more: bool,
        position_of: Callable[[T], Sequence[str | int]],
        backward: bool = False,
    ) -> ListPaging:
        """Where a window (`shown`, in the list's order) stands: the cursor reading on when there are `more`
        in the direction read, and those before its first item and after its last."""
        start = self.cursor(position_of(shown[0]), before=True) if shown else None
        end = self.cursor(position_of(shown[-1])) if shown else None
        if not more:
            next_cursor = None
        elif backward:
            next_cursor = start or self.from_the_end()
        else:
            next_cursor = end or self.cursor(())  # after none shown: the list's start
        return ListPaging(total_count=total, next_cursor=next_cursor, start_cursor=start, end_cursor=end)


def after(columns: Sequence[Any], position: Sequence[Any], *, descending: bool = False) -> Any:
    """Rows strictly after `position` in the order of `columns` (all ascending, or all descending): spelled out
    column by column, so SQLite and PostgreSQL compare each value with its column's own type."""
    clauses = []
    for i, (column, value) in enumerate(zip(columns, position, strict=True)):
        beyond = column < value if descending else column > value
        clauses.append(and_(*(c == v for c, v in zip(columns[:i], position[:i], strict=True)), beyond))
    return or_(*clauses)


class ListPageRequest(BaseModel):
    """`?limit=&cursor=` of a case list whose cursor is decoded by whoever knows the case and the list."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


async def _list_page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="A cursor of this list: a page's `next_cursor` reads on the way it was read, its "
            "`start_cursor` the items before it, its `end_cursor` those after it",
        ),
    ] = None,
) -> ListPageRequest:
    return ListPageRequest(limit=limit, cursor=cursor)


ListPageDep = Annotated[ListPageRequest, Depends(_list_page_request)]

# How many items of each long list the case view carries when the caller does not say (0 to MAX_LIMIT).
FirstItems = Annotated[int, Query(ge=0, le=MAX_LIMIT, description=f"How many to carry (0 to {MAX_LIMIT})")]


def _encoded(body: dict[str, Any]) -> str:
    """A cursor's body as `json.dumps(body, separators=(",", ":"))` writes it, base64url without padding. orjson
    writes the same bytes for text of printable ASCII and 64-bit integers, 35 times faster; anything else (other
    text, which `json.dumps` escapes, or a larger number) is written by `json.dumps` itself."""
    try:
        raw = orjson.dumps(body)
    except TypeError:
        raw = b"\x7f"
    if not raw.isascii() or b"\x7f" in raw:
        raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
