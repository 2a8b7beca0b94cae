"""Cursor pagination over time-ordered UUIDv7 ids: `?limit=&cursor=` -> {items, next_cursor}."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Annotated, Any, Generic, TypeVar, TypeVarTuple

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select

from sop_shared.problems import InvalidInput

T = TypeVar("T")
Row = TypeVarTuple("Row")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(last_id: uuid.UUID) -> str:
    raw = json.dumps({"after": str(last_id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded))["after"]
        if not isinstance(after, str):  # uuid.UUID(5) raises AttributeError, which would be a 500
            raise TypeError("after must be a string")
        return uuid.UUID(after)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidInput.field("cursor", "not a cursor this API issued") from exc


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
    limit: int = DEFAULT_LIMIT
    after: uuid.UUID | None = None

    def apply(self, query: Select[*Row], id_column: Any) -> Select[*Row]:
        """Keyset pagination: ordered by id, one more row than asked to know if a next page exists."""
        if self.after is not None:
            query = query.where(id_column > self.after)
        return query.order_by(id_column).limit(self.limit + 1)

    def page(self, rows: list[T], id_of: Any = lambda row: row.id) -> tuple[list[T], str | None]:
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            return rows, encode_cursor(id_of(rows[-1]))
        return rows, None


def _page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query()] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageRequest, Depends(_page_request)]
