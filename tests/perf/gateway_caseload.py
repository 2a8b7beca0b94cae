"""The gateway benchmark (not a test): a caseload page of 50 cases through GraphQL, batched, against the
per-row baseline a client would otherwise run, both in this one process on the same embedded system.

    uv run python tests/perf/gateway_caseload.py               # 50 cases, 15 rounds, SQLite
    uv run python tests/perf/gateway_caseload.py --postgres    # the same on PostgreSQL: four fresh databases
                                                               # on $SOP_TEST_POSTGRES_URL, dropped afterwards

Baseline: one `caseView` query per case of the page (what a client without the connection would do): 50
requests, each one call to each service. Measured: the `cases(first: 50)` connection with each node's
assessment and plan summaries, resolved through per-request DataLoaders into one bulk call per service.
Printed: upstream calls per page (counted by the gateway itself) and median wall time per page, with the
ratio measured / baseline. Times vary with the machine; the ratios are what to compare between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

TESTS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS_DIR))
# The gateway tests' embedded system (the three services and the gateway in this process, as `sop dev`).
_spec = importlib.util.spec_from_file_location("gateway_conftest", TESTS_DIR / "gateway" / "conftest.py")
assert _spec is not None and _spec.loader is not None
gateway_conftest = importlib.util.module_from_spec(_spec)
sys.modules["gateway_conftest"] = gateway_conftest
_spec.loader.exec_module(gateway_conftest)
embedded_system, sqlite_urls = gateway_conftest.embedded_system, gateway_conftest.sqlite_urls

from distributed_system import synthetic_case  # noqa: E402  (tests/perf/, the folder of this script)

PAGE = """query($first: Int) { cases(first: $first) { edges { node { id externalId county status
  assessmentSummary { activeDangerStatements latestOverallRating { score } safetyDecision riskLevel }
  planSummary { planInForce { status versionNumber } openAlerts overdueNextSteps } } } } }"""
ROW = """query($id: ID!) { caseView(caseId: $id) { case { recordId externalId county status }
  worries { danger { recordId } } safetyPlan { status } } }"""


async def postgres_urls(server: str) -> dict[str, str]:
    base, _, _ = server.rpartition("/")
    engine = create_async_engine(server.replace("postgresql://", "postgresql+asyncpg://"), isolation_level="AUTOCOMMIT")
    urls = {}
    async with engine.connect() as conn:
        for name in gateway_conftest.COMPONENTS:
            db = f"bench_{name}_{uuid.uuid4().hex[:8]}"
            await conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
            urls[name] = f"postgresql+asyncpg://{base.split('://', 1)[1]}/{db}"
    await engine.dispose()
    return urls


async def drop_databases(server: str, urls: dict[str, str]) -> None:
    engine = create_async_engine(server.replace("postgresql://", "postgresql+asyncpg://"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for url in urls.values():
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await engine.dispose()


async def timed(system: Any, query: str, variables: dict[str, Any]) -> tuple[float, Counter[str]]:
    started = time.perf_counter()
    response = await system.graphql(query, variables)
    elapsed = time.perf_counter() - started
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"benchmark query failed: {response.status_code} {body}")
    return elapsed, Counter(body["extensions"]["upstreamCalls"])


async def run(cases: int, rounds: int, database_urls: dict[str, str] | None) -> None:
    with tempfile.TemporaryDirectory(prefix="sop-bench-gw-") as tmp:
        data_dir = Path(tmp)
        async with embedded_system(data_dir, database_urls or sqlite_urls(data_dir)) as system:
            response = await system.client.post(
                "/api/network/v1/sacwis/batch",
                headers=system.bearer("sacwis.sync"),
                json={"system": "CHRIS", "records": [synthetic_case(n) for n in range(cases)]},
            )
            ids = [r["id"] for r in response.json()["results"]]
            baseline_times, measured_times = [], []
            baseline_calls: Counter[str] = Counter()
            measured_calls: Counter[str] = Counter()
            for round_ in range(rounds + 1):  # round 0 warms caches and pools and is not counted
                system.forget_access_decisions()
                started = time.perf_counter()
                calls: Counter[str] = Counter()
                for case_id in ids:
                    _, c = await timed(system, ROW, {"id": case_id})
                    calls += c
                row_time = time.perf_counter() - started
                system.forget_access_decisions()
                page_time, page_calls = await timed(system, PAGE, {"first": cases})
                if round_:
                    baseline_times.append(row_time)
                    measured_times.append(page_time)
                    baseline_calls, measured_calls = calls, page_calls
    base_t, meas_t = statistics.median(baseline_times), statistics.median(measured_times)
    base_n, meas_n = sum(baseline_calls.values()), sum(measured_calls.values())
    print(
        f"caseload page of {cases} cases, {rounds} rounds, "
        f"{'PostgreSQL' if database_urls else 'SQLite'} (cold access cache each page)"
    )
    print(f"{'':32}{'baseline (caseView per row)':>30}{'cases connection':>20}{'ratio':>10}")
    print(f"{'upstream calls per page':32}{base_n:>30}{meas_n:>20}{meas_n / base_n:>10.3f}")
    for service in sorted(baseline_calls | measured_calls):
        print(f"{'  ' + service:32}{baseline_calls[service]:>30}{measured_calls[service]:>20}")
    print(f"{'median ms per page':32}{base_t * 1000:>30.1f}{meas_t * 1000:>20.1f}{meas_t / base_t:>10.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=50, help="cases on the page (the connection allows ≤ 50)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args(argv)

    async def go() -> None:
        urls = None
        if args.postgres:
            server = os.environ.get("SOP_TEST_POSTGRES_URL")
            if not server:
                raise SystemExit(
                    "set SOP_TEST_POSTGRES_URL (a server DSN, e.g. "
                    "postgresql://postgres@127.0.0.1:5432/test) for --postgres"
                )
            urls = await postgres_urls(server)
        try:
            await run(min(args.cases, 50), args.rounds, urls)
        finally:
            if urls and server:
                await drop_databases(server, urls)

    asyncio.run(go())


if __name__ == "__main__":
    main()
