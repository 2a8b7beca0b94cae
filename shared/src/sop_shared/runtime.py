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
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sop_shared.settings import ComponentSettings

# Imported by libraries, while a component is loaded and its app built, only to ask about something no component
# uses; each stays in every replica's memory for its life (docs/performance.md, "Memory per replica"):
# - `pydantic.v1` (about 1.5 MB): FastAPI asks of each route's parameters whether it is a pydantic 1 model, and
#   answers no when pydantic.v1 cannot be imported (FastAPI no longer supports such models anyway);
# - `watchfiles` (about 0.7 MB): `import uvicorn` imports it for `--reload`, which `sop serve` never uses, and
#   takes its own file-polling reloader when it cannot be imported.
UNUSED_WHEN_SERVED = ("pydantic.v1", "watchfiles")


@contextmanager
def modules_hidden(names: tuple[str, ...] = UNUSED_WHEN_SERVED) -> Iterator[None]:
    """Within the block, `import <name>` raises ImportError for each of `names` not imported yet (the libraries
    above catch it); after it, each imports as usual again (one who needs it then gets it)."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


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
