"""CPU per case-view GET of the network and assessment services with their statements run as compiled once
(`sop_shared.compiled_statements`) and the long way (SQLAlchemy's `execute`: cache key, compiled-cache look-up,
parameters and `IN` lists built per execution), in the same process, interleaved round by round (not a test).

    python tests/perf/case_view_levers.py                       # 200 GETs per way and round, 5 rounds
    python tests/perf/case_view_levers.py -n 300 --rounds 6 --only network

Each service runs in process on a fresh PostgreSQL database ($SOP_TEST_POSTGRES_URL) with a populated case (the
network's from `tests/perf/view_reads.py`, the assessment's from its golden test), and is asked its case view by a
worker: the whole request (ASGI, token, the read, the audit append, JSON; the in-process client's share included),
CPU from `time.process_time()`. The plans service's lever is in `tests/perf/service_requests.py`."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

PERF_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(PERF_DIR))

import assessment_case_view  # noqa: E402
import real_services  # noqa: E402
import view_reads  # noqa: E402
from service_requests import _statements_the_long_way  # noqa: E402

from sop_network.component import component as network  # noqa: E402

Requests = Callable[[int], Awaitable[float]]


async def _interleaved(name: str, requests: Requests, svc: object, n: int, rounds: int) -> None:
    figures: dict[str, list[float]] = {"compiled once": [], "the long way": []}
    await requests(50)  # warm up: pool, statement caches
    for _ in range(rounds):
        for way in figures:
            if way == "the long way":
                with _statements_the_long_way(svc):  # type: ignore[arg-type]
                    await requests(10)
                    figures[way].append(await requests(n))
            else:
                await requests(10)
                figures[way].append(await requests(n))
    current = statistics.median(figures["compiled once"])
    print(f"\n{name}: CPU ms per case-view GET (median of {rounds} rounds of {n}; client and service together)")
    for way, values in figures.items():
        middle = statistics.median(values)
        rounds_text = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {way:14} {middle:6.2f} ms  x{middle / current:.2f}   rounds: {rounds_text}")


async def network_levers(server: str, n: int, rounds: int) -> None:
    async with view_reads.served_on_a_fresh_database(network, server, "bench_levers_network") as (svc, tokens):
        case_id, _ = await view_reads.populate(svc.client, tokens)
        url = f"/v1/cases/{case_id}/view"

        async def requests(count: int) -> float:
            spent = 0.0
            for done in range(0, count, 20):  # a fresh token every 20 requests, minted off the clock
                headers = tokens.headers("network", case_id=case_id)
                started = time.process_time()
                for _ in range(min(20, count - done)):
                    response = await svc.client.get(url, headers=headers)
                spent += time.process_time() - started
                assert response.status_code == 200, response.text
            return spent * 1000 / count

        await _interleaved("network (GET /v1/cases/{id}/view)", requests, svc, n, rounds)


async def assessment_levers(n: int, rounds: int) -> None:
    async with assessment_case_view.serving() as (audiences, round_of):

        async def requests(count: int) -> float:
            request_ms, _, _ = await round_of(audiences[0], count)
            return request_ms

        await _interleaved(f"assessment (GET /v1/cases/{{id}}/case-view, {audiences[0]})", requests, None, n, rounds)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="GETs per way and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("network", "assessment"))
    args = parser.parse_args()
    server = os.environ.get("SOP_BENCH_POSTGRES_URL") or os.environ.get("SOP_TEST_POSTGRES_URL")
    if args.only != "assessment":
        await network_levers(server or real_services.postgres_admin_url(), args.n, args.rounds)
    if args.only != "network":
        await assessment_levers(args.n, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
