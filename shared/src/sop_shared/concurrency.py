"""Optimistic concurrency: every mutable row has a `version`; updates need If-Match, stale ones get 412."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Response

from sop_shared.problems import InvalidInput, StaleVersion, VersionRequired, WeakEtagRefused

# A record's version in a path (`…/versions/{n}`): bounded like the column that keeps it, so a huge number is a
# 422 naming it, never a database overflow.
MAX_VERSION = 2_147_483_647
VersionNumber = Annotated[int, Path(ge=1, le=MAX_VERSION, description="The version number (1 is the first)")]


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def parse_if_match(value: str | None) -> int:
    """The version an If-Match names: `"3"` (the ETag we send) or `3`. A weak tag (`W/"3"`) never matches under
    the strong comparison If-Match uses (RFC 9110 §13.1.1): 412, saying what to send instead."""
    if value is None or not value.strip():
        raise VersionRequired()
    raw = value.strip()
    weak = raw.startswith("W/")
    tag = raw[2:] if weak else raw
    try:
        version = int(tag.strip('"'))
    except ValueError as exc:
        raise InvalidInput.field("If-Match", 'must be the ETag you read, e.g. "3"') from exc
    if weak:
        raise WeakEtagRefused(
            f'If-Match compares ETags strongly: send the ETag as you read it, "{version}", without W/'
        )
    return version


def check_version(current: int, expected: int) -> None:
    """Refuse a write based on an old read; the body tells the client which version is current."""
    if current != expected:
        raise StaleVersion(
            f"You edited version {expected}, but the record is now at version {current}. "
            "Reload it, reapply your change and try again.",
            current_version=current,
        )


# Declared required in the OpenAPI document (sop_shared.openapi reads the marker); FastAPI itself must not
# require it, so a missing one is answered 428, as RFC 6585 says, rather than a generic 422.
REQUIRED_IF_MATCH = {"x-sop-required": True}


async def _if_match(
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description="The ETag you read", json_schema_extra=REQUIRED_IF_MATCH),
    ] = None,
) -> int:
    return parse_if_match(if_match)


IfMatchVersion = Annotated[int, Depends(_if_match)]


async def _optional_if_match(
    if_match: Annotated[str | None, Header(alias="If-Match", description="The ETag you read (optional)")] = None,
) -> int | None:
    # An empty header is no precondition, as if none were sent (never 428 where If-Match is optional).
    return parse_if_match(if_match) if if_match is not None and if_match.strip() else None


OptionalIfMatchVersion = Annotated[int | None, Depends(_optional_if_match)]
