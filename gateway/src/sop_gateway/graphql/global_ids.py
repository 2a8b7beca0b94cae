"""Relay's `Node`: opaque global ids for the records the case view shows.

A record in the case view is one stored record as one audience reads it in one language (redacted for the
audience, its words translated). Its global `id` therefore names the view as well as the record: the type, the
case, the record's own id (`recordId`), the audience and the language. Two views of one record have two ids,
so a normalising client cache (Apollo, Relay, urql's graphcache) never shows the family's Spanish words in the
English staff screen, nor one audience's redaction in another's. `node(id:)` reads the record back through the
same view (`sop_gateway.graphql.nodes`), with the case view's authorization and audit.

The view a record was read through is the root field's: `caseView` (or `node`, or each item of `nodes`)
registers it in the request's context under its response key (aliases included; with the index for `nodes`),
and each record's `id` names the view of its root. The executor computes each `id` from the record, the context
and the response path as the resolver does (`FROM_PATH`, `sop_gateway.graphql.execution`), without the resolver
machinery that cost about 2 ms for a full view's hundred records."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.pyutils import Path
from strawberry.types import Info

from sop_gateway.graphql.execution import FROM_PATH
from sop_gateway.graphql.ids import bad_input

# The id is short ASCII; anything longer or otherwise shaped was not issued here.
MAX_GLOBAL_ID_LENGTH = 300
NOT_OURS = "not an id this API issued"
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class ViewKey:
    """One case, as one audience reads it, in one language."""

    case_id: uuid.UUID
    audience: str  # the Audience value (`staff`, `family`…)
    language: str  # a standard language tag

    @cached_property
    def case_text(self) -> str:
        """`case_id` as text, for the ids of every record the view shows."""
        return str(self.case_id)


@dataclass(frozen=True)
class GlobalId:
    type_name: str
    view: ViewKey
    record_id: uuid.UUID

    def encode(self) -> str:
        return _encoded(self.type_name, self.view, str(self.record_id))

    @classmethod
    def decode(cls, value: str, argument: str = "id") -> GlobalId:
        """A global id this API issued, or BAD_USER_INPUT naming `argument`."""
        try:
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_GLOBAL_ID_LENGTH or not value.isascii():
                raise ValueError("not ours")
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            type_name, case_id, record_id, audience, language = raw.split(":")
            if not type_name.isidentifier() or not audience.isidentifier() or not language:
                raise ValueError("not ours")
            return cls(type_name, ViewKey(uuid.UUID(case_id), audience, language), uuid.UUID(record_id))
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise bad_input(argument, NOT_OURS) from exc


def root_key(info: Info[Any, Any]) -> str:
    """The response key of the root field this field was resolved under (its alias, if it has one), with the
    item's index under a root field that is a list (`nodes/2`)."""
    return _root_key(info.path)


def _root_key(path: Path) -> str:
    root, below = path, None
    while root.prev is not None:  # up the response path (not `as_list`: a record's id is read for each record)
        root, below = root.prev, root
    return f"{root.key}/{below.key}" if below is not None and isinstance(below.key, int) else str(root.key)


def register_view(info: Info[Any, Any], view: ViewKey, key: str | None = None) -> None:
    """The view the records under this root field (or under `key`: one item of a root list) are read through."""
    info.context.views[key or root_key(info)] = view


@strawberry.interface(
    description="A record with a global id (Relay). The id names the record as one view shows it (audience, "
    "language), so a client cache keeps views apart; `node(id:)` reads it again through that view"
)
class Node:
    @strawberry.field(
        name="id",
        description="The global id of this record in this view (opaque; `recordId` is the record's own id)",
        metadata={FROM_PATH: lambda record, context, path: _global_id(record, context, path)},
    )
    def global_id(self, info: Info[Any, None]) -> strawberry.ID:
        return _global_id(self, info.context, info.path)


def _global_id(record: Any, context: Any, path: Path) -> strawberry.ID:
    """The record's global id in the view its root field registered (the executor reads it the short way,
    from the path, without the resolver's machinery: `FROM_PATH`)."""
    view = context.views.get(_root_key(path))
    if view is None:  # a record type read outside a case view: a failure of ours, never the caller's
        raise GraphQLError("This record has no global id here.", extensions={"code": "INTERNAL_SERVER_ERROR"})
    record_id = str(record.id)  # every Node type has its `recordId`
    if not _CANONICAL_UUID.fullmatch(record_id):  # as `str(uuid.UUID(...))` writes it (the services do)
        record_id = str(uuid.UUID(record_id))
    return strawberry.ID(_encoded(type(record).__name__, view, record_id))


def _encoded(type_name: str, view: ViewKey, record_id: str) -> str:
    raw = f"{type_name}:{view.case_text}:{record_id}:{view.audience}:{view.language}"
    return base64.urlsafe_b64encode(raw.encode("ascii")).decode().rstrip("=")
