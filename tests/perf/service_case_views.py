"""CPU per case-view read of the assessment and plans services on the full view's family (not a test): the calls
the gateway makes to each service for a full `caseView`, recorded once, then sent to the service's own ASGI app N
times, in process.

    .venv/bin/python tests/perf/service_case_views.py                    # 300 reads per service, 5 rounds
    .venv/bin/python tests/perf/service_case_views.py --reads 500 --only assessment
    .venv/bin/python tests/perf/service_case_views.py --py-spy $(command -v py-spy)   # and the hot spots
    .venv/bin/python tests/perf/service_case_views.py --save before.json   # then, the other build: --against

The gateway and the services run in this process on fresh PostgreSQL databases ($SOP_TEST_POSTGRES_URL, dropped
afterwards), seeded as `make bench-views` seeds them (the demo family and `--preload` more danger statements:
`tests/perf/gateway_cpu.py`'s `seed`). One full `caseView` through the gateway records each call it makes to
assessment and plans (method, path, query, headers); each call is then sent straight to its service's app with an
internal token minted as the gateway mints it (the same principal; a fresh token every 20 reads, minted off the
clock). What is timed is the whole request (ASGI, the token, the read, the audit append, JSON; the in-process
client's share included), CPU from `time.process_time()`. The services take turns round by round.

Two builds side by side: start this script twice at the same moment, once with
`PYTHONPATH=<other checkout>/services/assessment/src:<other checkout>/services/plans/src:<other checkout>/shared/src`,
and read the ratio of the two processes' figures (`--save` in one, `--against` in the other after both ended, or
the printed medians). The answers' bytes are compared between builds by the golden tests, not here: ids and
times differ between two seeds."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

PERF_DIR = Path(__file__).resolve().parent
if str(PERF_DIR) not in sys.path:
    sys.path.insert(0, str(PERF_DIR))

from case_views import FULL_VIEW, print_hot_spots  # noqa: E402
from distributed_system import WORKER  # noqa: E402
from gateway_caseload import drop_databases, postgres_urls  # noqa: E402
from gateway_cpu import gateway_conftest, seed, swap_transports, view  # noqa: E402

from sop_shared.auth import InternalTokenMinter  # noqa: E402
from sop_shared.keys import INTERNAL_KEY_FILE, load_signing_key  # noqa: E402
from sop_shared.observability import configure_logging  # noqa: E402

SERVICES = ("assessment", "plans")


class Calls(httpx.AsyncBaseTransport):
    """Passes calls on and keeps each GET the gateway makes (method, path and query, headers), in order."""

    def __init__(self, inner: httpx.AsyncBaseTransport, service: str, calls: dict[str, list[httpx.Request]]) -> None:
        self.inner, self.service, self.calls = inner, service, calls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.calls.setdefault(self.service, []).append(request)
        return await self.inner.handle_async_request(request)


@asynccontextmanager
async def sampled_by(py_spy: str, out: Path) -> AsyncIterator[None]:
    """This process sampled by py-spy (raw collapsed stacks into `out`) while the block runs."""
    command = [py_spy, "record", "--pid", str(os.getpid()), "--format", "raw", "--rate", "250", "-o", str(out)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        await asyncio.to_thread(spy.wait, 30)


async def measure(system: Any, args: argparse.Namespace) -> dict[str, float]:
    case_id = await seed(system, args.preload)
    await system.events_delivered()
    for app in system.services.values():  # nothing is written while timing: the relays' polls are noise
        app.state.relay.interval_seconds = 3600
    configure_logging("INFO", json_logs=True, stream=open(os.devnull, "w"))  # production's request lines, unread
    calls: dict[str, list[httpx.Request]] = {}
    for name, client in system.gateway.state.services.clients.items():
        if name in SERVICES:
            client._transport.inner = Calls(client._transport.inner, name, calls)
    system.forget_access_decisions(ttl_seconds=3600)
    await view(system.client, FULL_VIEW, case_id, system.bearer(WORKER))
    swap_transports(system.gateway, lambda calls_: calls_.inner if isinstance(calls_, Calls) else calls_)
    minter = InternalTokenMinter(load_signing_key(system.keys_dir / INTERNAL_KEY_FILE))
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=system.services[name]), base_url=f"http://{name}")
        for name in SERVICES
        if name in (args.only or SERVICES)
    }
    sent: dict[str, list[tuple[str, dict[str, str], Any, str]]] = {}
    for name in clients:
        verifier = system.services[name].state.token_verifier
        for request in calls[name]:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "host")}
            principal = verifier.verify(request.headers["authorization"].split()[1])
            aud = verifier.audience
            sent.setdefault(name, []).append((request.url.raw_path.decode(), headers, principal, aud))
        print(f"{name}: {', '.join(path.split('?')[0] for path, *_ in sent[name])}")

    async def reads(name: str, count: int) -> float:
        spent = 0.0
        for done in range(0, count, 20):
            minted = [
                (path, {**headers, "Authorization": f"Bearer {minter.mint(principal, audience=aud)}"})
                for path, headers, principal, aud in sent[name]
            ]
            started = time.process_time()
            for _ in range(min(20, count - done)):
                for path, headers in minted:
                    response = await clients[name].get(path, headers=headers)
            spent += time.process_time() - started
            if response.status_code != 200:
                raise SystemExit(f"{name}: {response.status_code} {response.text[:400]}")
        return spent * 1000 / count

    for name in clients:
        await reads(name, args.warmup)
        path, headers, principal, aud = sent[name][-1]
        token = minter.mint(principal, audience=aud)
        answer = await clients[name].get(path, headers={**headers, "Authorization": f"Bearer {token}"})
        print(f"{name}: the last call's answer is {len(answer.content) // 1024} KiB")
    built = (str(Path(sys.modules[f"sop_{name}"].__file__ or "").parents[2]) for name in clients)
    print("services from " + ", ".join(built))
    figures: dict[str, list[float]] = {name: [] for name in clients}
    for n in range(args.rounds):
        for name in clients if n % 2 == 0 else list(clients)[::-1]:
            figures[name].append(await reads(name, args.reads))
    if args.py_spy:
        for name in clients:
            out = Path(tempfile.gettempdir()) / f"sop-service-case-views-{name}-{os.getpid()}.txt"
            async with sampled_by(args.py_spy, out):
                await reads(name, args.reads)
            print(f"\npy-spy of {args.reads} {name} reads ({out}):")
            print_hot_spots(out)
    if args.profile:
        for name in clients:
            profile = cProfile.Profile()
            profile.enable()
            await reads(name, args.reads)
            profile.disable()
            print(f"\ncProfile of {args.reads} {name} reads, top {args.profile} by own time:")
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
            if args.profile_out:
                profile.dump_stats(f"{args.profile_out}.{name}")
    for client in clients.values():
        await client.aclose()
    print(f"\nCPU ms per case-view read (the calls of one full caseView), {args.rounds} rounds of {args.reads}")
    for name, values in figures.items():
        print(f"  {name:11} median {statistics.median(values):6.2f}   rounds: {', '.join(f'{v:.2f}' for v in values)}")
    return {name: statistics.median(values) for name, values in figures.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=300, help="reads per service and round (default 300)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--preload", type=int, default=40, help="danger statements added to the demo family")
    parser.add_argument("--only", choices=SERVICES, nargs="+")
    parser.add_argument("--py-spy", help="a py-spy executable: sample each service's reads, print the hot spots")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile each service's reads: top N")
    parser.add_argument("--profile-out", help="with --profile: also write cProfile's statistics to FILE.<service>")
    parser.add_argument("--save", help="write this run's figures to a JSON file")
    parser.add_argument("--against", help="a JSON file written by --save: print the ratio to its figures")
    args = parser.parse_args(argv)
    server = os.environ.get("SOP_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("set SOP_TEST_POSTGRES_URL (a server DSN)")

    async def go() -> dict[str, float]:
        with tempfile.TemporaryDirectory(prefix="sop-service-case-views-") as tmp:
            urls = await postgres_urls(server)
            configure_logging("WARNING", json_logs=False)  # seeding's request lines are not the figures
            try:
                async with gateway_conftest.embedded_system(
                    Path(tmp) / "data", urls, production=True, log_level="WARNING"
                ) as system:
                    return await measure(system, args)
            finally:
                await drop_databases(server, urls)

    figures = asyncio.run(go())
    if args.against:
        before = json.loads(Path(args.against).read_text())
        for name, ms in figures.items():
            if name in before:
                print(f"  {name:11} {before[name]:6.2f} -> {ms:6.2f} ms (x{before[name] / ms:.2f} less)")
    if args.save:
        Path(args.save).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
