"""The network service benchmark (not a test): a state-sized SACWIS load through the batch endpoint.

    uv run python -m tests.perf                 # 100k cases, ~400k persons
    uv run python -m tests.perf --quick         # 5k cases, ~20k persons
    uv run python -m tests.perf --cases 20000 --persons-per-case 4 --batch-size 1000

PostgreSQL: $SOP_BENCH_POSTGRES_URL or $SOP_TEST_POSTGRES_URL (a server DSN), else a throwaway pgserver
(tests/real_services.py). A fresh database is made (and dropped afterwards unless --keep). The service runs
in process (ASGI, real PostgreSQL, outbox relay paused so it does not compete); the batch endpoint is
called exactly as SACWIS would call it, each request's JSON made before its clock starts (as the COPY's rows
are made before its own: encoding the request is SACWIS's work, not the service's). The same rows are then
written with plain COPY into copies of the same tables (same indexes) in the same database, and the two rates
are printed side by side.
Caseload latency is measured at 1k cases (after the first batches) and at full size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS_DIR))

import httpx  # noqa: E402
import real_services  # noqa: E402
from sacwis_rows import (  # noqa: E402
    CASES_PER_WORKER,
    COPY_COLUMNS,
    COUNTIES,
    WORKERS_PER_SUPERVISOR,
    copy_rows,
    synthetic_cases,
)
from sqlalchemy import text  # noqa: E402

from sop_network.component import component  # noqa: E402
from sop_shared.migrations import upgrade  # noqa: E402
from sop_shared.policy import ActorType  # noqa: E402
from sop_shared.service import running  # noqa: E402
from sop_shared.testing import InternalTokens  # noqa: E402


async def admin_url() -> tuple[str, bool]:
    url = os.environ.get("SOP_BENCH_POSTGRES_URL") or os.environ.get("SOP_TEST_POSTGRES_URL")
    if url:
        return url, False
    return real_services.postgres_admin_url(), True


def integration(tokens: InternalTokens) -> dict[str, str]:
    """Fresh headers of the SACWIS client (internal tokens live a minute; a long load outlives one)."""
    return tokens.headers(
        "network", subject="sacwis.sync", actor_type=ActorType.integration, roles=(), scopes=("cases:sync", "case:read")
    )


async def caseload_latency(
    client: httpx.AsyncClient, tokens: InternalTokens, n_cases: int, samples: int
) -> dict[str, tuple[float, float]]:
    """Median and p95 milliseconds of caseload calls (HTTP, auth, audit included)."""
    rng = random.Random(11)
    workers = max(1, n_cases // CASES_PER_WORKER)

    async def timed(params: dict[str, Any], headers: dict[str, str]) -> float:
        start = time.perf_counter()
        response = await client.get("/v1/cases", params=params, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.text
        return elapsed

    kinds: dict[str, list[float]] = {
        "worker caseload": [],
        "supervisor caseload (status=open)": [],
        "county+status, 50/page": [],
        "updated_since, 50/page": [],
    }
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for _ in range(samples):
        sacwis = integration(tokens)
        w = rng.randrange(workers)
        worker = tokens.headers("network", subject=f"fsw.{w:05d}")
        supervisor = tokens.headers("network", subject=f"sup.{w // WORKERS_PER_SUPERVISOR:04d}", roles=("supervisor",))
        kinds["worker caseload"].append(await timed({"limit": 50}, worker))
        kinds["supervisor caseload (status=open)"].append(await timed({"status": "open", "limit": 50}, supervisor))
        kinds["county+status, 50/page"].append(
            await timed({"county": rng.choice(COUNTIES), "status": "open", "limit": 50}, sacwis)
        )
        kinds["updated_since, 50/page"].append(await timed({"updated_since": since, "limit": 50}, sacwis))
    return {k: (statistics.median(v), sorted(v)[max(0, int(len(v) * 0.95) - 1)]) for k, v in kinds.items()}


async def plain_copy(dsn: str, records: list[dict[str, Any]]) -> float:
    """Seconds to COPY the same rows into copies of the tables (same columns, indexes and constraints,
    foreign keys between the copies), in one transaction."""
    import asyncpg

    rows = copy_rows(records)
    conn = await asyncpg.connect(dsn)
    try:
        for table in COPY_COLUMNS:
            await conn.execute(f'CREATE TABLE "copy_{table}" (LIKE "{table}" INCLUDING ALL)')
        await conn.execute(
            "ALTER TABLE copy_case_member ADD FOREIGN KEY (case_id) REFERENCES copy_case (id), "
            "ADD FOREIGN KEY (person_id) REFERENCES copy_person (id)"
        )
        await conn.execute("ALTER TABLE copy_staff_assignment ADD FOREIGN KEY (case_id) REFERENCES copy_case (id)")
        start = time.perf_counter()
        async with conn.transaction():
            for table, columns in COPY_COLUMNS.items():
                await conn.copy_records_to_table(f"copy_{table}", records=rows[table], columns=columns)
        return time.perf_counter() - start
    finally:
        await conn.close()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--persons-per-case", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1000, help="case records per batch request")
    parser.add_argument("--quick", action="store_true", help="5k cases: a minute, for a smoke run")
    parser.add_argument("--samples", type=int, default=30, help="caseload calls per query kind")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    if args.quick:
        args.cases = 5_000
    n = args.cases
    print(f"generating {n:,} cases with {n * args.persons_per_case:,} persons ...", flush=True)
    records = synthetic_cases(n, args.persons_per_case)
    server, started = await admin_url()
    db = await real_services.create_test_database(server, prefix="bench_network")
    print(f"database {db.name}", flush=True)
    try:
        await upgrade(component.package, db.url)
        with tempfile.TemporaryDirectory() as tmp:
            tokens = InternalTokens(Path(tmp) / "keys")
            settings = component.settings_class(
                database_url=db.url,
                data_dir=Path(tmp),
                environment="test",
                # Production's garbage-collector settings (sop_shared.runtime), as the service runs: the start-up
                # heap frozen, generation 0 collected every 50,000 allocations. The records generated above are
                # frozen with it, as they would not be in a service's process at all.
                gc_tuning=True,
                events_url="memory://",
                internal_jwks_file=tokens.jwks_file,
                relay_enabled=False,
                log_json=False,
                log_level="WARNING",
            )
            app = component.create_app(settings)
            async with (
                running(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://network", timeout=600
                ) as client,
            ):
                latency_1k: dict[str, tuple[float, float]] = {}
                loaded, load_seconds = 0, 0.0
                for start in range(0, n, args.batch_size):
                    chunk = records[start : start + args.batch_size]
                    # The request's JSON is SACWIS's work, made before the clock starts, as COPY's rows are.
                    content = json.dumps({"system": "CHRIS", "records": chunk}).encode()
                    headers = {**integration(tokens), "content-type": "application/json"}
                    t0 = time.perf_counter()
                    response = await client.post("/v1/sacwis/batch", content=content, headers=headers)
                    load_seconds += time.perf_counter() - t0
                    assert response.status_code == 200, response.text[:500]
                    counts = response.json()["counts"]
                    assert counts.get("created") == len(chunk), counts
                    loaded += len(chunk)
                    if not latency_1k and loaded >= 1000:
                        latency_1k = await caseload_latency(client, tokens, loaded, args.samples)
                    if loaded % (args.batch_size * 10) == 0 or loaded == n:
                        print(f"  loaded {loaded:,} cases, {loaded / load_seconds:,.0f} cases/s", flush=True)
                # What autovacuum does after a load this size; the caseload plans assume current statistics.
                async with app.state.database.engine.begin() as conn:
                    await conn.execute(text("ANALYZE"))
                latency_full = await caseload_latency(client, tokens, n, args.samples)
                t0 = time.perf_counter()
                replay = await client.post(
                    "/v1/sacwis/batch",
                    json={"system": "CHRIS", "records": records[: args.batch_size]},
                    headers=integration(tokens),
                )
                replay_seconds = time.perf_counter() - t0
                assert replay.json()["counts"] == {"unchanged": min(args.batch_size, n)}, replay.json()["counts"]
        copy_seconds = await plain_copy(db.dsn, records)
        persons = n * args.persons_per_case
        rows = n + persons * 2 + n * 2
        batch_rate, copy_rate = n / load_seconds, n / copy_seconds
        print()
        print(f"SACWIS batch load: {n:,} cases + {persons:,} persons ({rows:,} rows, plus change log/outbox)")
        print(
            f"  batch endpoint : {load_seconds:8.1f} s  {batch_rate:10,.0f} cases/s  "
            f"{(n + persons) / load_seconds:10,.0f} records/s  (batches of {args.batch_size})"
        )
        print(
            f"  plain COPY     : {copy_seconds:8.1f} s  {copy_rate:10,.0f} cases/s  "
            f"{(n + persons) / copy_seconds:10,.0f} records/s  (same rows, same indexes)"
        )
        print(
            f"  ratio          : batch endpoint = {batch_rate / copy_rate:.1%} of COPY "
            f"(COPY {copy_rate / batch_rate:.1f}x faster)"
        )
        print(f"  replay of one batch of {min(args.batch_size, n):,} unchanged cases: {replay_seconds * 1000:.0f} ms")
        print()
        print(f"caseload latency, ms (median / p95 of {args.samples} calls, HTTP + auth + audit included)")
        print(f"  {'query':38s} {'at 1k cases':>16s} {f'at {n:,} cases':>20s}")
        for kind in latency_full:
            a, b = latency_1k.get(kind, (float("nan"), float("nan"))), latency_full[kind]
            print(f"  {kind:38s} {a[0]:7.1f} / {a[1]:6.1f} {b[0]:11.1f} / {b[1]:6.1f}")
    finally:
        if not args.keep:
            await real_services.drop_database(server, db.name)
        if started:
            real_services.stop_postgres()


if __name__ == "__main__":
    asyncio.run(main())
