"""Identifiers: UUIDv7 everywhere (time-ordered, so indexes stay append-friendly)."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    """A new UUIDv7 as a standard-library UUID."""
    return uuid.UUID(int=uuid6.uuid7().int)


def is_uuid7(value: uuid.UUID) -> bool:
    return value.version == 7
