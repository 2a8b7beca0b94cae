"""CPU per case-view read, in process, before and after (not a test): the network service's slice read as the
old reads compose it (`decide_for` + `read_case` + `read_safety_network` + `member_access_out`, validated and
serialised as the route's response model did) against the one-statement read (`sop_network.access.view`); and
the plans service's case view as the old reads composed it (`reference_view` in
tests/plans/test_case_view_reads.py, "before"), with the expiry sweep and the practice rules' alerts as their own
statements ahead of the view ("separate": how the read was until they joined its statement; their statements
followed by today's read), and `read_case_view` ("after"), serialised as the route does now. Each on the same
populated fictional case, the same database, the same process, interleaved.

    uv run python tests/perf/view_reads.py                 # 300 reads per path and audience
    uv run python tests/perf/view_reads.py --reads 50     # quicker
    uv run python tests/perf/view_reads.py --only plans   # one service's read

PostgreSQL: $SOP_BENCH_POSTGRES_URL or $SOP_TEST_POSTGRES_URL (a server DSN), else a throwaway pgserver. A
fresh database is made and dropped afterwards. CPU is `time.process_time()` of this process (the service's
Python work and the driver; PostgreSQL's own CPU is not in it); statements are counted per read."""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import json
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:  # a script importing this may have put its own folders first
    sys.path.insert(0, str(TESTS_DIR))

import httpx  # noqa: E402
import real_services  # noqa: E402
from fastapi.encoders import jsonable_encoder  # noqa: E402
from pydantic_core import to_json  # noqa: E402
from sqlalchemy import event  # noqa: E402

from sop_network.access.api import member_access_out  # noqa: E402
from sop_network.access.service import decide_for  # noqa: E402
from sop_network.access.view import decide_on_rows, read_case_rows, slice_dict  # noqa: E402
from sop_network.cases.service import read_case  # noqa: E402
from sop_network.component import component  # noqa: E402
from sop_network.safety_network.service import read_safety_network  # noqa: E402
from sop_network.schemas import CaseViewSlice  # noqa: E402
from sop_shared.auth import Principal  # noqa: E402
from sop_shared.clock import FixedClock  # noqa: E402
from sop_shared.migrations import upgrade  # noqa: E402
from sop_shared.policy import ActorType  # noqa: E402
from sop_shared.service import running  # noqa: E402
from sop_shared.testing import InternalTokens, RunningService, run_component  # noqa: E402


@asynccontextmanager
async def served_on_a_fresh_database(
    served: Any, server: str, prefix: str
) -> AsyncIterator[tuple[RunningService, InternalTokens]]:
    """A component (`component` of its package) serving in process, production-like but with its outbox relay off, on
    a fresh PostgreSQL database made on `server` (dropped afterwards), and the internal tokens it accepts: what
    the case-view benchmarks that call a service's routes share (tests/perf/assessment_case_view.py,
    tests/perf/case_view_levers.py)."""
    db = await real_services.create_test_database(server, prefix=prefix)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tokens = InternalTokens(Path(tmp) / "keys")
            async with run_component(
                served,
                database_url=db.url,
                tokens=tokens,
                data_dir=Path(tmp),
                relay_enabled=False,
                log_level="WARNING",
            ) as svc:
                yield svc, tokens
    finally:
        await real_services.drop_database(server, db.name)


CASE = {
    "case_type": "in_home",
    "status": "open",
    "county": "Pulaski",
    "opened_on": "2026-10-02",
    "members": [
        {
            "role": "caregiver",
            "relationship_to_children": "mother",
            "person": {
                "external_id": "P-1001",
                "first_name": "Maria",
                "last_name": "Lopez",
                "preferred_language": "es",
                "contact_methods": [
                    {"kind": "phone", "value": "501-555-0142"},
                    {"kind": "address", "value": "12 Elm St", "dv_confidential": True},
                ],
            },
        },
        *(
            {
                "role": "child",
                "relationship_to_children": "self",
                "person": {"external_id": f"P-10{n}", "first_name": name, "last_name": "Lopez"},
            }
            for n, name in ((2, "Sofia"), (3, "Mateo"))
        ),
    ],
    "assignments": [{"staff_subject": "fsw.rivera", "role": "worker"}],
}


async def populate(client: httpx.AsyncClient, tokens: InternalTokens) -> tuple[uuid.UUID, dict[str, Principal]]:
    """The Lopez case with a network of three, a meeting and commitments; the readers: staff, a partner."""
    sacwis = tokens.headers(
        "network", subject="sacwis.sync", actor_type=ActorType.integration, roles=(), scopes=("cases:sync",)
    )
    made = await client.put("/v1/cases/by-external/CHRIS/C-2026-0900", json=CASE, headers=sacwis)
    assert made.status_code == 201, made.text
    case_id = uuid.UUID(made.json()["id"])
    worker = tokens.headers("network", case_id=case_id)
    members = []
    for first in ("Rosa", "James", "Pastor"):
        added = await client.post(
            f"/v1/cases/{case_id}/network/members",
            json={"person": {"first_name": first, "last_name": "Delgado"}, "circle": "inner", "roles": ["nights"]},
            headers=worker,
        )
        assert added.status_code == 201, added.text
        members.append(added.json()["id"])
        for text in ("Picks Sofia and Mateo up from school", "Calls Maria every evening"):
            recorded = await client.post(
                f"/v1/cases/{case_id}/network/members/{added.json()['id']}/commitments",
                json={"text": text, "share_reason": "The member said it in these words."},
                headers=worker,
            )
            assert recorded.status_code == 201, recorded.text
    meeting = {"held_on": "2026-10-20", "attendee_member_ids": members, "decisions": ["Rosa covers Tuesdays"]}
    assert (await client.post(f"/v1/cases/{case_id}/network/meetings", json=meeting, headers=worker)).is_success
    grant = {
        "agency": "HOPE-COUNSELING",
        "scopes": ["case:read"],
        "audience": "partner",
        "purpose": "family counseling referral",
        "expires_at": "2030-01-01T00:00:00Z",
    }
    assert (await client.post(f"/v1/cases/{case_id}/grants", json=grant, headers=worker)).is_success
    partner = tokens.principal(
        "counselor.ames", actor_type=ActorType.partner, roles=(), scopes=("case:read",), agency="HOPE-COUNSELING"
    )
    return case_id, {"staff": tokens.principal(case_id=case_id), "partner": partner}


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tests/perf/view_reads.py", description=__doc__)
    parser.add_argument("--reads", type=int, default=300, help="reads per path and audience")
    parser.add_argument("--profile", action="store_true", help="and cProfile's top functions of each path")
    parser.add_argument("--only", choices=("network", "plans"), help="measure one service's read")
    args = parser.parse_args(argv)
    import os

    server = os.environ.get("SOP_BENCH_POSTGRES_URL") or os.environ.get("SOP_TEST_POSTGRES_URL")
    started = server is None
    server = server or real_services.postgres_admin_url()
    db = await real_services.create_test_database(server, prefix="bench_views")
    try:
        await upgrade(component.package, db.url)
        with tempfile.TemporaryDirectory() as tmp:
            tokens = InternalTokens(Path(tmp) / "keys")
            settings = component.settings_class(
                database_url=db.url,
                data_dir=Path(tmp),
                environment="test",
                events_url="memory://",
                internal_jwks_file=tokens.jwks_file,
                relay_enabled=False,
                log_json=False,
                log_level="WARNING",
            )
            app = component.create_app(settings)
            async with (
                running(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://network") as client,
            ):
                if args.only != "plans":
                    case_id, readers = await populate(client, tokens)
                    await measure(app, case_id, readers, args.reads, profile=args.profile)
            if args.only != "network":
                plans_db = await real_services.create_test_database(server, prefix="bench_views_plans")
                try:
                    await measure_plans(plans_db.url, tokens, Path(tmp), args.reads)
                finally:
                    await real_services.drop_database(server, plans_db.name)
    finally:
        await real_services.drop_database(server, db.name)
        if started:
            real_services.stop_postgres()


async def measure(
    app: Any, case_id: uuid.UUID, readers: dict[str, Principal], reads: int, *, profile: bool = False
) -> None:
    database, now = app.state.database, app.state.clock.now()

    async def before(principal: Principal) -> bytes:
        async with database.session() as session:
            decision = await decide_for(session, principal, case_id, now)
            case = await read_case(session, case_id, decision.audiences) if decision.allowed else None
            network = (
                await read_safety_network(session, case_id, decision.audiences, decision.person_id) if case else None
            )
            access = await member_access_out(session, case_id, principal, decision)
            view = CaseViewSlice(access=access, case=case, safety_network=network)
            # what FastAPI did with the returned model: validate it as the response model, then encode
            return to_json(jsonable_encoder(CaseViewSlice.model_validate(view.model_dump())))

    async def after(principal: Principal) -> bytes:
        async with database.session() as session:
            rows = (await read_case_rows(session, [case_id]))[case_id]
            return to_json(slice_dict(principal, case_id, rows, decide_on_rows(principal, case_id, rows, now)))

    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    engine = database.engine.sync_engine
    print(f"network case-view slice, {reads} reads per path and audience, in process on PostgreSQL")
    print(f"  {'audience':10s} {'path':7s} {'CPU ms/read':>12s} {'statements':>11s}")
    for audience, principal in readers.items():
        assert json.loads(await before(principal)) == json.loads(await after(principal)), audience  # same answer
        figures: dict[str, tuple[float, float]] = {}
        for name, read in (("before", before), ("after", after), ("before", before), ("after", after)):
            await read(principal)  # warm
            event.listen(engine, "before_cursor_execute", count)
            statements[0] = 0
            spent = await cpu_of(read, principal, reads)
            event.remove(engine, "before_cursor_execute", count)
            cpu, _ = figures.get(name, (0.0, 0.0))
            figures[name] = (cpu + spent / 2, statements[0] / reads)
        for name, (cpu, per_read) in figures.items():
            print(f"  {audience:10s} {name:7s} {cpu:12.2f} {per_read:11.1f}")
        print(f"  {audience:10s} ratio   {figures['before'][0] / figures['after'][0]:11.1f}x less CPU per read")
    if profile:
        for name, read in (("before", before), ("after", after)):
            profiler = cProfile.Profile()
            profiler.enable()
            await cpu_of(read, readers["staff"], reads)
            profiler.disable()
            print(f"\nstaff, {name}: the top functions by cumulative time")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


async def cpu_of(read: Callable[[Principal], Awaitable[bytes]], principal: Principal, reads: int) -> float:
    start = time.process_time()
    for _ in range(reads):
        await read(principal)
    return (time.process_time() - start) * 1000 / reads


async def measure_plans(database_url: str, tokens: InternalTokens, data_dir: Path, reads: int) -> None:
    sys.path.insert(0, str(TESTS_DIR / "plans"))
    import conftest as plans_fixtures  # tests/plans/conftest.py: the Lopez plan and the steps of its life
    import test_case_view_reads as plans_reads

    from sop_plans.case_view.api import view_for
    from sop_plans.case_view.service import read_case_view
    from sop_plans.component import component as plans_component
    from sop_plans.practice.rules import AlertsOf
    from sop_plans.practice.service import practice_alerts
    from sop_plans.safety_plans.service import bring_plans_to_now

    async with run_component(
        plans_component, database_url=database_url, tokens=tokens, data_dir=data_dir, expiry_sweep_seconds=0
    ) as plans:
        plans.app.state.clock = FixedClock(plans_fixtures.THE_MORNING_AFTER)
        case_id = plans_fixtures.LOPEZ_CASE_ID
        await plans_fixtures.announce_lopez_records(plans, case_id)
        worker = tokens.headers("plans", case_id=case_id)
        supervisor = tokens.headers("plans", subject="sup.okafor", roles=("supervisor",), case_id=case_id)
        flow = plans_fixtures.PlanFlow(plans, case_id, worker, supervisor)
        populated = await plans_reads.populate(flow, tokens, copy.deepcopy(plans_fixtures.LOPEZ_ONGOING_PLAN))
        database, verifier = plans.app.state.database, plans.app.state.token_verifier
        clock, policy = plans.app.state.clock, plans.app.state.plan_policy
        engine = database.engine.sync_engine
        print(f"\nplans case view, {reads} reads per path and audience, in process on PostgreSQL")
        print(f"  {'audience':10s} {'path':8s} {'CPU ms/read':>11s} {'statements':>11s}")
        # verified before the reads: a run under load outlasts the internal tokens' lifetime
        principals = {
            name: verifier.verify(populated[name][0]["Authorization"].removeprefix("Bearer "))
            for name in ("staff", "family")
        }
        for name, principal in principals.items():
            audience = populated[name][1]

            async def before(principal: Principal = principal, audience: Any = audience) -> bytes:
                return to_json(await plans_reads.reference_view(plans, principal, audience))

            async def after(
                principal: Principal = principal, audience: Any = audience, separate: bool = False
            ) -> bytes:
                async with database.session() as session:
                    assert principal.case_id is not None
                    if separate:  # the sweep's and the alerts' statements, as the read made them before the view
                        await bring_plans_to_now(session, now=clock.now(), policy=policy, case_id=principal.case_id)
                        await practice_alerts(session, clock.now(), policy, AlertsOf(principal.case_id))
                        await session.flush()
                    parts = await read_case_view(
                        session, case_id=principal.case_id, now=clock.now(), policy=policy, audience=audience
                    )
                    return (
                        view_for(principal.case_id, audience, principal, parts).model_dump_json(by_alias=True).encode()
                    )

            async def separate(principal: Principal = principal, audience: Any = audience) -> bytes:
                return await after(principal, audience, separate=True)

            assert json.loads(await before()) == json.loads(await after()) == json.loads(await separate()), name
            await compare(name, {"before": before, "separate": separate, "after": after}, engine, reads)


async def compare(name: str, paths: dict[str, Callable[[], Awaitable[bytes]]], engine: Any, reads: int) -> None:
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    figures: dict[str, tuple[float, float]] = {}
    for path in (*paths, *paths):
        await paths[path]()
        event.listen(engine, "before_cursor_execute", count)
        statements[0] = 0
        start = time.process_time()
        for _ in range(reads):
            await paths[path]()
        spent = (time.process_time() - start) * 1000 / reads
        event.remove(engine, "before_cursor_execute", count)
        figures[path] = (figures.get(path, (0.0, 0.0))[0] + spent / 2, statements[0] / reads)
    for path, (cpu, per_read) in figures.items():
        print(f"  {name:10s} {path:8s} {cpu:11.2f} {per_read:11.1f}")
    for path in paths:
        if path != "after":
            ratio = figures[path][0] / figures["after"][0]
            print(f"  {name:10s} {path:8s} / after {ratio:5.2f}x the CPU per read")


if __name__ == "__main__":
    asyncio.run(main())
