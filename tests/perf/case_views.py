"""The case view benchmark (not a test): the full and a small `caseView` and a 50-case caseload page, through
(a) our gateway, (b) the no-gateway baseline and (c) a peer gateway, side by side, in interleaved rounds.

    make bench-views                                  # 6 rounds of 4 s per cell, concurrency 1, 16 and 64
    make bench-views BENCH_ARGS=--quick               # 2 rounds of 1.5 s per cell (under 3 minutes)
    make bench-views BENCH_ARGS="--rounds 3 --concurrency 1 16"
    make bench-views BENCH_ARGS="--quick --no-peer --scale-cases 1000000"   # p50 at 1,000 vs 1,000,000 cases

The system is the end-to-end tests' (tests/perf/distributed_system.py): the three services and the gateway as
separate uvicorn processes with production settings, each on a fresh PostgreSQL database (on
$SOP_TEST_POSTGRES_URL, else a throwaway server), events on NATS ($SOP_TEST_NATS_URL, else a throwaway one).
Seeded: the demo family through the gateway plus `--preload` danger statements on it (the full view's family),
and `--cases` fictional cases on the worker's caseload by one SACWIS batch (the caseload page).

(a) gateway: the GraphQL operation over HTTP with the worker's bearer token, as a client sends it.
(b) baseline: this process makes the same upstream HTTP calls the gateway makes, itself, with internal tokens
    it mints with the gateway's key (what a client without the gateway would have to do): the case's network
    slice, then the assessment and plans reads in parallel; for the page, the network caseload, the network's
    bulk access decision, then the assessment and plans bulk reads in parallel. No composition, no GraphQL, no
    audit record of the gateway's own.
(c) peer: Hive Gateway serving a supergraph composed by Mesh Compose from the three services' OpenAPI documents
    (tests/perf/hive_peer.py; installed with npm into ~/.cache/sop-bench/hive once). Asked the two views as the
    same three upstream reads as the baseline, with the same minted tokens; its answers are first checked
    against (a)'s for what both carry, and a difference fails the peer loudly (exit status 1). Not asked the
    caseload page (its reads depend on each other: no composition of the OpenAPI documents alone makes it).
    Without npm, or `--no-peer`, it is skipped and the summary says `vs_peer=n/a`.

Each cell (an operation on a target at a concurrency) runs for `--seconds`; the cells of a round are run one after the
other, in the same order each round, so that drift of the machine falls on both targets alike. For each cell:
p50 and p99 latency, requests per second, errors (a status other than 200 or a GraphQL error), operations
still unfinished `--drain` seconds after the cell's time (abandoned; counted with the errors), and CPU
milliseconds per operation of each process (utime + stime from /proc/<pid>/stat, sampled before and after the
cell: the gateway, each service, the PostgreSQL backends serving this run's databases, and this client) and,
at the end, the resident memory (RSS) of each component. The last line is machine-readable:

    bench-views: cpu_ms_per_view=<all processes, full caseView, gateway, concurrency 16> gateway_cpu_ms=<same,
      gateway only> vs_peer=<full caseView req/s at 16, ours / the peer's, or n/a> p50_vs_baseline=<full
      caseView p50, gateway / baseline, at 1> errors=<count over the whole run>

With `--scale-cases N`, after the rounds: background cases are COPYed into the network database up to 1,000 and
then up to N (tests/perf/sacwis_rows.py), each operation is measured through the gateway at 1 client at both
sizes, and a line `bench-views-scale: cases=N <operation>=<p50 at N / p50 at 1,000> ...` comes before the last.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import hive_peer
import httpx
from distributed_system import WORKER, percentile, real_services, running_system, seed_case, seed_caseload
from graphql import build_schema
from sacwis_rows import copy_background_cases

from sop_shared.auth import InternalTokenMinter, Principal
from sop_shared.keys import load_signing_key
from sop_shared.policy import ActorType, scopes_for

REPOSITORY = Path(__file__).resolve().parents[2]


def full_view_query(sdl: str, max_depth: int = 6) -> str:
    """`caseView` with every field of the view, as the contract (docs/contract/gateway.graphql) has it: each
    field that needs no argument, down through its object types (a type already on the path is not entered
    again; abstract types are asked for their __typename)."""
    schema = build_schema(sdl)
    view = schema.get_type("CaseView")
    selection = hive_peer.every_field(schema, view, max_depth, fragments=False)
    return 'query($id: ID!) { caseView(caseId: $id, audience: STAFF, language: "en")' + selection + " }"


FULL_VIEW = full_view_query((REPOSITORY / "docs" / "contract" / "gateway.graphql").read_text())
SMALL_VIEW = """query($id: ID!) { caseView(caseId: $id) { case { recordId status county } safetyPlan { status } } }"""
CASELOAD = """{ cases(first: 50) { edges { node { id externalId county status
  assessmentSummary { activeDangerStatements latestOverallRating { score } safetyDecision riskLevel }
  planSummary { planInForce { status versionNumber } openAlerts overdueNextSteps } } } } }"""

OPERATIONS = ("full caseView", "small caseView", "caseload page")
TARGETS = ("gateway", "baseline", "peer")
COMPONENTS = ("gateway", "network", "assessment", "plans")
PROCESSES = ("gateway", "network", "assessment", "plans", "postgres", "peer")  # the serving side's CPU columns
TICKS = os.sysconf("SC_CLK_TCK")
SCALE_BASE = 1_000  # --scale-cases compares the network database at this many cases with it at N


def cpu_ms(pid: int) -> float | None:
    """utime + stime of a process, in milliseconds (None once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS  # fields 14 and 15 of proc(5), after the name


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


@dataclass
class Cell:
    """One operation on one target at one concurrency, over every round."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    unfinished: int = 0  # still in flight when the cell's time and its drain were up: abandoned
    first_error: str = ""
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # process -> ms, summed

    @property
    def count(self) -> int:
        return len(self.latencies)

    def cpu_per_op(self, process: str) -> float:
        return self.cpu.get(process, 0.0) / self.count if self.count else 0.0

    def cpu_all_per_op(self) -> float:
        """Every process that serves the operation (not this client: it plays the caller's part)."""
        return sum(self.cpu_per_op(p) for p in self.cpu if p != "client")


@dataclass
class Bench:
    system: Any
    case_id: str
    databases: list[str]
    token: str
    minter: InternalTokenMinter
    principal: Principal
    results: dict[tuple[str, str, int], Cell] = field(default_factory=lambda: defaultdict(Cell))
    postgres_pids: list[int] = field(default_factory=list)
    lean_decision: bool = True  # the network service has POST /v1/case-access (else: POST /v1/case-views)
    peer: hive_peer.RunningPeer | None = None
    peer_scopes: list[str] = field(default_factory=list)  # the case's scopes, as the network decides them

    def targets(self, operation: str) -> list[str]:
        peer = self.peer is not None and operation in self.peer.queries
        return [t for t in TARGETS if t != "peer" or peer]

    # --- (a) through the gateway -----------------------------------------------------------------------------

    async def gateway_fetch(self, client: httpx.AsyncClient, operation: str) -> tuple[Any, str | None]:
        """The GraphQL answer's data, or why there is none."""
        query = {"full caseView": FULL_VIEW, "small caseView": SMALL_VIEW, "caseload page": CASELOAD}[operation]
        variables = {} if operation == "caseload page" else {"id": self.case_id}
        response = await client.post(
            f"{self.system.gateway}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        return graphql_answer(response)

    async def gateway_op(self, client: httpx.AsyncClient, operation: str) -> str | None:
        return (await self.gateway_fetch(client, operation))[1]

    # --- (c) the peer gateway: the same reads as the baseline, with the same tokens ---------------------------------

    async def peer_fetch(self, client: httpx.AsyncClient, operation: str) -> tuple[Any, str | None]:
        assert self.peer is not None
        case = uuid.UUID(self.case_id)
        scoped = self.principal.scoped_to(case, self.peer_scopes)
        principals = {"network": self.principal.scoped_to(case), "assessment": scoped, "plans": scoped}
        headers = {
            hive_peer.authorization_header(service): self._headers(service, principal)["Authorization"]
            for service, principal in principals.items()
        }
        response = await client.post(
            f"{self.peer.url}/graphql",
            json={"query": self.peer.queries[operation], "variables": {"id": self.case_id}},
            headers=headers,
        )
        data, error = graphql_answer(response)
        problem = None if error else hive_peer.peer_problem(data)
        return data, error or (f"upstream {problem}" if problem else None)

    async def peer_op(self, client: httpx.AsyncClient, operation: str) -> str | None:
        return (await self.peer_fetch(client, operation))[1]

    async def check_peer(self, client: httpx.AsyncClient, operations: list[str]) -> list[str]:
        """(a) and (c) answer the same for what both carry: each difference (none when they agree)."""
        found = []
        for operation in (o for o in operations if "peer" in self.targets(o)):
            ours, error = await self.gateway_fetch(client, operation)
            theirs, peer_error = await self.peer_fetch(client, operation)
            if error or peer_error:
                found.append(f"{operation}: gateway {error or 'ok'}, peer {peer_error or 'ok'}")
                continue
            compared, differ = hive_peer.compare(ours["caseView"], theirs)
            print(f"(a) and (c) compared on {operation}: " + ", ".join(compared))
            found += [f"{operation}: {d}" for d in differ]
        return found

    # --- (b) the no-gateway baseline: the same upstream calls, made by the client --------------------------------

    def _headers(self, service: str, principal: Principal, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.minter.mint(principal, audience=service)}", **extra}

    async def _call(
        self, client: httpx.AsyncClient, service: str, method: str, path: str, principal: Principal, **kwargs: Any
    ) -> Any:
        extra = kwargs.pop("headers", {})
        response = await client.request(
            method, self.system.url(service) + path, headers=self._headers(service, principal, **extra), **kwargs
        )
        if response.status_code != 200:
            raise RuntimeError(f"{service} {method} {path}: http {response.status_code} {response.text[:200]}")
        return response.json()

    async def baseline_op(self, client: httpx.AsyncClient, operation: str) -> str | None:
        try:
            if operation == "caseload page":
                await self._baseline_page(client)
            else:
                await self._baseline_view(client, small=operation == "small caseView")
        except (RuntimeError, httpx.HTTPError) as exc:
            return str(exc)[:300]
        return None

    async def _baseline_view(self, client: httpx.AsyncClient, *, small: bool) -> None:
        """The calls the gateway makes for the view: the small one (the case and the plan's status) reads nothing
        of the assessment service, so neither calls it."""
        case = uuid.UUID(self.case_id)
        audience = {"X-SOP-Audience": "staff"}
        network = await self._call(
            client, "network", "GET", f"/v1/cases/{case}/view", self.principal.scoped_to(case), headers=audience
        )
        scoped = self.principal.scoped_to(case, network["access"]["scopes"])
        plans = self._call(client, "plans", "GET", f"/v1/cases/{case}/case-view", scoped, headers=audience)
        if small:
            await plans
            return
        assessment = self._call(
            client,
            "assessment",
            "GET",
            f"/v1/cases/{case}/case-view",
            scoped,
            params={"language": "en"},
            headers=audience,
        )
        await asyncio.gather(assessment, plans)

    async def _baseline_page(self, client: httpx.AsyncClient) -> None:
        everyone = self.principal.scoped_to(None)
        page = await self._call(client, "network", "GET", "/v1/cases", everyone, params={"limit": 50})
        ids = [item["id"] for item in page["items"]]
        if self.lean_decision:
            decided = await self._call(client, "network", "POST", "/v1/case-access", everyone, json={"case_ids": ids})
            allowed = [item["case_id"] for item in decided["items"] if item["allowed"]]
        else:  # a network service from before the lean decision (comparing with an earlier build)
            decided = await self._call(client, "network", "POST", "/v1/case-views", everyone, json={"case_ids": ids})
            allowed = [item["access"]["case_id"] for item in decided["items"] if item["access"]["allowed"]]
        bulk = self.principal.scoped_to_cases(uuid.UUID(c) for c in allowed)
        await asyncio.gather(
            *(
                self._call(client, service, "POST", "/v1/case-views", bulk, json={"case_ids": allowed})
                for service in ("assessment", "plans")
            )
        )

    # --- measuring -----------------------------------------------------------------------------------------------

    async def pids(self) -> dict[str, list[int]]:
        """The processes serving this run: the components, the PostgreSQL backends on this run's databases."""
        found = {name: [self.system.processes[name].pid] for name in COMPONENTS}
        found["client"] = [os.getpid()]
        if self.peer is not None:
            found["peer"] = list(hive_peer.descendants(self.peer.process.pid))
        try:
            conn = await asyncpg.connect(real_services.postgres_admin_url(), timeout=30)
        except (OSError, asyncpg.PostgresError) as exc:  # e.g. a shared server out of connections: keep going
            print(f"(PostgreSQL backends not listed this time: {type(exc).__name__}; the last list is used)")
            found["postgres"] = self.postgres_pids
            return found
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()",
                self.databases,
            )
        finally:
            await conn.close()
        self.postgres_pids = found["postgres"] = [r["pid"] for r in rows]
        return found

    async def cell(
        self, operation: str, target: str, concurrency: int, seconds: float, drain: float, into: Cell | None = None
    ) -> None:
        """Runs one cell, adding what it measured to `into` (else to the run's results for it)."""
        run = {"gateway": self.gateway_op, "baseline": self.baseline_op, "peer": self.peer_op}[target]
        cell = into if into is not None else self.results[(operation, target, concurrency)]
        limits = httpx.Limits(max_connections=concurrency * 4, max_keepalive_connections=concurrency * 4)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            await run(client, operation)  # the connections opened before the clock starts
            before_pids = await self.pids()
            before = {(name, pid): cpu_ms(pid) for name, pids in before_pids.items() for pid in pids}
            started = time.perf_counter()
            deadline = started + seconds

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    error = await run(client, operation)
                    cell.latencies.append(time.perf_counter() - t0)
                    if error is not None:
                        cell.errors += 1
                        cell.first_error = cell.first_error or error

            # No new operation starts after the deadline; those in flight get `drain` seconds more, then they
            # are abandoned and counted as unfinished (so a loaded machine cannot stretch a run without bound).
            workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
            _, pending = await asyncio.wait(workers, timeout=seconds + drain)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            cell.unfinished += len(pending)
            cell.seconds += time.perf_counter() - started
            after_pids = await self.pids()
        for name, pids in after_pids.items():
            for pid in pids:
                now = cpu_ms(pid)
                if now is not None:
                    cell.cpu[name] += now - (before.get((name, pid)) or 0.0)


def graphql_answer(response: httpx.Response) -> tuple[Any, str | None]:
    """A GraphQL answer's data, or why there is none (a status other than 200, or an error)."""
    if response.status_code != 200:
        return None, f"http {response.status_code} {response.text[:200]}"
    body = response.json()
    if body.get("errors"):
        return None, f"graphql {body['errors'][0].get('message', '')[:200]}"
    return body["data"], None


def baseline_principal() -> Principal:
    """The worker as the gateway makes them from the dev issuer's token (sop_gateway.identity)."""
    roles = frozenset({"worker"})
    return Principal(
        subject=WORKER,
        actor_type=ActorType.staff,
        roles=roles,
        scopes=frozenset(s.value for s in scopes_for(ActorType.staff, roles, [])),
        agency="DCFS",
        name="Dana Rivera",
    )


def report(
    bench: Bench, operations: list[str], concurrencies: list[int], memory: dict[str, float], peer: str | None
) -> str:
    """The table, and the summary line (returned)."""
    processes = list(PROCESSES)
    header = f"{'operation':16}{'target':10}{'conc':>5}{'ops':>7}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
    header += f"{'err':>5}{'unfin':>6}"
    header += "".join(f"{p[:10]:>11}" for p in processes) + f"{'all':>8}{'client':>8}"
    print("\nCPU columns: milliseconds of CPU per operation in that process (all = the served side, not the client)")
    print(header)
    for operation in operations:
        for concurrency in concurrencies:
            for target in bench.targets(operation):
                c = bench.results[(operation, target, concurrency)]
                rate = c.count / c.seconds if c.seconds else 0.0
                line = (
                    f"{operation:16}{target:10}{concurrency:>5}{c.count:>7}{rate:>8.1f}"
                    f"{percentile(c.latencies, 0.5) * 1000:>8.1f}{percentile(c.latencies, 0.99) * 1000:>8.1f}"
                    f"{c.errors:>5}{c.unfinished:>6}"
                )
                line += "".join(f"{c.cpu_per_op(p):>11.2f}" for p in processes)
                print(line + f"{c.cpu_all_per_op():>8.2f}{c.cpu_per_op('client'):>8.2f}")
    errors = {k: c for k, c in bench.results.items() if c.errors}
    for (operation, target, concurrency), c in errors.items():
        print(f"errors: {operation} / {target} / {concurrency}: {c.errors}, the first: {c.first_error}")
    print("\nRSS after the run (MB): " + ", ".join(f"{name} {mb:.0f}" for name, mb in memory.items()))
    print(f"  (the components ran on {bench.system.python})")
    print(f"peer gateway (c): {peer}")

    middle = 16 if 16 in concurrencies else concurrencies[len(concurrencies) // 2]
    full = bench.results[("full caseView", "gateway", middle)]
    theirs_full = bench.results[("full caseView", "peer", middle)] if "peer" in bench.targets("full caseView") else None
    lowest = min(concurrencies)
    ours = percentile(bench.results[("full caseView", "gateway", lowest)].latencies, 0.5)
    theirs = percentile(bench.results[("full caseView", "baseline", lowest)].latencies, 0.5)
    return summary_line(
        cpu_ms_per_view=full.cpu_all_per_op(),
        gateway_cpu_ms=full.cpu_per_op("gateway"),
        vs_peer=throughput_ratio(full, theirs_full) if theirs_full is not None else None,
        p50_vs_baseline=ours / theirs if theirs else None,
        errors=sum(c.errors + c.unfinished for c in bench.results.values()),
    )


def throughput_ratio(ours: Cell, theirs: Cell) -> float | None:
    """Our operations per second over the peer's, each over its own cells' wall time (None without both)."""
    if not (ours.seconds and theirs.seconds and ours.count and theirs.count):
        return None
    return (ours.count / ours.seconds) / (theirs.count / theirs.seconds)


def summary_line(
    *, cpu_ms_per_view: float, gateway_cpu_ms: float, vs_peer: float | None, p50_vs_baseline: float | None, errors: int
) -> str:
    def ratio(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    return (
        f"bench-views: cpu_ms_per_view={cpu_ms_per_view:.1f} gateway_cpu_ms={gateway_cpu_ms:.1f} "
        f"vs_peer={ratio(vs_peer)} p50_vs_baseline={ratio(p50_vs_baseline)} errors={errors}"
    )


async def measure(system: Any, args: argparse.Namespace, run_dir: Path) -> tuple[str, bool]:
    """Seeds, measures and reports: the summary line, and whether the peer's answers agreed with ours."""
    started = time.monotonic()
    case_id, _, _ = await seed_case(system, args.preload)
    await seed_caseload(system, args.cases)
    print(
        f"seeded the demo family, {args.preload} more statements on it and {args.cases} cases on the caseload "
        f"in {time.monotonic() - started:.0f} s"
    )
    databases = [dsn.rsplit("/", 1)[1].split("?", 1)[0] for dsn in system.databases.values()]
    minter = InternalTokenMinter(load_signing_key(system.keys_dir / "internal.key.pem"))
    bench = Bench(system, case_id, databases, system.token(WORKER), minter, baseline_principal())
    async with httpx.AsyncClient(timeout=60) as client:
        probe = await client.post(f"{system.url('network')}/v1/case-access", json={"case_ids": []})
        bench.lean_decision = probe.status_code != 404
    peer_status, agreed = await start_peer(bench, args, run_dir)
    try:
        # Warm-up (not counted): every operation on every target, so that caches and pools are filled.
        async with httpx.AsyncClient(timeout=60) as client:
            for operation in args.operations:
                for _ in range(3):
                    for error in [
                        await bench.baseline_op(client, operation),
                        await bench.gateway_op(client, operation),
                    ]:
                        if error:
                            raise SystemExit(f"{operation} fails before the benchmark: {error}")
            if bench.peer is not None:
                differ = await bench.check_peer(client, args.operations)
                if differ:
                    agreed = False
                    peer_status = "FAILED: (a) and (c) answer differently, not measured: " + "; ".join(differ)
                    print("\n!!! the peer gateway (c) " + peer_status + "\n", flush=True)
                    bench.peer.stop()
                    bench.peer = None
                else:
                    for operation in args.operations:
                        for _ in range(3 if "peer" in bench.targets(operation) else 0):
                            if error := await bench.peer_op(client, operation):
                                raise SystemExit(f"{operation} fails on the peer before the benchmark: {error}")
        profilers = start_profiles(system, args.py_spy, Path(args.profile_dir)) if args.py_spy else {}
        cells = sum(len(bench.targets(o)) for o in args.operations) * len(args.concurrency)
        print(f"{args.rounds} rounds of {cells} cells of {args.seconds:g} s")
        for round_ in range(args.rounds):
            for operation in args.operations:
                for concurrency in args.concurrency:
                    for target in bench.targets(operation):
                        await bench.cell(operation, target, concurrency, args.seconds, args.drain)
            print(f"round {round_ + 1} done at {time.monotonic() - started:.0f} s", flush=True)
        memory = {name: rss_mb(system.processes[name].pid) for name in COMPONENTS}
        if bench.peer is not None:
            memory["peer"] = sum(rss_mb(pid) for pid in hive_peer.descendants(bench.peer.process.pid))
        for name, (process, out) in profilers.items():
            process.send_signal(signal.SIGINT)
            process.wait(60)
            print(f"\nprofile of {name} (py-spy, {out}):")
            print_hot_spots(out)
        scale = await measure_scale(bench, args) if args.scale_cases else None
        line = report(bench, args.operations, args.concurrency, memory, peer_status)
        if scale is not None:
            print(scale)
        return line, agreed
    finally:
        if bench.peer is not None:
            bench.peer.stop()


async def measure_scale(bench: Bench, args: argparse.Namespace) -> str:
    """The gateway's p50 at 1 client with the network database at `SCALE_BASE` cases and at `--scale-cases`,
    background cases added by COPY in between (the same rounds and seconds as the run's): prints the table,
    returns its machine-readable line."""
    sizes = (SCALE_BASE, args.scale_cases)
    cells: dict[tuple[str, int], Cell] = {}
    for size in sizes:
        started = time.monotonic()
        added = await copy_background_cases(bench.system.databases["network"], size)
        print(f"network database at {size:,} cases: {added:,} added by COPY in {time.monotonic() - started:.0f} s")
        for _ in range(args.rounds):
            for operation in args.operations:
                cell = cells.setdefault((operation, size), Cell())
                await bench.cell(operation, "gateway", 1, args.seconds, args.drain, into=cell)
    bench.results.update({(f"{op} at {size:,} cases", "gateway", 1): c for (op, size), c in cells.items()})
    return scale_report(cells, args.operations, sizes)


def scale_report(cells: dict[tuple[str, int], Cell], operations: list[str], sizes: tuple[int, int]) -> str:
    """The p50 of each operation at both sizes and their ratio, with the network service's and all processes'
    CPU per operation (steadier than latency on a shared machine); the line for scripts (returned)."""
    small, large = sizes
    print(f"\nthrough the gateway, 1 client, by cases in the network database (ratio: {large:,} / {small:,})")
    print(f"{'operation':16}{'p50 ms':>20}{'ratio':>7}{'network CPU ms':>22}{'all CPU ms':>22}{'err':>5}")
    print(f"{'':16}" + f"{small:>10,}{large:>10,}{'':>7}" + f"{small:>11,}{large:>11,}" * 2)
    ratios = []
    for operation in operations:
        low, high = (cells[(operation, size)] for size in sizes)
        p50 = [percentile(c.latencies, 0.5) * 1000 for c in (low, high)]
        ratio = p50[1] / p50[0] if low.latencies and high.latencies else None
        shown = "n/a" if ratio is None else f"{ratio:.2f}"
        ratios.append(f"{operation.replace(' ', '_')}={shown}")
        errors = sum(c.errors + c.unfinished for c in (low, high))
        print(
            f"{operation:16}{p50[0]:>10.1f}{p50[1]:>10.1f}{shown:>7}"
            f"{low.cpu_per_op('network'):>11.2f}{high.cpu_per_op('network'):>11.2f}"
            f"{low.cpu_all_per_op():>11.2f}{high.cpu_all_per_op():>11.2f}{errors:>5}"
        )
    return f"bench-views-scale: cases={large} " + " ".join(ratios)


async def start_peer(bench: Bench, args: argparse.Namespace, run_dir: Path) -> tuple[str, bool]:
    """Starts (c) unless told not to; says how it went. Learns the case's scopes for the tokens it is sent."""
    if args.no_peer:
        return "skipped (--no-peer); vs_peer=n/a", True
    system = bench.system
    endpoints = {service: system.url(service) for service in hive_peer.SERVICES}
    started = time.monotonic()
    try:
        peer = bench.peer = await asyncio.to_thread(
            hive_peer.start,
            Path(args.peer_cache),
            run_dir / "peer",
            endpoints,
            REPOSITORY / "docs" / "contract",
            args.ready_seconds,
        )
    except hive_peer.PeerUnavailable as exc:
        print(f"the peer gateway (c) cannot run here: {exc}; going on without it (vs_peer=n/a)", flush=True)
        return f"not run: {exc}; vs_peer=n/a", True
    async with httpx.AsyncClient(timeout=60) as client:
        case = uuid.UUID(bench.case_id)
        network = await bench._call(
            client,
            "network",
            "GET",
            f"/v1/cases/{case}/view",
            bench.principal.scoped_to(case),
            headers={"X-SOP-Audience": "staff"},
        )
    bench.peer_scopes = list(network["access"]["scopes"])
    print(f"the peer gateway (c) is Hive Gateway at {peer.url}, ready in {time.monotonic() - started:.0f} s")
    return f"Hive Gateway (tests/perf/hive/package.json), log {peer.log}", True


def start_profiles(system: Any, py_spy: str, out_dir: Path) -> dict[str, tuple[subprocess.Popen[bytes], Path]]:
    """py-spy sampling each component for the whole measurement (raw collapsed stacks, one file each)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = {}
    for name in COMPONENTS:
        out = out_dir / f"{name}.txt"
        command = [py_spy, "record", "--pid", str(system.processes[name].pid), "--format", "raw", "--rate", "200"]
        started[name] = (
            subprocess.Popen([*command, "--nonblocking", "-o", str(out)], stdout=subprocess.DEVNULL),
            out,
        )
    return started


def hot_spots(collapsed: str, top: int = 12) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """From py-spy's collapsed stacks: the sample count, the functions most often on top of the stack (self),
    and those most often anywhere on it (inclusive, each once per stack; frames on nearly every stack, the
    event loop's own, left out)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame_name(f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    common = {f for f, n in inclusive.items() if n > 0.9 * total}
    return (
        total,
        own.most_common(top),
        [(f, n) for f, n in inclusive.most_common(top + len(common)) if f not in common][:top],
    )


def _frame_name(frame: str) -> str:
    """`function (path/to/module.py:12)` as `function (module.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.split(':', 1)[0]).name})" if where else name


def print_hot_spots(out: Path) -> None:
    total, own, inclusive = hot_spots(out.read_text() if out.exists() else "")
    if not total:
        print("  no samples")
        return
    print("  self:      " + "; ".join(f"{f} {100 * n / total:.1f}%" for f, n in own))
    print("  inclusive: " + "; ".join(f"{f} {100 * n / total:.1f}%" for f, n in inclusive))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 1.5 s per cell (under 3 minutes)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 6; --quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds per cell and round (default 4; --quick 1.5)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64], help="concurrent clients")
    parser.add_argument(
        "--drain", type=float, help="seconds an operation in flight at a cell's end may still take (30; --quick 3)"
    )
    parser.add_argument("--preload", type=int, help="danger statements added to the demo family (default 40)")
    parser.add_argument("--operations", nargs="+", choices=OPERATIONS, default=list(OPERATIONS), help="what to measure")
    parser.add_argument(
        "--ready-seconds", type=float, default=300, help="how long a component may take to start (a busy machine)"
    )
    parser.add_argument(
        "--case-ref-grace", type=float, default=30, help="the services' CASE_REF_GRACE_SECONDS while seeding and after"
    )
    parser.add_argument("--py-spy", help="a py-spy executable: sample every component during the rounds")
    parser.add_argument(
        "--profile-dir", default=f"{tempfile.gettempdir()}/sop-bench-views-profile", help="where --py-spy writes"
    )
    parser.add_argument("--cases", type=int, default=50, help="cases on the caseload (the page shows ≤ 50)")
    parser.add_argument(
        "--components-python",
        help="the interpreter the components run on (make bench-views: .venv-image/bin/python, the image's "
        "dependencies without the development group); default this one",
    )
    parser.add_argument("--no-peer", action="store_true", help="leave out (c), the peer gateway")
    parser.add_argument(
        "--scale-cases",
        type=int,
        default=0,
        help=f"after the rounds, COPY background cases into the network database up to {SCALE_BASE:,} and then up to "
        "this many (e.g. 1000000), and compare the gateway's p50 at 1 client at both sizes",
    )
    parser.add_argument(
        "--peer-cache", default=str(hive_peer.cache_dir()), help="where npm installs the peer gateway (reused)"
    )
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 6)
    args.seconds = args.seconds or (1.5 if args.quick else 4.0)
    args.drain = args.drain if args.drain is not None else (3.0 if args.quick else 30.0)
    args.preload = args.preload if args.preload is not None else (20 if args.quick else 40)
    if not (1 <= args.rounds <= 100 and 0.1 <= args.seconds <= 600 and 0 <= args.preload <= 5000):
        parser.error("rounds 1-100, seconds 0.1-600, preload 0-5000")
    if not all(1 <= c <= 256 for c in args.concurrency) or not 1 <= args.cases <= 1000:
        parser.error("concurrency 1-256, cases 1-1000")
    if args.scale_cases and not SCALE_BASE < args.scale_cases <= 10_000_000:
        parser.error(f"--scale-cases more than {SCALE_BASE:,}, at most 10,000,000")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    admin_url, nats = real_services.postgres_admin_url(), real_services.nats_url()
    # On a loaded machine an event announcing a new person may reach a service after its default 2 s grace.
    grace = {
        f"SOP_{name}_CASE_REF_GRACE_SECONDS": str(args.case_ref_grace) for name in ("NETWORK", "ASSESSMENT", "PLANS")
    }
    with (
        tempfile.TemporaryDirectory(prefix="sop-bench-views-") as tmp,
        running_system(
            admin_url,
            nats,
            Path(tmp),
            extra_env=grace,
            ready_seconds=args.ready_seconds,
            python=args.components_python,
        ) as system,
    ):
        line, agreed = asyncio.run(measure(system, args, Path(tmp)))
    print(line)
    sys.exit(0 if agreed else 1)


if __name__ == "__main__":
    main()
