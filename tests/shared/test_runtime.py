"""The runtime tuning after start-up: the start-up heap frozen and generation 0 collected less often, in
production only (tests and `sop dev` start many apps in one process)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from sop_shared.runtime import tune_gc_after_startup
from sop_shared.settings import ComponentSettings, Environment


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_it_is_on_in_production_only_unless_asked(restored_gc: None) -> None:
    assert not ComponentSettings(environment=Environment.development).gc_tuning_enabled
    assert not ComponentSettings(environment=Environment.test).gc_tuning_enabled
    assert ComponentSettings(environment=Environment.production).gc_tuning_enabled
    assert not ComponentSettings(environment=Environment.production, gc_tuning=False).gc_tuning_enabled
    assert ComponentSettings(gc_tuning=True).gc_tuning_enabled
    before = gc.get_threshold()
    assert tune_gc_after_startup(ComponentSettings()) is False
    assert (gc.get_threshold() == before and gc.get_freeze_count() == 0) or gc.get_threshold() == before


def test_it_freezes_the_start_up_heap_and_raises_the_first_threshold(restored_gc: None) -> None:
    _, gen1, gen2 = gc.get_threshold()
    assert tune_gc_after_startup(ComponentSettings(gc_tuning=True, gc_gen0_threshold=12_345)) is True
    assert gc.get_threshold() == (12_345, gen1, gen2)
    assert gc.get_freeze_count() > 0
