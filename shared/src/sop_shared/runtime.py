"""The Python runtime of a served component, tuned once it has started.

After start-up a component holds a large, long-lived heap (modules, the FastAPI/Strawberry schema, pools,
caches), and the cyclic garbage collector walks all of it on every older-generation collection, in the
middle of a request. `tune_gc_after_startup` collects once, moves every object alive at that point into the
permanent generation (`gc.freeze()`: never scanned again, and its pages not dirtied after a fork) and raises
the generation-0 threshold, so a request's short-lived objects are collected in fewer, cheaper passes.
Measured by `make bench-views` (docs/performance.md): a lower p99 at one client and less CPU per view.

Applied in production only (the settings' `gc_tuning`): tests and `sop dev` start and stop many apps in one
process, and freezing each one's start-up heap there would only keep it alive.
"""

from __future__ import annotations

import gc

from sop_shared.settings import ComponentSettings


def tune_gc_after_startup(settings: ComponentSettings) -> bool:
    """Freeze the start-up heap and raise the generation-0 threshold, when the settings ask for it (by
    default: in production). Returns whether it did."""
    if not settings.gc_tuning_enabled:
        return False
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(settings.gc_gen0_threshold, gen1, gen2)
    return True
