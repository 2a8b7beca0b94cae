"""PostgreSQL's CPU per full `caseView` (not a test): the gateway and the three services in this process on fresh
PostgreSQL databases, full views sent C at a time, and the CPU of the PostgreSQL backends serving those databases.

    .venv/bin/python tests/perf/postgres_per_view.py                          # 16 at a time, 5 rounds of 400
    .venv/bin/python tests/perf/postgres_per_view.py --concurrency 1 --views 200
    .venv/bin/python tests/perf/postgres_per_view.py --statements             # and what each backend was sent
    .venv/bin/python tests/perf/postgres_per_view.py --statement-reads 3000   # and each wide read alone

The system is `tests/gateway/conftest.py`'s `embedded_system` (production settings for the gateway), seeded as
`make bench-views` seeds it (the demo family and `--preload` danger statements). What is measured per round:
utime + stime of every PostgreSQL backend connected to the run's databases (`/proc/<pid>/stat`, so the server must
run on this machine; a backend that came and went inside a round is missed), divided by the views, and the WAL the
server wrote meanwhile (`pg_current_wal_lsn`, the whole server's: other work on it counts too). `--statements`
sets `log_min_duration_statement = 0` on the run's databases before the system starts and prints, for the timed
views, each statement's count and server-side duration per view from the server's log (`--log`, readable by this
user; it costs the server CPU itself). `--prepared` prints one pooled connection's prepared statements with their
generic and custom plans. `--statement-reads N` then runs each service's wide read alone on one connection, N
times, and for assessment this build's statement against the one before its families ordered by id were sorted
in Python (each family numbered in SQL), interleaved in blocks of 50: the backend's CPU and this process's per
read, the figure least moved by other work on the machine. Two builds are compared by running it one after the
other (a shared server runs out of connections with two at once), the other with
`PYTHONPATH=<other checkout>/...` for each package's `src`."""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

PERF_DIR = Path(__file__).resolve().parent
if str(PERF_DIR) not in sys.path:
    sys.path.insert(0, str(PERF_DIR))

from case_views import FULL_VIEW  # noqa: E402
from distributed_system import WORKER  # noqa: E402
from gateway_caseload import drop_databases, postgres_urls  # noqa: E402
from gateway_cpu import gateway_conftest, seed, view  # noqa: E402

from sop_shared.observability import configure_logging  # noqa: E402


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


async def backends(admin: str, databases: list[str]) -> dict[int, str]:
    """The backends connected to `databases`, each with its database's component."""
    conn = await asyncpg.connect(admin)
    try:
        rows = await conn.fetch(
            "SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()",
            databases,
        )
    finally:
        await conn.close()
    return {r["pid"]: r["datname"].split("_")[1] for r in rows}


async def wal_lsn(admin: str) -> int:
    conn = await asyncpg.connect(admin)
    try:
        return int(await conn.fetchval("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))
    finally:
        await conn.close()


async def run(args: argparse.Namespace, server: str) -> None:
    urls = await postgres_urls(server)
    databases = [url.rsplit("/", 1)[1] for url in urls.values()]
    print("databases:", " ".join(databases), flush=True)
    admin = server
    if args.statements:
        conn = await asyncpg.connect(admin)
        try:
            for db in databases:
                await conn.execute(f'ALTER DATABASE "{db}" SET log_min_duration_statement = 0')
        finally:
            await conn.close()
    try:
        with tempfile.TemporaryDirectory(prefix="sop-pg-per-view-") as tmp:
            configure_logging("WARNING", json_logs=False)
            async with gateway_conftest.embedded_system(
                Path(tmp) / "data", urls, production=True, log_level="WARNING"
            ) as system:
                case_id = await seed(system, args.preload)
                await system.events_delivered()
                for app in system.services.values():
                    app.state.relay.interval_seconds = 3600
                configure_logging("INFO", json_logs=True, stream=open(os.devnull, "w"))
                headers = system.bearer(WORKER)

                async def views(n: int) -> None:
                    async def one_client(count: int) -> None:
                        for _ in range(count):
                            await view(system.client, FULL_VIEW, case_id, headers)

                    c = args.concurrency
                    await asyncio.gather(*(one_client(n // c + (i < n % c)) for i in range(c)))

                await views(args.warmup)
                per_view, wal_per_view, python_per_view = [], [], []
                log_start = Path(args.log).stat().st_size if args.statements else 0
                for _ in range(args.rounds):
                    pids = await backends(admin, databases)
                    before = {pid: cpu_ticks(pid) for pid in pids}
                    wal_before = await wal_lsn(admin)
                    started = time.process_time()
                    await views(args.views)
                    python = time.process_time() - started
                    wal_after = await wal_lsn(admin)
                    by_component: collections.Counter[str] = collections.Counter()
                    for pid, component in pids.items():
                        by_component[component] += cpu_ticks(pid) - before[pid]
                    ms = 1000 / os.sysconf("SC_CLK_TCK") / args.views
                    per_view.append(sum(by_component.values()) * ms)
                    wal_per_view.append((wal_after - wal_before) / args.views)
                    python_per_view.append(python * 1000 / args.views)
                    print(
                        f"round: postgres {per_view[-1]:.3f} ms/view ({len(pids)} backends), WAL "
                        f"{wal_per_view[-1]:.0f} B/view, this process {python_per_view[-1]:.2f} ms/view; "
                        + ", ".join(f"{c} {t * ms:.2f}" for c, t in sorted(by_component.items())),
                        flush=True,
                    )
                postgres_ms, wal = statistics.median(per_view), statistics.median(wal_per_view)
                print(
                    f"postgres-per-view: concurrency={args.concurrency} postgres_ms={postgres_ms:.3f} "
                    f"wal_bytes={wal:.0f} python_ms={statistics.median(python_per_view):.2f}"
                )
                if args.statement_reads:
                    await compare_statements(system, case_id, args.statement_reads)
                if args.prepared:
                    await print_prepared(system)
                if args.statements:
                    await asyncio.sleep(0.5)
                    print_statements(args.log, log_start, databases, args.views * args.rounds)
    finally:
        if args.keep:
            print("kept:", " ".join(databases))
        else:
            await drop_databases(server, urls)


async def compare_statements(system: Any, case_id: str, reads: int) -> None:
    """Each service's wide read alone on one connection (for assessment, this build's statement and the one with
    every family numbered in SQL, interleaved in blocks of 50): its backend's CPU (/proc) and this process's
    (`process_time`) per read."""
    from datetime import UTC, datetime, timedelta

    import sop_assessment.case_view.records as assessment_records
    import sop_network.access.view as network_view
    import sop_plans.case_view.service as plans_view
    from sop_shared.wide_union import WideUnion

    by_id = assessment_records.Family.by_id
    assessment_records.Family.by_id = property(lambda family: False)  # type: ignore[assignment]
    try:
        families = assessment_records._families(agency=True, internal=True)
        numbered = WideUnion({family.name: family.branch() for family in families})
    finally:
        assessment_records.Family.by_id = by_id  # type: ignore[method-assign]
    case = uuid.UUID(case_id)
    since = datetime.now(UTC) - timedelta(days=7)
    views: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "network": ({"this build": network_view.VIEW}, {"case_ids": [case]}),
        "assessment": (
            {"this build": assessment_records.READS[(True, True)], "numbered in SQL": numbered},
            {"case_id": case},
        ),
        "plans": ({"this build": plans_view.VIEW}, {"case_id": case, "check_ins": 5, "since": since}),
    }
    print(f"\none wide read alone, {reads} of each: backend CPU ms / this process's CPU ms per read")
    for name, (variants, params) in views.items():
        database = system.services[name].state.database
        backend = {v: 0 for v in variants}
        python = {v: 0.0 for v in variants}
        async with database.read_session() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            for view in variants.values():
                for _ in range(20):
                    await view.read(session, params)
            for _ in range(max(1, reads // 50)):
                for variant, view in variants.items():
                    ticks, started = cpu_ticks(pid), time.process_time()
                    for _ in range(50):
                        await view.read(session, params)
                    python[variant] += time.process_time() - started
                    backend[variant] += cpu_ticks(pid) - ticks
        n = max(1, reads // 50) * 50
        ms = 1000 / os.sysconf("SC_CLK_TCK") / n
        print(f"{name:11} " + "  ".join(f"{v} {backend[v] * ms:.3f} / {python[v] * 1000 / n:.3f}" for v in variants))


async def print_prepared(system: Any) -> None:
    """The prepared statements of one pooled connection of each component: generic and custom plans so far."""
    for name, app in [*system.services.items(), ("gateway", system.gateway)]:
        async with app.state.database.read_engine.connect() as connection:
            rows = (
                await connection.exec_driver_sql(
                    "SELECT generic_plans, custom_plans, left(regexp_replace(statement, '\\s+', ' ', 'g'), 90) "
                    "FROM pg_prepared_statements ORDER BY generic_plans + custom_plans DESC LIMIT 6"
                )
            ).all()
        for row in rows:
            print(f"{name:11} generic {row[0]:5} custom {row[1]:5}  {row[2]}")


LINE = re.compile(r"\[(\d+)\] \S+@(\S+) LOG:  duration: ([\d.]+) ms  (?:(parse|bind|execute) [^:]*: |statement: )(.*)")


def print_statements(log: str, start: int, databases: list[str], views: int) -> None:
    """Each statement (its first 100 characters) per view: count and server-side milliseconds, by database."""
    with open(log, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        text = f.read()
    found: dict[tuple[str, str, str], list[float]] = collections.defaultdict(list)
    for line in text.splitlines():
        m = LINE.search(line)
        if not m or m.group(2) not in databases:
            continue
        db = m.group(2).split("_")[1]
        found[(db, m.group(4) or "simple", " ".join(m.group(5).split())[:100])].append(float(m.group(3)))
    total = 0.0
    print(f"\nstatements per view (server-side ms per view; {views} views)")
    for (db, phase, sql), durations in sorted(found.items(), key=lambda kv: -sum(kv[1])):
        total += sum(durations)
        print(f"{db:11} {phase:8} {len(durations) / views:6.2f} {sum(durations) / views:7.3f}  {sql}")
    print(f"total server-side ms per view: {total / views:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--views", type=int, default=400, help="views per round (default 400)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--preload", type=int, default=20, help="danger statements added (bench-views --quick: 20)")
    parser.add_argument("--statements", action="store_true", help="log the run's statements and summarise them")
    parser.add_argument("--prepared", action="store_true", help="print a pooled connection's prepared statements")
    parser.add_argument(
        "--statement-reads", type=int, default=0, metavar="N", help="and each wide read alone, N of each variant"
    )
    parser.add_argument("--keep", action="store_true", help="leave the databases (drop them yourself)")
    parser.add_argument("--log", default="/var/log/postgresql/postgresql-15-main.log", help="the server's log")
    args = parser.parse_args()
    server = os.environ.get("SOP_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("set SOP_TEST_POSTGRES_URL (a server DSN)")
    asyncio.run(run(args, server))


if __name__ == "__main__":
    main()
