"""The soak (not a test): many clients at once on one family's case, reads and writes, for a while, with one
service restarted halfway, and afterwards a count of what the databases hold against what was answered.

    make soak                                            # 32 clients, 120 s, 200 statements preloaded
    make soak SOAK_ARGS="--seconds 20 --clients 8"       # a quick run
    make soak SOAK_ARGS="--preload 1000"                 # the case of the load finding (issue 10)

The system is the end-to-end tests' (tests/e2e/conftest.py `running_system`): the three services and the
gateway as uvicorn processes on loopback, each on a fresh PostgreSQL database (on $SOP_TEST_POSTGRES_URL, else a
throwaway server as tests/real_services.py starts one), events on NATS ($SOP_TEST_NATS_URL, else a throwaway
one). The demo family is seeded through the gateway, then `--preload` danger statements are written to it.

Each client loops until the time is up, picking at random (seeded, so a run can be repeated): a caseView, a
caseload page, a statement (GraphQL or the REST façade), a safety-scale rating (GraphQL) or a check-in on the
plan in force (either), and now and then a replay of one of its earlier writes with the same Idempotency-Key
and body. Some writes carry no key (the gateway then gives the upstream call its own). Every write carries a
unique mark in its text, so afterwards each is counted in the service's own database:

- a write answered 2xx must be stored exactly once (its replays included): "rows written = 2xx writes";
- a write answered with a failure must not be stored at all (a committed write answered as failed is a lie);
  when the gateway cannot tell, it names the Idempotency-Key that repeats the write, and the client repeats
  each such write once after the soak ("settle") as a careful client would;
- a replay must answer with the first write's id.

Printed: requests per operation, errors by status (GraphQL errors by code), p50/p99, the row counts, and the
verdict; the exit status is 1 when any request got a server error (5xx, SERVICE_UNAVAILABLE, internal) or a
row count is off. Loopback only, every request bounded by a timeout, stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from distributed_system import (  # tests/perf/, the folder of this script
    WORKER,
    danger_statement,
    percentile,
    real_services,
    running_system,
    seed_case,
)

CASE_VIEW = """query($id: ID!) { caseView(caseId: $id) { case { recordId county status }
  children { firstName } worries { danger { recordId text } harm { recordId } }
  safetyPlan { status rules { text } recentCheckIns { kept } } } }"""
CASELOAD = """{ cases(first: 50) { edges { node { id externalId
  assessmentSummary { activeDangerStatements latestOverallRating { score } }
  planSummary { planInForce { status } openAlerts } } } } }"""
CREATE_STATEMENT = """mutation($input: CreateStatementInput!) {
  createStatement(input: $input) { record: statement { id } userErrors { code } } }"""
RATE = """mutation($input: RateSafetyScaleInput!) {
  rateSafetyScale(input: $input) { record: scaleRating { id } userErrors { code } } }"""
CHECK_IN = """mutation($input: RecordCheckInInput!) {
  recordCheckIn(input: $input) { record: checkIn { id } userErrors { code } } }"""

# (operation, weight)
MIX = (
    ("caseView", 26),
    ("caseload", 10),
    ("statement/graphql", 14),
    ("statement/rest", 10),
    ("rating/graphql", 14),
    ("check-in/rest", 8),
    ("check-in/graphql", 8),
    ("replay", 10),
)
# GraphQL error codes that are the server's fault, as a 5xx is.
SERVER_ERROR_CODES = {"SERVICE_UNAVAILABLE", "SECTION_UNAVAILABLE", "INTERNAL_SERVER_ERROR", None}


def camel(body: dict[str, Any]) -> dict[str, Any]:
    def one(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(p.title() for p in rest)

    return {one(k): v for k, v in body.items()}


@dataclass
class Write:
    """One logical write: what it marks, how it was sent, and every answer it got (first send and replays)."""

    kind: str  # statement | rating | check-in
    mark: str
    send: Any  # async (client, key) -> (ok, id or None, outcome)
    key: str | None
    ids: list[str] = field(default_factory=list)
    answered_ok: bool = False


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # (sent at, answered at, outcome) of every request, to tell errors while a service was down from the rest
    timeline: list[tuple[float, float, str]] = field(default_factory=list)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    writes: list[Write] = field(default_factory=list)
    replay_mismatches: list[str] = field(default_factory=list)

    def server_errors(self) -> int:
        return sum(n for (_, outcome), n in self.outcomes.items() if is_server_error(outcome))


def is_server_error(outcome: str) -> bool:
    if outcome.startswith("http 5") or outcome.startswith("client "):
        return True
    return outcome.startswith("graphql ") and outcome.removeprefix("graphql ") in {str(c) for c in SERVER_ERROR_CODES}


@dataclass
class Soak:
    gateway: str
    token: str
    case_id: str
    plan_id: str
    rule_ids: list[str]
    tally: Tally
    run: str
    timeout: float

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def graphql(
        self, client: httpx.AsyncClient, query: str, variables: dict[str, Any], field_name: str | None = None
    ) -> tuple[bool, Any, str]:
        """(answered ok, the record's id or, when not, the Idempotency-Key the gateway says repeats it, outcome)"""
        response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=self.auth)
        if response.status_code != 200:
            return False, None, f"http {response.status_code}"
        body = response.json()
        if body.get("errors"):
            extensions = body["errors"][0].get("extensions", {})
            return False, extensions.get("idempotencyKey"), f"graphql {extensions.get('code')}"
        data = body["data"]
        if not field_name:
            return True, data, "ok"
        payload = data[field_name]
        if payload["userErrors"]:
            return False, None, f"graphql {payload['userErrors'][0]['code']}"
        return True, payload["record"]["id"], "ok"

    async def rest(
        self,
        client: httpx.AsyncClient,
        path: str,
        body: Any,
        key: str | None,
    ) -> tuple[bool, Any, str]:
        headers = {**self.auth, **({"Idempotency-Key": key} if key else {})}
        response = await client.post(path, json=body, headers=headers)
        if response.status_code >= 300:
            advice = response.json().get("idempotency_key") if response.status_code == 503 else None
            return False, advice, f"http {response.status_code}"
        return True, response.json()["id"], "ok"

    def new_write(self, rng: random.Random, op: str, client_no: int, n: int) -> Write:
        mark = f"soak-{self.run}-{client_no}-{n}"
        key = f"{mark}-key" if rng.random() < 0.7 else None  # the rest: the gateway must key them itself
        case = self.case_id
        if op.startswith("statement"):
            body = danger_statement(mark)
            if op.endswith("graphql"):
                fields = {**camel(body), "kind": "DANGER", "caseId": case}

                async def send(c: httpx.AsyncClient, k: str | None) -> tuple[bool, Any, str]:
                    variables = {"input": {**fields, "idempotencyKey": k}}
                    return await self.graphql(c, CREATE_STATEMENT, variables, "createStatement")
            else:

                async def send(c: httpx.AsyncClient, k: str | None) -> tuple[bool, Any, str]:
                    return await self.rest(c, f"/api/assessment/v1/cases/{case}/statements", body, k)

            return Write("statement", mark, send, key)
        if op.startswith("rating"):
            rating = {
                "occasionOn": "2026-11-20",
                "occasion": mark,
                "raterName": "Maria Lopez",
                "raterRole": "CAREGIVER",
                "score": rng.randint(0, 10),
            }

            async def send(c: httpx.AsyncClient, k: str | None) -> tuple[bool, Any, str]:
                variables = {"input": {**rating, "caseId": case, "idempotencyKey": k}}
                return await self.graphql(c, RATE, variables, "rateSafetyScale")

            return Write("rating", mark, send, key)
        rule, kept = rng.choice(self.rule_ids), rng.random() < 0.8
        if op.endswith("graphql"):
            check_in = {"ruleId": rule, "reportedBy": {"name": "Rosa Delgado"}, "kept": kept, "note": mark}

            async def send(c: httpx.AsyncClient, k: str | None) -> tuple[bool, Any, str]:
                variables = {"input": {**check_in, "caseId": case, "planId": self.plan_id, "idempotencyKey": k}}
                return await self.graphql(c, CHECK_IN, variables, "recordCheckIn")
        else:
            body = {"rule_id": rule, "reported_by": {"name": "Rosa Delgado"}, "kept": kept, "note": mark}

            async def send(c: httpx.AsyncClient, k: str | None) -> tuple[bool, Any, str]:
                return await self.rest(c, f"/api/plans/v1/cases/{case}/safety-plans/{self.plan_id}/check-ins", body, k)

        return Write("check-in", mark, send, key)

    async def client(self, client_no: int, deadline: float, seed: int) -> None:
        rng = random.Random(seed * 1000 + client_no)
        operations, weights = zip(*MIX, strict=True)
        mine: list[Write] = []
        async with httpx.AsyncClient(base_url=self.gateway, timeout=self.timeout) as client:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                op = rng.choices(operations, weights)[0]
                keyed = [w for w in mine if w.key]
                if op == "replay" and not keyed:
                    op = "caseView"
                write: Write | None = None
                started = time.perf_counter()
                try:
                    if op == "caseView":
                        _, _, outcome = await self.graphql(client, CASE_VIEW, {"id": self.case_id})
                    elif op == "caseload":
                        _, _, outcome = await self.graphql(client, CASELOAD, {})
                    else:
                        write = rng.choice(keyed) if op == "replay" else self.new_write(rng, op, client_no, n)
                        ok, record_id, outcome = await write.send(client, write.key)
                        if not ok and record_id and write.key is None:
                            write.key = record_id  # the gateway's advice: repeat it with this key
                        if ok:
                            if write.ids and record_id != write.ids[0]:
                                self.tally.replay_mismatches.append(f"{write.mark}: {write.ids[0]} then {record_id}")
                            write.ids.append(record_id)
                            write.answered_ok = True
                        if op != "replay":
                            mine.append(write)
                            self.tally.writes.append(write)
                except httpx.HTTPError as exc:
                    outcome = f"client {type(exc).__name__}"
                    if write is not None and op != "replay":
                        mine.append(write)
                        self.tally.writes.append(write)
                self.tally.latencies[op].append(time.perf_counter() - started)
                self.tally.outcomes[(op, outcome)] += 1
                self.tally.timeline.append((started, time.perf_counter(), outcome))
            # A careful client repeats, with its key, each write it was not told succeeded: once, after the soak.
            for write in [w for w in mine if w.key and not w.answered_ok]:
                started = time.perf_counter()
                try:
                    ok, record_id, outcome = await write.send(client, write.key)
                except httpx.HTTPError as exc:
                    ok, outcome = False, f"client {type(exc).__name__}"
                if ok:
                    write.ids.append(record_id)
                    write.answered_ok = True
                self.tally.latencies["settle"].append(time.perf_counter() - started)
                self.tally.outcomes[("settle", outcome)] += 1


async def stored_marks(system: Any, run: str) -> dict[str, Counter[str]]:
    """How many rows carry each mark of this run, in each service's own database."""
    queries = {
        "statement": ("assessment", "SELECT who_is_worried FROM statement WHERE who_is_worried LIKE $1"),
        "rating": ("assessment", "SELECT occasion FROM scale_rating WHERE occasion LIKE $1"),
        "check-in": ("plans", "SELECT note FROM check_in WHERE note LIKE $1"),
    }
    counts: dict[str, Counter[str]] = {}
    for kind, (service, sql) in queries.items():
        conn = await asyncpg.connect(system.databases[service], timeout=30)
        try:
            counts[kind] = Counter(row[0] for row in await conn.fetch(sql, f"soak-{run}-%"))
        finally:
            await conn.close()
    return counts


def report(
    tally: Tally,
    counts: dict[str, Counter[str]],
    seconds: float,
    clients: int,
    restart: tuple[str, float, float, float, float, float] | None,
) -> bool:
    everything = [x for values in tally.latencies.values() for x in values]
    total = len(everything)
    print(f"\n{clients} clients for {seconds:.0f} s: {total} requests ({total / seconds:.1f}/s)")
    if restart:
        print(
            f"restarted {restart[0]} at {restart[1]:.0f} s: stopped in {restart[2]:.1f} s, "
            f"ready again {restart[3]:.1f} s later"
        )
    print(f"{'operation':20}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}   outcomes")
    for op in [op for op, _ in MIX] + ["settle"]:
        values = tally.latencies.get(op, [])
        outcomes = ", ".join(f"{o} {n}" for (o_op, o), n in sorted(tally.outcomes.items()) if o_op == op)
        print(
            f"{op:20}{len(values):>10}{percentile(values, 0.5) * 1000:>10.0f}{percentile(values, 0.99) * 1000:>10.0f}"
            f"   {outcomes}"
        )
    print(
        f"{'all':20}{total:>10}{percentile(everything, 0.5) * 1000:>10.0f}{percentile(everything, 0.99) * 1000:>10.0f}"
    )
    by_status = Counter()
    for (_, outcome), n in tally.outcomes.items():
        by_status[outcome] += n
    print("errors by status: " + (", ".join(f"{o}: {n}" for o, n in sorted(by_status.items()) if o != "ok") or "none"))
    if restart:
        down_from, down_to = restart[4], restart[5]
        during = Counter(
            o for sent, answered, o in tally.timeline if o != "ok" and sent <= down_to and answered >= down_from
        )
        print(
            f"  of these, sent or answered while {restart[0]} was stopped or starting: "
            + (", ".join(f"{o}: {n}" for o, n in sorted(during.items())) or "none")
        )

    good = True
    print(
        f"\n{'writes':10}{'sent':>8}{'2xx':>8}{'failed':>8}{'rows':>8}{'lost':>8}{'duplicated':>12}"
        f"{'stored but answered failed':>28}"
    )
    for kind in ("statement", "rating", "check-in"):
        writes = [w for w in tally.writes if w.kind == kind]
        ok = [w for w in writes if w.answered_ok]
        rows = counts[kind]
        lost = sum(1 for w in ok if rows[w.mark] == 0)
        duplicated = sum(1 for w in writes if rows[w.mark] > 1)
        lied = sum(1 for w in writes if not w.answered_ok and rows[w.mark] > 0)
        strangers = sum(n for mark, n in rows.items() if mark not in {w.mark for w in writes})
        print(
            f"{kind:10}{len(writes):>8}{len(ok):>8}{len(writes) - len(ok):>8}{sum(rows.values()):>8}{lost:>8}"
            f"{duplicated:>12}{lied:>28}"
        )
        good &= lost == duplicated == lied == strangers == 0 and sum(rows.values()) == len(ok)
    replays = len(tally.latencies.get("replay", []))
    print(f"replays: {replays}, answered with another id than the first: {len(tally.replay_mismatches)}")
    for line in tally.replay_mismatches[:5]:
        print("  " + line)
    server_errors = tally.server_errors()
    good &= server_errors == 0 and not tally.replay_mismatches
    ok_writes = sum(1 for w in tally.writes if w.answered_ok)
    print(
        f"\nserver errors: {server_errors}; rows written = 2xx writes: "
        f"{sum(sum(c.values()) for c in counts.values())} = {ok_writes}"
    )
    print("verdict: " + ("PASS" if good else "FAIL"))
    return good


async def soak(system: Any, args: argparse.Namespace) -> bool:
    started = time.monotonic()
    case_id, plan_id, rule_ids = await seed_case(system, args.preload)
    print(f"seeded the demo family and {args.preload} statements in {time.monotonic() - started:.0f} s")
    run = uuid.uuid4().hex[:8]
    tally = Tally()
    soak = Soak(system.gateway, system.token(WORKER), case_id, plan_id, rule_ids, tally, run, args.timeout)
    begin, begin_perf = time.monotonic(), time.perf_counter()
    deadline = begin + args.seconds
    restart: tuple[str, float, float, float, float, float] | None = None

    async def restart_midway() -> None:
        nonlocal restart
        await asyncio.sleep(args.seconds / 2)
        at = time.monotonic()
        await asyncio.to_thread(system.stop, args.restart)
        stopped = time.monotonic()
        try:
            await asyncio.to_thread(system.start, args.restart)
        except RuntimeError as exc:  # reported, and the soak fails: the clients carry on to the end
            print(f"restarting {args.restart} failed: {str(exc)[:500]}")
            tally.outcomes[("restart", "client restart failed")] += 1
            return
        restart = (
            args.restart,
            at - begin,
            stopped - at,
            time.monotonic() - stopped,
            at - begin + begin_perf,
            time.monotonic() - begin + begin_perf,
        )

    tasks = [soak.client(n, deadline, args.seed) for n in range(args.clients)]
    if args.restart != "none":
        tasks.append(restart_midway())
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - begin
    counts = await stored_marks(system, run)
    return report(tally, counts, elapsed, args.clients, restart)


def logged_errors(log: Path) -> Counter[str]:
    """Each error a component logged, by its last line (a traceback's exception) or its event."""
    found: Counter[str] = Counter()
    lines = log.read_text(errors="replace").splitlines()
    for n, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next(
                (m for m in range(n + 1, len(lines)) if lines[m] and not lines[m].startswith((" ", "\t"))),
                len(lines) - 1,
            )
            found[lines[end][:200]] += 1
        elif '"level": "error"' in line:
            found[line[:200]] += 1
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument(
        "--preload",
        type=int,
        default=200,
        help="danger statements on the case before the soak (the load finding had 1,000)",
    )
    parser.add_argument(
        "--restart",
        choices=("network", "assessment", "plans", "none"),
        default="assessment",
        help="the service process stopped and started again halfway",
    )
    parser.add_argument("--timeout", type=float, default=60, help="each client request's own limit, seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 256 and 1 <= args.seconds <= 3600 and 0 <= args.preload <= 20_000):
        parser.error("clients 1-256, seconds 1-3600, preload 0-20000")
    # The system is started and stopped outside the event loop (its database set-up runs its own loops).
    admin_url, nats = real_services.postgres_admin_url(), real_services.nats_url()
    with tempfile.TemporaryDirectory(prefix="sop-soak-") as tmp, running_system(admin_url, nats, Path(tmp)) as system:
        passed = asyncio.run(soak(system, args))
        if not passed:
            for log in sorted(Path(tmp).glob("*.log")):  # what the components said went wrong (not warnings)
                print(
                    f"{log.name}: "
                    + (", ".join(f"{n} x {e}" for e, n in logged_errors(log).most_common(8)) or "no errors")
                )
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
