"""What the gateway's requests leave for the cyclic garbage collector (not a test).

    uv run python tests/perf/gateway_garbage.py                    # 50 full views, 50 small ones
    uv run python tests/perf/gateway_garbage.py --cycles 10        # and the shapes of the cycles they leave
    uv run python tests/perf/gateway_garbage.py --traced 20        # and the lines whose memory the cycles hold
    uv run python tests/perf/gateway_garbage.py --threshold 50000  # and how often the collector runs at that

The gateway app runs in this process as in tests/perf/gateway_cpu.py (production settings, SQLite files, the
services' answers recorded once and then replayed), served by uvicorn as `sop serve` serves it; the views are
sent by a client in another process, so that what is counted is the server's alone (an in-process ASGI client
makes cycles of its own that hold each answer). After a warm-up, the collector is switched off, N views are
read, and a full `gc.collect()` with `DEBUG_SAVEALL` counts the objects those views left in reference cycles:
objects reference counting alone did not free, which a process holds until its next cyclic collection (every
`GC_GEN0_THRESHOLD` net allocations: hundreds of views apart at the production setting, `--threshold`).

`--traced N` runs the views once more under `tracemalloc` and prints the memory the collection freed per view,
by the line that allocated it. `--cycles N` prints the N commonest shapes of the strongly connected parts of the
garbage (the cycles themselves; the rest of the garbage is what they hold). `--without-helpers-cycle` is an
experiment: graphql-core's execution context refers to itself through its `async_helpers` (bound methods); the
option drops them once the response is built, to show what that cycle holds.

Compare builds as two runs (`PYTHONPATH=<other checkout>/gateway/src` runs another build's gateway).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import socket
import sys
import tempfile
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

PERF_DIR = Path(__file__).resolve().parent
if str(PERF_DIR) not in sys.path:
    sys.path.insert(0, str(PERF_DIR))

import uvicorn  # noqa: E402
from gateway_cpu import VIEWS, gateway_conftest, replaying  # noqa: E402

from sop_shared.observability import configure_logging  # noqa: E402

CLIENT = """
import sys, httpx
port, views, query, case_id, token = sys.argv[1:6]
with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
    for _ in range(int(views)):
        body = {"query": query, "variables": {"id": case_id}}
        r = client.post("/graphql", json=body, headers={"Authorization": token})
        if r.status_code != 200 or r.json().get("errors"):
            raise SystemExit(f"the view failed: {r.status_code} {r.text[:300]}")
"""


def cycle_shapes(garbage: list[Any]) -> Counter[str]:
    """The strongly connected parts of the garbage with more than one object (Tarjan's algorithm, iterative),
    each named by the types in it."""
    ids = {id(o): i for i, o in enumerate(garbage)}
    edges = [[ids[id(r)] for r in gc.get_referents(o) if id(r) in ids] for o in garbage]
    index = [-1] * len(garbage)
    low = [0] * len(garbage)
    on_stack = [False] * len(garbage)
    stack: list[int] = []
    shapes: Counter[str] = Counter()
    counter = 0
    for root in range(len(garbage)):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            if i < len(edges[v]):
                work.append((v, i + 1))
                w = edges[v][i]
                if index[w] < 0:
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            for w in edges[v]:
                if on_stack[w]:
                    low[v] = min(low[v], low[w])
            if low[v] == index[v]:
                part = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    part.append(w)
                    if w == v:
                        break
                if len(part) > 1:
                    types = Counter(type(garbage[w]).__qualname__ for w in part)
                    shapes[", ".join(f"{n} {t}" for t, n in sorted(types.items()))] += 1
    return shapes


async def measure(system: Any, args: argparse.Namespace) -> None:
    case_id, headers, _, _ = await replaying(system, args.preload)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            system.gateway, host="127.0.0.1", port=port, lifespan="off", http="httptools", ws="none", log_config=None
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)

    async def client(views: int, query: str) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLIENT, str(port), str(views), query, case_id, headers["Authorization"]
        )
        if await process.wait() != 0:
            raise SystemExit("the client failed")

    for query in VIEWS.values():
        await client(args.warmup, query)
    if args.threshold:
        await collections_at(args, client)
    for name, query in VIEWS.items():
        if args.traced:
            await traced(args, name, lambda query=query: client(args.views, query))
        gc.collect()
        gc.disable()
        try:
            await client(args.views, query)
            gc.set_debug(gc.DEBUG_SAVEALL)
            found = gc.collect()
            types = Counter(type(o).__qualname__ for o in gc.garbage)
            shapes = cycle_shapes(gc.garbage) if args.cycles else Counter()
            gc.garbage.clear()
        finally:
            gc.set_debug(0)
            gc.enable()
        print(f"{name}: {found} objects in cycles after {args.views} views, {found / args.views:.1f} per view")
        for shape, count in shapes.most_common(args.cycles):
            print(f"  {count / args.views:>6.2f} per view: a cycle of {shape[:300]}")
        for type_name, count in types.most_common(args.types):
            print(f"  {count / args.views:>8.1f}  {type_name}")
    server.should_exit = True
    await serving


async def traced(args: argparse.Namespace, name: str, run: Callable[[], Awaitable[None]]) -> None:
    gc.collect()
    gc.disable()
    tracemalloc.start(1)
    try:
        await run()
        before = tracemalloc.take_snapshot()
        held = tracemalloc.get_traced_memory()[0]
        gc.collect()
        held -= tracemalloc.get_traced_memory()[0]
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
        gc.enable()
    print(f"{name}: the collection freed {held / args.views / 1024:.1f} KiB per view (tracemalloc); by line:")
    for stat in before.compare_to(after, "lineno")[: args.traced]:
        kib, count = stat.size_diff / args.views / 1024, stat.count_diff / args.views
        print(f"  {kib:>8.1f} KiB {count:>7.1f}  {stat.traceback}")


async def collections_at(args: argparse.Namespace, client: Callable[[int, str], Awaitable[None]]) -> None:
    collections: Counter[int] = Counter()
    collected: Counter[int] = Counter()

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collections[info["generation"]] += 1
            collected[info["generation"]] += info["collected"]

    gc.collect()
    old = gc.get_threshold()
    gc.set_threshold(args.threshold, old[1], old[2])
    gc.callbacks.append(count)
    try:
        for name, query in VIEWS.items():
            collections.clear()
            collected.clear()
            await client(args.views, query)
            print(
                f"{name}, threshold {args.threshold}: {args.views} views, collections by generation "
                f"{dict(collections)}, objects they freed {dict(collected)}"
            )
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*old)


def without_helpers_cycle() -> None:
    from sop_gateway.graphql.execution import GatewayExecutionContext

    original = GatewayExecutionContext.build_response

    def build_response(self: Any, data: Any) -> Any:
        response = original(self, data)
        self.async_helpers = None
        return response

    GatewayExecutionContext.build_response = build_response  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--views", type=int, default=50, help="views of each kind (default 50)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--preload", type=int, default=40, help="danger statements added to the demo family")
    parser.add_argument("--types", type=int, default=0, metavar="N", help="the N commonest types in the garbage")
    parser.add_argument("--cycles", type=int, default=0, metavar="N", help="the N commonest cycles' shapes")
    parser.add_argument("--traced", type=int, default=0, metavar="N", help="tracemalloc: the N lines freed most")
    parser.add_argument("--threshold", type=int, default=0, help="count the collections at this gen-0 threshold")
    parser.add_argument("--without-helpers-cycle", action="store_true", help="experiment (module docstring)")
    args = parser.parse_args(argv)
    if args.without_helpers_cycle:
        without_helpers_cycle()

    async def go() -> None:
        with tempfile.TemporaryDirectory(prefix="sop-gateway-garbage-") as tmp:
            data_dir = Path(tmp)
            configure_logging("WARNING", json_logs=False)
            async with gateway_conftest.embedded_system(
                data_dir / "data", gateway_conftest.sqlite_urls(data_dir), production=True, log_level="WARNING"
            ) as system:
                await measure(system, args)

    asyncio.run(go())


if __name__ == "__main__":
    main()
