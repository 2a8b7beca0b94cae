"""Optimistic concurrency: every mutable row has a `version`; updates need If-Match, stale ones get 412."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Response

from sop_shared.problems import InvalidInput, StaleVersion, VersionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def parse_if_match(value: str | None) -> int:
    if value is None or not value.strip():
        raise VersionRequired()
    raw = value.strip()
    if raw.startswith("W/"):
        raw = raw[2:]
    raw = raw.strip('"')
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidInput.field("If-Match", 'must be the ETag you read, e.g. "3"') from exc


def check_version(current: int, expected: int) -> None:
    """Refuse a write based on an old read; the body tells the client which version is current."""
    if current != expected:
        raise StaleVersion(
            f"You edited version {expected}, but the record is now at version {current}. "
            "Reload it, reapply your change and try again.",
            current_version=current,
        )


def _if_match(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int:
    return parse_if_match(if_match)


IfMatchVersion = Annotated[int, Depends(_if_match)]
