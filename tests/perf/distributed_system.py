"""What the benchmarks that run the platform as processes share (tests/perf/soak.py, tests/perf/case_views.py):
the end-to-end tests' distributed system (tests/e2e/conftest.py `running_system`: the three services and the
gateway as uvicorn processes on fresh PostgreSQL databases and NATS, production settings), the demo family
seeded through the gateway, fictional statements and cases to make it bigger, and percentiles."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import Any

import httpx

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))
import real_services  # noqa: E402,F401  (tests/ is put on the path first; re-exported for the scripts)
from sacwis_records import case_record  # noqa: E402

# The end-to-end tests' distributed system, started exactly as they start it.
if "e2e_conftest" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("e2e_conftest", TESTS_DIR / "e2e" / "conftest.py")
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["e2e_conftest"] = _module
    _spec.loader.exec_module(_module)
e2e_conftest = sys.modules["e2e_conftest"]
running_system = e2e_conftest.running_system
DistributedSystem = e2e_conftest.DistributedSystem

from sop_gateway.demo import STEPS  # noqa: E402
from sop_gateway.demo.members import seed_member_logins  # noqa: E402
from sop_gateway.demo.seeding import DemoSeed  # noqa: E402

WORKER = "fsw.rivera"


def danger_statement(mark: str) -> dict[str, Any]:
    """A fictional danger statement whose first part carries the mark it is counted by."""
    return {
        "kind": "danger",
        "who_is_worried": mark,
        "caregiver_behaviour": "Maria drinks until she falls asleep while Sofia and Mateo are awake",
        "context_trigger": "on evenings after a hard shift",
        "children": [{"name": "Sofia"}, {"name": "Mateo"}],
        "feared_impact_on_child": "could be left alone at night with no one to call",
        "threat_codes": ["T4"],
    }


def synthetic_case(n: int) -> dict[str, Any]:
    """A fictional case on fsw.rivera's caseload (a SACWIS batch record)."""
    return case_record(n, prefix="BENCH", digits=4)


async def seed_case(system: Any, preload: int) -> tuple[str, str, list[str]]:
    """The demo family (through the gateway, as `sop dev` seeds it) and `preload` more danger statements.
    Returns the case id, its plan in force and that plan's rule ids."""
    seed = DemoSeed(system.keys_dir)
    async with httpx.AsyncClient(base_url=system.gateway, timeout=60) as client:
        # Production settings trust no development member portal: the family's own logins are left out.
        for step in (step for step in STEPS if step is not seed_member_logins):
            await step(client, seed)
        auth = {"Authorization": f"Bearer {system.token(WORKER)}"}
        plans = (await client.get(f"/api/plans/v1/cases/{seed.case_id}/safety-plans", headers=auth)).json()
        plan = next(p for p in plans["items"] if p["status"] == "active")
        gate = asyncio.Semaphore(8)

        async def one(n: int) -> None:
            async with gate:
                response = await client.post(
                    f"/api/assessment/v1/cases/{seed.case_id}/statements",
                    json=danger_statement(f"preload-{n}"),
                    headers={**auth, "Idempotency-Key": f"preload-{n}"},
                )
                if response.status_code != 201:
                    raise RuntimeError(f"preloading statement {n}: {response.status_code} {response.text[:300]}")

        await asyncio.gather(*(one(n) for n in range(preload)))
    return seed.case_id, plan["id"], [r["id"] for r in plan["rules"]]


async def seed_caseload(system: Any, cases: int) -> list[str]:
    """`cases` fictional cases on fsw.rivera's caseload, by one SACWIS batch through the gateway."""
    async with httpx.AsyncClient(base_url=system.gateway, timeout=120) as client:
        response = await client.post(
            "/api/network/v1/sacwis/batch",
            headers={"Authorization": f"Bearer {system.token('sacwis.sync')}"},
            json={"system": "CHRIS", "records": [synthetic_case(n) for n in range(cases)]},
        )
        if response.status_code >= 400:
            raise RuntimeError(f"seeding the caseload: {response.status_code} {response.text[:300]}")
        return [r["id"] for r in response.json()["results"]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0
