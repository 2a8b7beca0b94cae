"""Typed ids for GraphQL arguments: every id is parsed as a UUID, and every external id checked and quoted,
before it becomes part of a URL. A bad one is the caller's mistake (`BAD_USER_INPUT` naming the argument),
found before any service is called."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from graphql import GraphQLError

MAX_SYSTEM_LENGTH = 50
MAX_EXTERNAL_ID_LENGTH = 100
MAX_IDEMPOTENCY_KEY_LENGTH = 200


def bad_input(argument: str, message: str) -> GraphQLError:
    """The GraphQL twin of a 422: `field` names the argument, `fields` lists it as the services do."""
    return GraphQLError(
        f"{argument}: {message}",
        extensions={"code": "BAD_USER_INPUT", "field": argument, "fields": [{"field": argument, "message": message}]},
    )


def parse_id(value: Any, argument: str) -> uuid.UUID:
    """A GraphQL `ID` as the UUID it must be; only the UUID's canonical form ever reaches a URL."""
    if not isinstance(value, str) or len(value) > 45:  # 36 canonical, 45 for the urn:uuid: form
        raise bad_input(argument, "must be a UUID")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise bad_input(argument, "must be a UUID") from None


def parse_ids(values: list[Any] | None, argument: str) -> list[uuid.UUID] | None:
    if values is None:
        return None
    return [parse_id(v, f"{argument}[{i}]") for i, v in enumerate(values)]


def external_id_segment(value: str, argument: str, *, max_length: int = MAX_EXTERNAL_ID_LENGTH) -> str:
    """An id from another system (SACWIS) as one quoted path segment: printable, bounded, no path tricks."""
    if not 1 <= len(value) <= max_length:
        raise bad_input(argument, f"must be 1 to {max_length} characters")
    if not value.isprintable() or value != value.strip():
        raise bad_input(argument, "must be printable, without leading or trailing spaces")
    if "/" in value or "\\" in value or ".." in value or value == ".":
        raise bad_input(argument, "must not contain '/', '\\' or '..'")
    return quote(value, safe="")


def idempotency_key(value: str | None, argument: str = "idempotencyKey") -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH or not value.isprintable() or not value.isascii():
        raise bad_input(argument, f"must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters")
    return value
