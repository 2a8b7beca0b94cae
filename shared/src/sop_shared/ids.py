"""Identifiers: UUIDv7 everywhere (time-ordered, so indexes stay append-friendly)."""

from __future__ import annotations

import uuid

import uuid_utils

_make = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def new_id() -> uuid.UUID:
    """A new UUIDv7 as a standard-library UUID. The 128 bits come from uuid-utils' published `uuid7` (in Rust: a
    SACWIS batch makes about 13 ids per case, and the pure-Python uuid6 took a quarter of the batch's CPU); the
    UUID is made as `uuid_utils.compat.uuid7` makes it (the integer set on an empty UUID, as `uuid.UUID(int=...)`
    sets it, without re-checking a value in range by construction), inline: 0.5 instead of 0.8 µs per id."""
    value = _make(uuid.UUID)
    _set(value, "int", uuid_utils.uuid7().int)
    _set(value, "is_safe", _UNKNOWN)
    return value


def is_uuid7(value: uuid.UUID) -> bool:
    return value.version == 7
