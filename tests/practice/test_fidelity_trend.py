"""The fidelity measures over time (issue 15 part 6, what the dashboards draw): a unit's quarters oldest first,
each beside the state's rate; the state's rates come without counts (so the state less one's own unit never
shows another unit's numbers), are suppressed as their counts would be, and only for who may read the unit."""

from __future__ import annotations

import random
import uuid
from datetime import date
from typing import Any

import pytest
from fidelity_events import case_events
from practice_steps import COORDINATOR, person, register, staff, team
from sqlalchemy import select

from sop_practice.fidelity import rules
from sop_practice.models import platform
from sop_shared.events import Event
from sop_shared.testing import InternalTokens, RunningService

SUPERVISOR = ("sup.okafor", "supervisor")


def cases(count: int, *, opened_on: date, unit: str, worker: str, full: bool, seed: int) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for _ in range(count):
        events += case_events(
            uuid.UUID(int=rng.getrandbits(128)),
            rng,
            county="Pulaski",
            unit=unit,
            worker=worker,
            opened_on=opened_on,
            full=full,
        )
    return events


def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["key"]: m for m in items}


def test_quarters_run_oldest_first_across_a_year() -> None:
    assert rules.quarters_until("2026-Q2", 4) == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert rules.quarters_until("2026-Q5", 4) is None
    assert rules.quarter_of(date(2026, 12, 6)) == "2026-Q4"


@pytest.mark.sqlite_smoke
async def test_a_units_quarters_beside_the_states_rates_without_the_states_counts(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    await register(practice, tokens, person("sup.benton", "supervisor", unit="Benton-1"))
    # Pulaski-3: six full cases in Q3, none in Q4; Benton-1: six cases in Q3 with nothing recorded yet (the state:
    # 6 of 12 with a map)
    bare = [
        e
        for e in cases(6, opened_on=date(2026, 8, 4), unit="Benton-1", worker="fsw.other", full=False, seed=2)
        if e.subject in rules.CASE_EVENTS
    ]
    for e in [*cases(6, opened_on=date(2026, 8, 3), unit="Pulaski-3", worker="fsw.rivera", full=True, seed=1), *bare]:
        await practice.bus.publish(e)
    supervisor = staff(tokens, *SUPERVISOR)
    answer = await practice.client.get(
        "/v1/fidelity/trend", params={"unit": "Pulaski-3", "quarters": "2", "until": "2026-Q4"}, headers=supervisor
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [p["period"] for p in body["periods"]] == ["2026-Q3", "2026-Q4"]
    q3, q4 = body["periods"]
    assert q3["cases"] == 6 and by_key(q3["measures"])["cases_with_map"]["rate"] == 1.0
    state = by_key(q3["state"])
    assert state["cases_with_map"] == {"key": "cases_with_map", "rate": 0.5, "suppressed": False}
    assert all(set(s) == {"key", "rate", "suppressed"} for s in q3["state"])  # rates only, never counts
    assert q4["cases"] is None and all(m["suppressed"] for m in q4["measures"])
    assert all(s["suppressed"] and s["rate"] is None for s in q4["state"])
    # another unit's supervisor may not read Pulaski-3 over time; a worker may not read the state at all
    other = await practice.client.get(
        "/v1/fidelity/trend", params={"unit": "Pulaski-3"}, headers=staff(tokens, "sup.benton", "supervisor")
    )
    assert other.status_code == 403
    # the state alone is still for `fidelity:read-all`: the trend names a unit or a worker
    unnamed = await practice.client.get("/v1/fidelity/trend", headers=supervisor)
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "unit"
    bad = await practice.client.get(
        "/v1/fidelity/trend", params={"unit": "Pulaski-3", "until": "2026-11"}, headers=supervisor
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "until"
    too_many = await practice.client.get(
        "/v1/fidelity/trend", params={"unit": "Pulaski-3", "quarters": "13"}, headers=supervisor
    )
    assert too_many.status_code == 422
    coordinator = await practice.client.get(
        "/v1/fidelity/trend",
        params={"unit": "Benton-1", "until": "2026-Q3", "quarters": "1"},
        headers=staff(tokens, *COORDINATOR),
    )
    assert by_key(coordinator.json()["periods"][0]["measures"])["cases_with_map"]["rate"] == 0.0
    async with practice.app.state.database.session() as session:
        audited = [(r.resource, r.action, r.fields) for r in await session.execute(select(platform.audit))]
    assert ("fidelity", "read", ["trend", "state_average"]) in [(a, b, list(c or [])) for a, b, c in audited]
