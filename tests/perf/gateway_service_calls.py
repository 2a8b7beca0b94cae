"""What one gateway call to a service costs the gateway in CPU (not a test): `ServiceClients.get_json` over a real
socket (the aiohttp transport) to a small service in another process, timed with `time.process_time()`.

    python tests/perf/gateway_service_calls.py                          # this build alone
    python tests/perf/gateway_service_calls.py --against /work/main     # and another checkout's, interleaved

The service (uvicorn, in a child process, so its CPU is not counted) answers every GET with the same JSON
(`--size` bytes, as a case view's slice) and the headers a service sends. The gateway side runs as in a request:
a request id, an incoming `traceparent` and the request's span context, a worker's principal scoped to the case,
the case view's three calls in turn (network, assessment with query parameters, plans), a fresh token for each.

With `--against CHECKOUT` the other checkout's `sop_shared.http_client`, minter (`sop_shared.auth`) and
`sop_gateway.upstream` are loaded beside this build's (under other module names; everything else is shared) and
the two alternate in rounds, so the machine's drift falls on both; the medians of the rounds are printed in µs of
CPU per call, and the ratio of this build's to the other's (of the medians, and the median of each round's).
`--profile N` prints cProfile's top N functions of this build's calls.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import os
import pstats
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from case_views import baseline_principal
from opentelemetry import context as otel_context
from opentelemetry import propagate

from sop_gateway import upstream
from sop_shared import auth
from sop_shared.keys import generate_signing_key
from sop_shared.observability import request_id_var, traceparent_var
from sop_shared.settings import ComponentSettings
from sop_shared.tracing import configure_tracing, context_only_child, span_ids

CASE_ID = uuid.UUID("0195f0c4-7a1e-7c3b-9d2a-4f7c2e1b9a10")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

SERVICE = """
import sys, orjson, uvicorn
body = orjson.dumps({"items": [{"id": i, "text": "x" * 80} for i in range(max(1, int(sys.argv[2]) // 100))]})
headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
           (b"x-request-id", b"req-1"), (b"cache-control", b"no-store")]

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False, lifespan="off")
"""


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def other_build(checkout: Path) -> tuple[Any, Any]:
    """The other checkout's `ServiceClients` and `InternalTokenMinter`, its client module under them."""
    other_http = _load("other_http_client", checkout / "shared/src/sop_shared/http_client.py")
    other_auth = _load("other_auth", checkout / "shared/src/sop_shared/auth.py")
    other_upstream = _load("other_upstream", checkout / "gateway/src/sop_gateway/upstream.py")
    other_upstream.service_client = other_http.service_client  # type: ignore[attr-defined]
    return other_upstream.ServiceClients, other_auth.InternalTokenMinter


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_for(port: int) -> None:
    for _ in range(500):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        return
    raise SystemExit("the service did not start")


async def views(services: Any, principal: auth.Principal, n: int) -> None:
    """`n` case views' worth of calls: network, assessment, plans, as the case view makes them."""
    headers = {"X-SOP-Audience": "staff"}
    for _ in range(n):
        await services.get_json("network", f"/v1/cases/{CASE_ID}/view", principal, headers=headers)
        await services.get_json(
            "assessment",
            f"/v1/cases/{CASE_ID}/case-view",
            principal,
            params={"language": "en", "dangerFirst": 50},
            headers=headers,
        )
        await services.get_json("plans", f"/v1/cases/{CASE_ID}/case-view", principal, headers=headers)


async def measure(args: argparse.Namespace) -> None:
    configure_tracing(ComponentSettings())
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SERVICE), str(port), str(args.size)])
    try:
        await _wait_for(port)
        key = generate_signing_key()
        urls = {name: f"http://127.0.0.1:{port}" for name in upstream.SERVICES}
        timeouts = upstream.UpstreamTimeouts()
        builds: dict[str, Any] = {
            "this build": upstream.ServiceClients.build(auth.InternalTokenMinter(key), urls, None, timeouts)
        }
        if args.against:
            clients, minter = other_build(Path(args.against))
            builds["--against"] = clients.build(minter(key), urls, None, timeouts)
        principal = baseline_principal().scoped_to(CASE_ID)  # the worker of `make bench-views`
        # As the gateway's request runs (`TracedFastAPI`, no span exported): its id, the caller's traceparent and
        # the request's own span context.
        request_id_var.set("req-bench-1")
        traceparent_var.set(TRACEPARENT)
        own = context_only_child(propagate.extract({"traceparent": TRACEPARENT}), span_ids(), root=True)
        assert own is not None
        otel_context.attach(own)
        for services in builds.values():
            await views(services, principal, args.warmup)
        per_call: dict[str, list[float]] = {name: [] for name in builds}
        for _ in range(args.rounds):
            for name, services in builds.items():
                started = time.process_time()
                await views(services, principal, args.views)
                per_call[name].append((time.process_time() - started) * 1e6 / (args.views * 3))
        print(
            f"gateway CPU µs per service call ({args.rounds} rounds of {args.views * 3} calls, {args.size} B answers)"
        )
        for name, figures in per_call.items():
            print(
                f"  {name:12} median {statistics.median(figures):7.1f}   rounds {' '.join(f'{f:.0f}' for f in figures)}"
            )
        if args.against:
            ratio = statistics.median(per_call["this build"]) / statistics.median(per_call["--against"])
            paired = statistics.median(
                a / b for a, b in zip(per_call["this build"], per_call["--against"], strict=True)
            )
            print(f"  ratio this build / --against: {ratio:.3f} of the medians, {paired:.3f} the median round's")
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            await views(builds["this build"], principal, args.views)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
        for services in builds.values():
            await services.close()
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--views", type=int, default=200, help="case views per round (3 calls each)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--size", type=int, default=8000, help="bytes of each JSON answer")
    parser.add_argument("--against", help="another checkout (e.g. /work/main): its build, interleaved")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
