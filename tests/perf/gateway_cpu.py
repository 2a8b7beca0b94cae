"""The gateway's own CPU per `caseView` (not a test): the services' answers recorded once, then replayed.

    uv run python tests/perf/gateway_cpu.py                     # 300 full views, 300 small ones
    uv run python tests/perf/gateway_cpu.py --profile 20        # and cProfile's top 20 functions (full view)
    uv run python tests/perf/gateway_cpu.py --py-spy $(command -v py-spy)   # and py-spy's hot spots (full view)
    uv run python tests/perf/gateway_cpu.py --save before.json  # keep the figures ...
    uv run python tests/perf/gateway_cpu.py --against before.json   # ... and print this run's ratio to them

The gateway app runs in this process with production settings (tests/gateway/conftest.py `embedded_system`,
SQLite files, or `--postgres` fresh databases on $SOP_TEST_POSTGRES_URL, dropped afterwards), the three services
behind it in-process. The demo family is seeded through the gateway with `--preload` more danger statements (the
full view's family, as `make bench-views` seeds it). Each service's answers to the view's reads are recorded once
from the real services; then the transport under the gateway's service clients (below httpx and the tracing
transport: where aiohttp sits over the network) is swapped for one that replays them. What is timed is then the
gateway alone: the edge's authentication, GraphQL (trusted documents, execution, the result tree), the typed
objects built from the services' JSON, httpx, the access cache and the audit write, per request through the
ASGI app as a client sends it. `time.process_time()` around N sequential requests, after a warm-up; the full and
the small view alternate in rounds so the machine's drift falls on both.

The figures are CPU milliseconds per view of this process; compare builds with `--save` / `--against` run one
after the other on the same machine (`PYTHONPATH=<other checkout>/gateway/src` runs another build's gateway).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

TESTS_DIR = Path(__file__).resolve().parents[1]
PERF_DIR = Path(__file__).resolve().parent
for folder in (TESTS_DIR, PERF_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
if "gateway_conftest" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("gateway_conftest", TESTS_DIR / "gateway" / "conftest.py")
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["gateway_conftest"] = _module
    _spec.loader.exec_module(_module)
gateway_conftest = sys.modules["gateway_conftest"]

from case_views import FULL_VIEW, SMALL_VIEW, print_hot_spots  # noqa: E402
from distributed_system import WORKER, danger_statement  # noqa: E402
from gateway_caseload import drop_databases, postgres_urls  # noqa: E402
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext  # noqa: E402

from sop_gateway.demo import STEPS  # noqa: E402
from sop_gateway.demo.members import seed_member_logins  # noqa: E402
from sop_gateway.demo.seeding import DemoSeed  # noqa: E402
from sop_shared.observability import configure_logging  # noqa: E402

VIEWS = {"full caseView": FULL_VIEW, "small caseView": SMALL_VIEW}
CORE = " (graphql-core's executor)"  # the same view, executed by graphql-core's own (Strawberry's default)


class Recorder(httpx.AsyncBaseTransport):
    """Passes calls on to the real transport and keeps each answer by method and URL (the last one wins)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, answers: dict[tuple[str, str], tuple[int, bytes]]) -> None:
        self.inner, self.answers = inner, answers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.answers[(request.method, str(request.url))] = (response.status_code, body)
        return httpx.Response(response.status_code, headers=response.headers, content=body)


class Replay(httpx.AsyncBaseTransport):
    """The recorded answer to each call; a call that was not recorded fails loudly."""

    def __init__(self, answers: dict[tuple[str, str], tuple[int, bytes]]) -> None:
        self.answers = answers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        try:
            status, body = self.answers[(request.method, str(request.url))]
        except KeyError:
            raise SystemExit(f"not recorded: {request.method} {request.url}") from None
        return httpx.Response(status, headers={"content-type": "application/json"}, content=body)


def swap_transports(gateway: Any, make: Any) -> None:
    """Put `make(inner)` under each service client's tracing transport (where aiohttp sits in production)."""
    for client in gateway.state.services.clients.values():
        tracing = client._transport
        tracing.inner = make(tracing.inner)


async def seed(system: Any, preload: int) -> str:
    """The demo family through the gateway (as `make bench-views` seeds it) and `preload` danger statements."""
    demo = DemoSeed(system.keys_dir)
    for step in (step for step in STEPS if step is not seed_member_logins):
        await step(system.client, demo)
    auth = {"Authorization": f"Bearer {system.token(WORKER)}"}
    for n in range(preload):
        response = await system.client.post(
            f"/api/assessment/v1/cases/{demo.case_id}/statements",
            json=danger_statement(f"preload-{n}"),
            headers={**auth, "Idempotency-Key": f"preload-{n}"},
        )
        if response.status_code != 201:
            raise SystemExit(f"preloading statement {n}: {response.status_code} {response.text[:300]}")
    return demo.case_id


async def view(client: httpx.AsyncClient, query: str, case_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": {"id": case_id}}, headers=headers)
    body: dict[str, Any] = orjson.loads(response.content)
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"the view failed: {response.status_code} {json.dumps(body)[:600]}")
    return body


async def replaying(system: Any, preload: int) -> tuple[str, dict[str, str], dict[Any, Any], dict[str, Any]]:
    """Seeds the bench's family, quiets the services' relays and the log lines, records each service's answers to
    the views (a cold and a warm access cache: the answers to both kinds of call) and replays them from then on.
    Returns the case id, the worker's headers, the services' recorded answers and each view's own answer."""
    case_id = await seed(system, preload)
    await system.events_delivered()
    # The services are replayed below: their outbox relays, polling their databases, would only add noise.
    for app in system.services.values():
        app.state.relay.interval_seconds = 3600
    await asyncio.sleep(0.2)
    # Production logs one JSON line per request: the work is kept, the lines are thrown away.
    configure_logging("INFO", json_logs=True, stream=open(os.devnull, "w"))
    headers = system.bearer(WORKER)
    answers: dict[tuple[str, str], tuple[int, bytes]] = {}
    swap_transports(system.gateway, lambda inner: Recorder(inner, answers))
    recorded = {}
    for name, query in VIEWS.items():
        system.forget_access_decisions(ttl_seconds=3600)
        await view(system.client, query, case_id, headers)
        recorded[name] = await view(system.client, query, case_id, headers)
    swap_transports(system.gateway, lambda recorder: Replay(recorder.answers))
    return case_id, headers, answers, recorded


async def measure(system: Any, args: argparse.Namespace) -> dict[str, float]:
    case_id, headers, answers, recorded = await replaying(system, args.preload)
    for name, query in VIEWS.items():
        if await view(system.client, query, case_id, headers) != recorded[name]:
            raise SystemExit(f"{name}: the replayed answer differs from the recorded one")
    full = recorded["full caseView"]["data"]["caseView"]
    print(
        f"recorded {len(answers)} service answers ({sum(len(b) for _, b in answers.values()) // 1024} KiB); the full "
        f"view's answer is {len(json.dumps(full)) // 1024} KiB with {len(full['worries']['danger'] or [])} danger "
        "statements"
    )
    for _ in range(args.warmup):
        for query in VIEWS.values():
            await view(system.client, query, case_id, headers)
    schema = system.gateway.state.graphql_schema
    ours = schema.execution_context_class
    executors = {"": ours, CORE: StrawberryGraphQLCoreExecutionContext}
    if not args.compare_executor or ours is StrawberryGraphQLCoreExecutionContext:
        executors = {"": ours}
    cpu = {name + variant: 0.0 for name in VIEWS for variant in executors}
    per_round = max(1, args.views // args.rounds)
    for _ in range(args.rounds):
        for name, query in VIEWS.items():
            for variant, executor in executors.items():
                schema.execution_context_class = executor
                started = time.process_time()
                for _ in range(per_round):
                    await view(system.client, query, case_id, headers)
                cpu[name + variant] += time.process_time() - started
    schema.execution_context_class = ours
    figures = {name: ms * 1000 / (per_round * args.rounds) for name, ms in cpu.items()}
    if args.py_spy:
        out = Path(tempfile.gettempdir()) / f"sop-gateway-cpu-{os.getpid()}.txt"
        spy = subprocess.Popen(
            [args.py_spy, "record", "--pid", str(os.getpid()), "--format", "raw", "--rate", "250", "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(1.0)  # py-spy attaches
        for _ in range(per_round * 2):
            await view(system.client, FULL_VIEW, case_id, headers)
        spy.send_signal(signal.SIGINT)
        await asyncio.to_thread(spy.wait, 30)
        print(f"\npy-spy of {per_round * 2} full views ({out}):")
        print_hot_spots(out)
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(per_round):
            await view(system.client, FULL_VIEW, case_id, headers)
        profile.disable()
        print(f"\ncProfile of {per_round} full views, top {args.profile} by own time:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
        print(f"top {args.profile} by cumulative time:")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
        if args.profile_out:
            profile.dump_stats(args.profile_out)
            print(f"cProfile's statistics written to {args.profile_out} (python -m pstats)")
    return figures


def report(figures: dict[str, float], against: dict[str, float] | None, views: int) -> None:
    """Each figure, and its ratio to graphql-core's own execution in this run (`--compare-executor`) and to
    the `--against` file's."""
    print(f"\ngateway CPU ms per view ({views} of each, process_time of this process, services replayed)")
    print(f"{'':45}{'ms':>9}{'/ core executor':>17}" + (f"{'--against':>12}{'ratio':>8}" if against else ""))
    for name, ms in figures.items():
        core = figures.get(f"{name}{CORE}")
        line = f"{name:45}{ms:>9.2f}" + (f"{ms / core:>17.2f}" if core else f"{'':>17}")
        if against and name in against:
            line += f"{against[name]:>12.2f}{ms / against[name]:>8.2f}"
        print(line)
    print("gateway-cpu: " + " ".join(f"{name.split()[0]}_ms={figures[name]:.2f}" for name in VIEWS))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--views", type=int, default=300, help="timed views of each kind (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds the views are spread over (default 5)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--preload", type=int, default=40, help="danger statements added to the demo family")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the full view: top N")
    parser.add_argument("--profile-out", help="with --profile: also write cProfile's statistics to this file")
    parser.add_argument(
        "--compare-executor",
        action="store_true",
        help="also time each view with graphql-core's own execution (Strawberry's default), interleaved",
    )
    parser.add_argument("--py-spy", help="a py-spy executable: sample the full view, print the hot spots")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL ($SOP_TEST_POSTGRES_URL), not SQLite")
    parser.add_argument("--save", help="write this run's figures to a JSON file")
    parser.add_argument("--against", help="a JSON file written by --save: print the ratio to its figures")
    args = parser.parse_args(argv)

    async def go() -> dict[str, float]:
        server = os.environ.get("SOP_TEST_POSTGRES_URL") if args.postgres else None
        if args.postgres and not server:
            raise SystemExit("set SOP_TEST_POSTGRES_URL (a server DSN) for --postgres")
        with tempfile.TemporaryDirectory(prefix="sop-gateway-cpu-") as tmp:
            data_dir = Path(tmp)
            urls = await postgres_urls(server) if server else gateway_conftest.sqlite_urls(data_dir)
            configure_logging("WARNING", json_logs=False)  # seeding's request lines are not the figures
            try:
                async with gateway_conftest.embedded_system(
                    data_dir / "data", urls, production=True, log_level="WARNING"
                ) as system:
                    return await measure(system, args)
            finally:
                if server:
                    await drop_databases(server, urls)

    figures = asyncio.run(go())
    against = json.loads(Path(args.against).read_text()) if args.against else None
    report(figures, against, max(1, args.views // args.rounds) * args.rounds)
    if args.save:
        Path(args.save).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
