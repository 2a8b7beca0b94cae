"""What one service read costs in CPU and statements, in process (not a test): the plans service on a fresh
PostgreSQL database, a populated case, and N case-view GETs, each with a freshly minted internal token (as
the gateway sends them), timed with `time.process_time()`.

    python tests/perf/service_requests.py                  # 300 requests per configuration, 5 rounds
    python tests/perf/service_requests.py -n 500 --rounds 8

It measures the service as it is, then the same requests with one per-request lever switched back to how it
was before issue 16's shared-code work, in interleaved rounds (so the machine's drift falls on each alike),
and prints CPU ms per request and the ratio of each configuration to the current one:

- `pre-ping`: the pool pings each connection it hands out (`pool_pre_ping`, a `SELECT 1` round trip);
- `sql spans`: an OpenTelemetry span for every statement although no exporter is configured;
- `token parsed 2x`: the internal token's header read with `jwt.get_unverified_header`, which decodes and
  checks the whole token before `jwt.decode` does it again;
- `all three` of them at once;
- `statements the long way`: the read's statement and the audit's append executed by SQLAlchemy's `execute`
  (per-execution cache key, look-up and parameter building) instead of `sop_shared.compiled_statements`;
- `read in a transaction`: the case-view GET's session as a unit of work again (`SessionDep`: BEGIN, the read,
  the audit append under the chain head's lock, COMMIT) instead of `ReadSessionDep` (no transaction around the
  read, the audit record appended by one statement of its own).

`--concurrency C` keeps C requests in flight (the gateway sends a service many at once; the audit records of
reads that finish together are appended together). With `--postgres-cpu` the CPU of this database's PostgreSQL
backends (from /proc, so the server must run on this machine) is printed per request too.

(Two levers are not switched here: the audit append's statement fewer, counted above, and FastAPI's spans for
each dependency, the endpoint and serialisation, fixed when the app is built; compare a run on the build
before for those.)

Statements per request are counted with a `before_cursor_execute` listener and printed with their first
words. $SOP_TEST_POSTGRES_URL names the server (default postgresql://postgres@127.0.0.1:5432/test); the
database is dropped afterwards. Figures vary with the machine; compare ratios, and runs made one after the
other (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

TESTS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS_DIR))
# The plans tests' fixtures module: the fictional Lopez case and its plan.
_spec = importlib.util.spec_from_file_location("plans_conftest", TESTS_DIR / "plans" / "conftest.py")
assert _spec is not None and _spec.loader is not None
plans_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plans_conftest)
LOPEZ_CASE_ID, LOPEZ_ONGOING_PLAN = plans_conftest.LOPEZ_CASE_ID, plans_conftest.LOPEZ_ONGOING_PLAN
announce_lopez_records = plans_conftest.announce_lopez_records

from sop_plans.component import component  # noqa: E402
from sop_shared.observability import configure_logging  # noqa: E402
from sop_shared.testing import InternalTokens, RunningService, run_component  # noqa: E402

SERVER = os.environ.get("SOP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _asyncpg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _create_database() -> str:
    base = SERVER.rsplit("/", 1)[0]
    name = f"perf_plans_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(_asyncpg(SERVER), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    await engine.dispose()
    return _asyncpg(f"{base}/{name}")


async def _drop_database(url: str) -> None:
    engine = create_async_engine(_asyncpg(SERVER), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await engine.dispose()


async def _seed(svc: RunningService, headers: dict[str, str], plans: int) -> None:
    await announce_lopez_records(svc, LOPEZ_CASE_ID)
    await asyncio.sleep(0.2)  # the in-process bus hands the records to the consumers
    for i in range(plans):
        body = copy.deepcopy(LOPEZ_ONGOING_PLAN)
        body["title"] = f"{body['title']} ({i + 1})"
        response = await svc.client.post(f"/v1/cases/{LOPEZ_CASE_ID}/safety-plans", json=body, headers=headers)
        assert response.status_code == 201, response.text


@contextmanager
def _pre_ping(svc: RunningService) -> Iterator[None]:
    pool = svc.app.state.database.engine.sync_engine.pool
    before, pool._pre_ping = pool._pre_ping, True
    try:
        yield
    finally:
        pool._pre_ping = before


@contextmanager
def _sql_spans(svc: RunningService) -> Iterator[None]:
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from sqlalchemy.exc import InvalidRequestError

    from sop_shared.tracing import instrument_engine

    registered = EngineTracer._remove_event_listener_params
    before = len(registered)
    instrument_engine(svc.app.state.database.engine)
    try:
        yield
    finally:
        for target, identifier, func in registered[before:]:
            with suppress(InvalidRequestError):  # one listener function already there (a build that had spans)
                event.remove(target(), identifier, func)
        del registered[before:]


@contextmanager
def _header_parsed_twice(svc: RunningService) -> Iterator[None]:
    import jwt

    from sop_shared import auth

    own = getattr(auth, "_unverified_kid", None)
    if own is None:  # a build from before: it always parsed twice
        yield
        return
    auth._unverified_kid = lambda token: jwt.get_unverified_header(token).get("kid")
    try:
        yield
    finally:
        auth._unverified_kid = own


@contextmanager
def _as_is(svc: RunningService) -> Iterator[None]:
    yield


@contextmanager
def _read_in_a_transaction(svc: RunningService) -> Iterator[None]:
    from sop_shared import db

    read_session = getattr(db, "_request_read_session", None)
    if read_session is None:  # a build from before: reads were units of work
        yield
        return
    svc.app.dependency_overrides[read_session] = db._request_session
    try:
        yield
    finally:
        svc.app.dependency_overrides.pop(read_session, None)


@contextmanager
def _statements_the_long_way(svc: RunningService) -> Iterator[None]:
    """The case-view read's statement and the audit's append executed by SQLAlchemy's `execute` again (cache key,
    compiled-cache look-up, parameters and `IN` lists built per execution) instead of `CompiledStatement`."""
    try:
        from sop_shared.compiled_statements import CompiledStatement
    except ImportError:  # a build from before: always the long way
        yield
        return

    async def long_way(self: Any, connection: Any, params: Any) -> list[Any]:
        return list((await connection.execute(self.statement, dict(params))).all())

    own = CompiledStatement.rows
    CompiledStatement.rows = long_way  # type: ignore[method-assign]
    try:
        yield
    finally:
        CompiledStatement.rows = own  # type: ignore[method-assign]


@contextmanager
def _all_three(svc: RunningService) -> Iterator[None]:
    with _pre_ping(svc), _sql_spans(svc), _header_parsed_twice(svc):
        yield


CONFIGURATIONS: dict[str, Callable[[RunningService], Any]] = {
    "current": _as_is,
    "pre-ping": _pre_ping,
    "sql spans": _sql_spans,
    "token parsed 2x": _header_parsed_twice,
    "all three": _all_three,
    "read in a transaction": _read_in_a_transaction,
    "statements the long way": _statements_the_long_way,
}


async def _requests(
    svc: RunningService, tokens: InternalTokens, n: int, reuse_token: bool, concurrency: int = 1
) -> float:
    """CPU seconds of `n` case-view GETs, `concurrency` at a time, less the minting of their tokens (the
    gateway's work)."""
    path = f"/v1/cases/{LOPEZ_CASE_ID}/case-view"
    one = tokens.headers("plans", case_id=LOPEZ_CASE_ID)
    minting = 0.0

    async def some(count: int) -> None:
        nonlocal minting
        for _ in range(count):
            if reuse_token:
                headers = one
            else:
                before = time.process_time()
                headers = tokens.headers("plans", case_id=LOPEZ_CASE_ID)
                minting += time.process_time() - before
            response = await svc.client.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"case view failed: {response.status_code} {response.text}")

    started = time.process_time()
    await asyncio.gather(*(some(n // concurrency + (i < n % concurrency)) for i in range(concurrency)))
    return time.process_time() - started - minting


class _BackendsCpu:
    """CPU seconds the PostgreSQL backends serving one database have used (utime + stime from /proc)."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def seconds(self) -> float:
        import asyncpg

        conn = await asyncpg.connect(self.url)
        try:
            pids = [
                r["pid"]
                for r in await conn.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        finally:
            await conn.close()
        total = 0
        for pid in pids:
            with suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")


async def _statements(svc: RunningService, tokens: InternalTokens) -> list[str]:
    seen: list[str] = []
    engine = svc.app.state.database.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split())[:70])

    event.listen(engine, "before_cursor_execute", record)
    try:
        await _requests(svc, tokens, 1, reuse_token=False)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="requests per configuration and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--plans", type=int, default=3, help="safety plans on the case")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N requests, print, stop")
    parser.add_argument("--reuse-token", action="store_true", help="send one token for all requests")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight at once")
    parser.add_argument("--postgres-cpu", action="store_true", help="and the PostgreSQL backends' CPU per request")
    parser.add_argument("--only", nargs="+", choices=list(CONFIGURATIONS), help="these configurations alone")
    args = parser.parse_args()

    url = await _create_database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tokens = InternalTokens(Path(tmp) / "keys")
            async with run_component(
                component,
                database_url=url,
                tokens=tokens,
                data_dir=Path(tmp),
                expiry_sweep_seconds=0,
                relay_enabled=False,
                audit_checkpoint_seconds=3600,
                bus_check_seconds=3600,
            ) as svc:
                # One JSON line per request, as in production, written nowhere.
                configure_logging("INFO", json_logs=True, stream=open(os.devnull, "w"))
                await _seed(svc, tokens.headers("plans", case_id=LOPEZ_CASE_ID), args.plans)
                await _requests(svc, tokens, 50, args.reuse_token)  # warm up: pool, statement caches
                statements = await _statements(svc, tokens)
                print(f"statements per case-view GET: {len(statements)}")
                for text, count in Counter(statements).items():
                    print(f"  {count} x {text}")
                if args.profile:
                    import cProfile
                    import pstats

                    profiler = cProfile.Profile(time.process_time)
                    profiler.enable()
                    await _requests(svc, tokens, args.profile, args.reuse_token)
                    profiler.disable()
                    stats = pstats.Stats(profiler).strip_dirs()
                    stats.sort_stats("tottime").print_stats(25)
                    stats.sort_stats("cumulative").print_stats(60)
                    return
                chosen = {name: CONFIGURATIONS[name] for name in ["current", *(args.only or CONFIGURATIONS)]}
                cpu: dict[str, list[float]] = {name: [] for name in chosen}
                server: dict[str, list[float]] = {name: [] for name in chosen}
                backends = _BackendsCpu(url)
                for _ in range(args.rounds):
                    for name, switch in chosen.items():
                        with switch(svc):
                            await _requests(svc, tokens, args.concurrency, args.reuse_token, args.concurrency)
                            before = await backends.seconds() if args.postgres_cpu else 0.0
                            seconds = await _requests(svc, tokens, args.n, args.reuse_token, args.concurrency)
                            cpu[name].append(seconds / args.n * 1000)
                            if args.postgres_cpu:
                                server[name].append((await backends.seconds() - before) / args.n * 1000)
    finally:
        await _drop_database(url)
    current = statistics.median(cpu["current"])
    print(
        f"\nCPU ms per case-view GET (median of {args.rounds} rounds of {args.n}, {args.concurrency} at a time; "
        "client and service together):"
    )
    for name, values in cpu.items():
        middle = statistics.median(values)
        print(f"  {name:22} {middle:6.2f} ms   x{middle / current:.2f} of current")
    if args.postgres_cpu:
        current = statistics.median(server["current"])
        print("\nPostgreSQL backends' CPU ms per case-view GET (median of the rounds):")
        for name, values in server.items():
            middle = statistics.median(values)
            print(f"  {name:22} {middle:6.2f} ms   x{middle / current:.2f} of current")


if __name__ == "__main__":
    asyncio.run(main())
