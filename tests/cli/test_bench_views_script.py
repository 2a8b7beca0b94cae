"""`make bench-views` (tests/perf/case_views.py): its options and its machine-readable last line. Nothing here
is timed: the benchmark's figures are read by people, never asserted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

PERF = Path(__file__).resolve().parents[1] / "perf"


@pytest.fixture(scope="module")
def bench() -> Any:
    sys.path.insert(0, str(PERF))
    try:
        spec = importlib.util.spec_from_file_location("bench_case_views", PERF / "case_views.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(PERF))


def test_quick_is_short_and_every_default_can_be_overridden(bench: Any) -> None:
    quick = bench.parse_args(["--quick"])
    assert (quick.rounds, quick.seconds, quick.concurrency) == (2, 1.5, [1, 16, 64])
    full = bench.parse_args([])
    assert (full.rounds, full.seconds, full.drain, full.operations) == (6, 4.0, 30.0, list(bench.OPERATIONS))
    mine = bench.parse_args(["--quick", "--rounds", "3", "--concurrency", "1", "8", "--operations", "caseload page"])
    assert (mine.rounds, mine.concurrency, mine.operations) == (3, [1, 8], ["caseload page"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--concurrency", "0"])


def test_the_last_line_is_machine_readable(bench: Any) -> None:
    line = bench.summary_line(
        cpu_ms_per_view=61.234, gateway_cpu_ms=9.87, vs_peer=None, p50_vs_baseline=1.156, errors=0
    )
    assert line == "bench-views: cpu_ms_per_view=61.2 gateway_cpu_ms=9.9 vs_peer=n/a p50_vs_baseline=1.16 errors=0"
    fields = dict(part.split("=") for part in line.removeprefix("bench-views: ").split())
    assert set(fields) == {"cpu_ms_per_view", "gateway_cpu_ms", "vs_peer", "p50_vs_baseline", "errors"}
    with_peer = bench.summary_line(cpu_ms_per_view=1, gateway_cpu_ms=1, vs_peer=1.5, p50_vs_baseline=1, errors=3)
    assert "vs_peer=1.50" in with_peer and with_peer.endswith("errors=3")


def test_hot_spots_are_read_from_collapsed_stacks(bench: Any) -> None:
    stacks = (
        "run (asyncio/base_events.py:600);handle (app.py:10);walk (case_view.py:5) 30\n"
        "run (asyncio/base_events.py:600);handle (app.py:10);dumps (json/__init__.py:231) 10\n"
        "run (asyncio/base_events.py:600);select (selectors.py:468) 60\n"
    )
    total, own, inclusive = bench.hot_spots(stacks)
    assert total == 100
    assert own[0] == ("select (selectors.py)", 60)
    assert ("handle (app.py)", 40) in inclusive
    assert all(not name.startswith("run ") for name, _ in inclusive)  # on every stack: left out
