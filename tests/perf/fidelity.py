"""The fidelity read model's benchmark (issue 15; not a test): rebuild the model from generated events for
100,000 cases and time a county's dashboard.

    make bench-fidelity                                   # 100,000 cases, on $SOP_TEST_POSTGRES_URL (else SQLite)
    make bench-fidelity BENCH_ARGS="--cases 20000 --nats" # the events published to NATS JetStream first, then
                                                          # replayed from the stream as `sop practice
                                                          # rebuild-fidelity` does

The events are the other services' events as they publish them (tests/fidelity_events.py: a case opened in
SACWIS, its map, danger statements, goal, safety-scale ratings, network, child voice, plan and signature, SDM
assessment, shared texts, translations; and for the outcome measures the case's reporting facts, with its reports,
removals and children, and half the time a safety plan's activation and end), about 12.5 per case, over 8
counties, 48 units and 384 workers, opened over 330 days. Without `--nats` they are generated as the rebuild reads
them (the generator stands in for the stream; nothing is held in memory but the model). The rebuild is the
service's own (`fidelity.service.rebuild`):
the fold in memory, then the model written to a fresh database in one transaction, then the catch-up.

Printed: events per second of the whole rebuild (reading, folding and writing) and of the fold alone, the time
to answer a county's dashboard (one aggregate query: the cases of one county opened in a quarter) cold and as a
median of warm answers, and a unit's; and the time to answer `GET /v1/outcomes` for a county and a year (every
case of the county read with its history, a chunk at a time, and counted). The last line is machine-readable:

    bench-fidelity: cases=<n> events=<n> events_per_s=<rebuild> fold_events_per_s=<n> write_s=<s>
      county_dashboard_ms=<median warm> county_dashboard_cold_ms=<first> unit_dashboard_ms=<median warm>
      county_outcomes_ms=<median warm> county_outcomes_cold_ms=<first>
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import real_services
from fidelity_events import caseload

from sop_practice.fidelity import rules
from sop_practice.fidelity.service import Scope, rebuild, totals
from sop_practice.outcomes import rules as outcome_rules
from sop_practice.outcomes.service import OutcomeScope, outcome_tally
from sop_shared.db import Database
from sop_shared.events import Event, NatsJetStreamBus, Progress, ReplayHandler, subject_filter
from sop_shared.migrations import upgrade
from sop_shared.progress import ProgressBar

PERIOD = "2026-Q3"
OUTCOMES_PERIOD = "2026"


class GeneratedStream:
    """The events of `cases` cases, generated in stream order as a replay reads them (a bus with `replay` only)."""

    def __init__(self, cases: int, per_case: float = 12.5) -> None:
        self.cases, self.estimate = cases, int(cases * per_case)
        self.read = 0

    def events(self) -> Iterator[Event]:
        return caseload(self.cases, reporting=True)

    async def replay(
        self, subjects: Sequence[str], handler: ReplayHandler, *, after: int = 0, progress: Progress | None = None
    ) -> int:
        if self.read and after >= self.read:
            return after  # the catch-up: a generated stream gains nothing while it is read
        position, wanted = 0, subject_filter(subjects)
        for position, event in enumerate(self.events(), start=1):
            if position <= after:
                continue
            if wanted(event.subject):
                await handler(event, position)
            if progress is not None and position % 5000 == 0:
                progress(position, max(self.estimate, position))
        if progress is not None:
            progress(position, position)
        self.read = max(self.read, position)
        return max(position, after)


async def _database(args: argparse.Namespace) -> tuple[str, str | None]:
    admin = os.environ.get("SOP_TEST_POSTGRES_URL")
    if admin and not args.sqlite:
        made = await real_services.create_test_database(admin, prefix="bench_fidelity")
        return made.url, made.name
    directory = tempfile.mkdtemp(prefix="bench-fidelity-")
    return f"sqlite+aiosqlite:///{directory}/practice.db", None


async def _timed_dashboard(database: Database, scope: Scope, repeats: int) -> tuple[float, float, rules.Totals]:
    timings = []
    found = rules.Totals()
    for _ in range(repeats):
        started = time.perf_counter()
        async with database.session() as session:
            found = await totals(session, scope, rules.DEFAULT_DANGER_WITHIN_DAYS)
            rules.measures(found, rules.DEFAULT_DANGER_WITHIN_DAYS)
        timings.append((time.perf_counter() - started) * 1000)
    return timings[0], statistics.median(timings[1:] or timings), found


async def _timed_outcomes(database: Database, scope: OutcomeScope, repeats: int) -> tuple[float, float, int]:
    """`GET /v1/outcomes` for the scope as the route answers it (every case's history read a chunk at a time,
    counted, the measures with the small-cell rule), cold then warm."""
    span = rules.period_range(OUTCOMES_PERIOD)
    assert span is not None
    timings, cases = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        async with database.session() as session:
            tally = await outcome_tally(session, scope, span, span[1], outcome_rules.DEFAULT_AFTER_PLAN_DAYS)
            outcome_rules.measures(tally, outcome_rules.DEFAULT_AFTER_PLAN_DAYS)
            outcome_rules.reunification(tally)
        timings.append((time.perf_counter() - started) * 1000)
        cases = tally.cases
    return timings[0], statistics.median(timings[1:] or timings), cases


async def main(args: argparse.Namespace) -> None:
    url, name = await _database(args)
    print(f"database: {url.split('@')[-1]}", file=sys.stderr)
    await upgrade("sop_practice", url)
    database = Database(url)
    stream = GeneratedStream(args.cases)
    bus: object = stream
    nats: NatsJetStreamBus | None = None
    try:
        # The fold alone (in memory, no database): what the rebuild's first step costs per event.
        started = time.perf_counter()
        state: dict[object, dict[str, object]] = {}
        folded = 0
        for event in stream.events():
            case_id = rules.case_of(event.subject, event.data, event.case_id)
            if case_id is not None:
                state[case_id] = rules.apply(state.get(case_id, {}), event.subject, event.data, event.occurred_at)
                folded += 1
        fold_seconds = time.perf_counter() - started
        del state
        print(f"fold alone: {folded:,} events in {fold_seconds:.1f} s", file=sys.stderr)
        if args.nats:
            nats_url = os.environ.get("SOP_TEST_NATS_URL", "nats://127.0.0.1:4222")
            nats = await NatsJetStreamBus(
                nats_url,
                stream=real_services.unique_name("BENCHFID").upper(),
                namespace=real_services.unique_name("benchfid"),
            ).connect()
            bar = ProgressBar("publishing to NATS")
            published_at = time.perf_counter()
            for n, event in enumerate(stream.events(), start=1):
                await nats.publish(event)
                if n % 1000 == 0:
                    bar(n, stream.estimate)
            bar.close()
            print(f"published in {time.perf_counter() - published_at:.1f} s (not counted)", file=sys.stderr)
            bus = nats
        bar = ProgressBar("rebuild: events read")
        started = time.perf_counter()
        result = await rebuild(database, bus, progress=bar)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        bar.close()
        # what the rebuild spent beyond the fold: writing the model (and, on NATS, reading the stream)
        write_seconds = seconds - fold_seconds
        county = Scope(county="Pulaski", period=rules.period_range(PERIOD))
        cold, warm, found = await _timed_dashboard(database, county, args.repeats)
        unit = Scope(unit="Pulaski-3", period=rules.period_range(PERIOD))
        _, unit_warm, unit_found = await _timed_dashboard(database, unit, args.repeats)
        outcomes_cold, outcomes_warm, outcome_cases = await _timed_outcomes(
            database, OutcomeScope(county="Pulaski"), max(3, args.repeats // 4)
        )
    finally:
        if nats is not None:
            await nats._js.delete_stream(nats.stream)  # the bench's own stream: leave the server as it was
            await nats.close()
        await database.dispose()
        if name is not None:
            await real_services.drop_database(os.environ["SOP_TEST_POSTGRES_URL"], name)
    rate = result.read / seconds
    print(
        f"rebuilt {result.cases:,} cases from {result.read:,} events ({result.events:,} counted) in {seconds:.1f} s: "
        f"{rate:,.0f} events/s (fold alone {folded / fold_seconds:,.0f}/s)"
    )
    print(
        f"county dashboard (Pulaski, {PERIOD}, {found.cases:,} cases): {warm:.1f} ms (median of {args.repeats - 1}), "
        f"first {cold:.1f} ms; unit Pulaski-3: {unit_warm:.1f} ms ({unit_found.cases:,} cases)"
    )
    print(
        f"county outcomes (GET /v1/outcomes, Pulaski, {OUTCOMES_PERIOD}, {outcome_cases:,} cases): "
        f"{outcomes_warm:.1f} ms (median of {max(3, args.repeats // 4) - 1}), first {outcomes_cold:.1f} ms"
    )
    print(
        f"bench-fidelity: cases={result.cases} events={result.read} events_per_s={rate:.0f} "
        f"fold_events_per_s={folded / fold_seconds:.0f} write_s={write_seconds:.1f} county_dashboard_ms={warm:.1f} "
        f"county_dashboard_cold_ms={cold:.1f} unit_dashboard_ms={unit_warm:.1f} "
        f"county_outcomes_ms={outcomes_warm:.1f} county_outcomes_cold_ms={outcomes_cold:.1f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--nats", action="store_true", help="publish to NATS JetStream, then replay from the stream")
    parser.add_argument("--sqlite", action="store_true", help="SQLite even when $SOP_TEST_POSTGRES_URL is set")
    parser.add_argument("--repeats", type=int, default=21, help="dashboard answers to time (the first is cold)")
    asyncio.run(main(parser.parse_args()))
