"""CPU per case-view read in the assessment service (not a test): the golden test's populated fictional case,
read N times by each audience on PostgreSQL, in process, with `time.process_time()`.

    .venv/bin/python tests/perf/assessment_case_view.py                    # 300 reads per audience
    .venv/bin/python tests/perf/assessment_case_view.py --reads 1000
    .venv/bin/python tests/perf/assessment_case_view.py --against main     # this build against main's, interleaved

Two figures per audience: the whole request (ASGI, auth, the read, the audit append, JSON; the in-process
HTTP client's share included) and the read alone (`assessment_case_view` on a session, no HTTP, no audit),
with the SQL statements one read sends.

`--against REF` compares two builds: the other build's `sop_assessment` and `sop_shared` are taken from git
(`git archive REF` into a temporary directory) and each build runs in a process of its own (one Python process
cannot hold two versions of a package), both serving the same populated case from databases of their own. The
builds take turns, round by round and audience by audience (which goes first alternates), so the machine's load
falls on both alike; the figures are the medians of the rounds and their ratio. PostgreSQL:
$SOP_BENCH_POSTGRES_URL or $SOP_TEST_POSTGRES_URL, else a throwaway pgserver; a fresh database is made and
dropped."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS_DIR / "assessment"), str(TESTS_DIR)]

import real_services  # noqa: E402
import view_reads  # noqa: E402
from conftest import MARIA_DANGER_STATEMENT, MARIA_HARM_STATEMENT  # noqa: E402
from query_counting import counted_queries  # noqa: E402
from test_case_view_golden import populate, readers  # noqa: E402

from sop_assessment.case_view.service import assessment_case_view  # noqa: E402
from sop_assessment.component import component  # noqa: E402
from sop_assessment.sdm.service import catalog_of  # noqa: E402
from sop_shared.auth import request_audience  # noqa: E402
from sop_shared.ids import new_id  # noqa: E402

Round = Callable[[str, int], Awaitable[tuple[float, float, int]]]


@asynccontextmanager
async def serving() -> AsyncIterator[tuple[list[str], Round]]:
    """The populated case on a fresh database, and a round: `reads` reads by one audience, with its CPU ms per
    request, per read alone and the statements one request sends."""
    server = os.environ.get("SOP_BENCH_POSTGRES_URL") or real_services.postgres_admin_url()
    async with view_reads.served_on_a_fresh_database(component, server, "bench_assessment") as (svc, tokens):
        case_id = new_id()
        rivera = tokens.headers("assessment", case_id=case_id)
        made = await populate(svc, case_id, rivera, dict(MARIA_DANGER_STATEMENT), dict(MARIA_HARM_STATEMENT))
        opened = uuid.UUID(made["harm"]["id"])
        url = f"/v1/cases/{case_id}/case-view"
        warm: set[str] = set()

        async def round_of(audience: str, reads: int) -> tuple[float, float, int]:
            headers, language = readers(tokens, case_id, opened)[audience]  # fresh: tokens live briefly
            if audience not in warm:
                warm.add(audience)
                for _ in range(20):  # warm up: caches, compiled statements, pool
                    await svc.client.get(url, headers=headers, params={"language": language})
            with counted_queries(svc) as seen:
                await svc.client.get(url, headers=headers, params={"language": language})
            spent = 0.0
            for done in range(0, reads, 20):  # a fresh token every 20 reads, minted off the clock
                headers = readers(tokens, case_id, opened)[audience][0]
                started = time.process_time()
                for _ in range(min(20, reads - done)):
                    response = await svc.client.get(url, headers=headers, params={"language": language})
                spent += time.process_time() - started
            assert response.status_code == 200, response.text
            principal = svc.app.state.token_verifier.verify(headers["Authorization"].split()[1])
            view_audience = request_audience(principal, None)
            async with svc.app.state.database.session() as session:
                started = time.process_time()
                for _ in range(reads):
                    await assessment_case_view(
                        session,
                        case_id=case_id,
                        audience=view_audience,
                        language=language,
                        catalog=catalog_of(svc.app),
                        now=datetime.now(UTC),
                        sharing=principal.network_sharing,
                        reader=principal.person_id,
                    )
                read_ms = (time.process_time() - started) * 1000 / reads
            return spent * 1000 / reads, read_ms, len(seen)

        yield list(readers(tokens, case_id, opened)), round_of


async def main(reads: int) -> None:
    async with serving() as (audiences, round_of):
        print(f"{'audience':10s} {'request ms CPU':>15s} {'read ms CPU':>12s} {'statements':>11s}")
        for audience in audiences:
            request_ms, read_ms, statements = await round_of(audience, reads)
            print(f"{audience:10s} {request_ms:15.2f} {read_ms:12.2f} {statements:11d}", flush=True)


async def serve() -> None:
    """A build's side of `--against`: a JSON line of audiences, then per line asked (`audience reads`) a JSON
    line of the round's figures."""
    async with serving() as (audiences, round_of):
        print(json.dumps(audiences), flush=True)
        for line in sys.stdin:
            audience, reads = line.split()
            print(json.dumps(await round_of(audience, int(reads))), flush=True)


class Build:
    """One build's serving process (`--serve`), with `src` first on its path when it is another checkout."""

    def __init__(self, name: str, src: list[Path]) -> None:
        self.name = name
        path = os.pathsep.join([*(str(p) for p in src), os.environ.get("PYTHONPATH", "")]).strip(os.pathsep)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
        )
        self.audiences: list[str] = json.loads(self._line())

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} build's process ended (its error is above)")
        return line

    def round(self, audience: str, reads: int) -> tuple[float, float, int]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{audience} {reads}\n")
        self.process.stdin.flush()
        request_ms, read_ms, statements = json.loads(self._line())
        return request_ms, read_ms, statements

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def against(ref: str, reads: int, rounds: int) -> None:
    """This build against `ref`'s, round by round (see the module docstring)."""
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="bench-against-") as tmp:
        checkout = Path(tmp) / "old"
        checkout.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", ref, "services/assessment/src", "shared/src"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(checkout)], input=archive, check=True)
        builds: list[Build] = []
        try:
            builds = [Build(ref, [checkout / "services/assessment/src", checkout / "shared/src"]), Build("this", [])]
            figures: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
            for n in range(rounds):
                for audience in builds[0].audiences:
                    for build in builds if n % 2 == 0 else builds[::-1]:
                        figures.setdefault((build.name, audience), []).append(build.round(audience, reads))
                print(f"round {n + 1} of {rounds} done", file=sys.stderr, flush=True)
        finally:
            for build in builds:
                build.close()
    print(f"CPU ms per request and per read alone, median of {rounds} rounds of {reads} reads; {ref} -> this build")
    print(f"{'audience':10s} {'request':>24s} {'read alone':>24s} {'statements':>11s}")
    for audience in builds[0].audiences:
        old, new = figures[(ref, audience)], figures[("this", audience)]
        cells = []
        for i in (0, 1):
            before, after = statistics.median(f[i] for f in old), statistics.median(f[i] for f in new)
            cells.append(f"{before:6.2f} -> {after:6.2f} ({before / after:4.2f}x)")
        print(f"{audience:10s} {cells[0]:>24s} {cells[1]:>24s} {old[0][2]:>5d} -> {new[0][2]:<3d}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=300, help="reads per audience (per round with --against)")
    parser.add_argument("--against", metavar="REF", help="compare with the build at this git ref, interleaved")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per build with --against")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
    elif args.against:
        against(args.against, args.reads, args.rounds)
    else:
        asyncio.run(main(args.reads))
