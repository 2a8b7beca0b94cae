"""Ids are UUIDv7: standard UUIDs, version 7, RFC variant, carrying the creation time, strictly increasing."""

from __future__ import annotations

import copy
import itertools
import pickle
import time
import uuid

import pytest

from sop_shared.ids import is_uuid7, new_id


def _unix_ms(value: uuid.UUID) -> int:
    return value.int >> 80


def test_new_id_is_a_standard_uuid_version_7() -> None:
    value = new_id()
    assert type(value) is uuid.UUID
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert is_uuid7(value)
    assert not is_uuid7(uuid.uuid4())


def test_ids_carry_the_time_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    assert before <= _unix_ms(value) <= before + 60_000  # never in the past; the library may step ahead


def test_ids_are_strictly_increasing_across_calls_even_within_one_millisecond() -> None:
    ids = [new_id() for _ in range(5000)]  # thousands per millisecond: ordering must not rely on the clock
    assert len(set(ids)) == len(ids)
    assert all(a < b for a, b in itertools.pairwise(ids))
    # ...and in the forms the databases sort by: bytes (PostgreSQL uuid) and hex text (SQLite)
    assert [i.bytes for i in ids] == sorted(i.bytes for i in ids)
    assert [i.hex for i in ids] == sorted(i.hex for i in ids)


def test_later_ids_sort_after_earlier_ones_over_time() -> None:
    first = new_id()
    time.sleep(0.003)
    second = new_id()
    assert _unix_ms(second) > _unix_ms(first)
    assert second > first


def test_a_new_id_is_the_uuid_its_integer_makes_in_every_respect() -> None:
    """`new_id` builds its UUID without `uuid.UUID.__init__` (for speed): it must be the object `UUID(int=...)`
    makes — equal, hashed, printed, pickled, copied alike, immutable, of unknown safety."""
    value = new_id()
    made = uuid.UUID(int=value.int)
    assert value == made and hash(value) == hash(made) and str(value) == str(made) and repr(value) == repr(made)
    assert value.bytes == made.bytes and value.is_safe is made.is_safe is uuid.SafeUUID.unknown
    assert pickle.loads(pickle.dumps(value)) == value and copy.deepcopy(value) == value
    assert {value: 1}[made] == 1
    with pytest.raises(TypeError):
        value.int = 0  # type: ignore[misc]
