"""Fixtures for the plans service: the running service on SQLite and PostgreSQL, the fictional Lopez case
as the gateway scopes tokens to it, and the ongoing safety plan Maria and her network agreed on."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from real_services import MigratedTemplates

from sop_plans.component import component
from sop_shared.clock import FixedClock
from sop_shared.db import utcnow
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.testing import InternalTokens, RunningService, run_component

# The Lopez case and the people in it, as the network and assessment services know them (all fictional).
LOPEZ_CASE_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000c001")
MARIA_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a001")
ROSA_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a004")  # Maria's mother, in the safety network
PASTOR_GREENE_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a005")
DANGER_DRINKING_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000d001")
GOAL_SOBER_ADULT_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000e001")
# The morning after the plan took effect: every test starts here unless it moves the clock.
THE_MORNING_AFTER = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)

LOPEZ_ONGOING_PLAN: dict[str, Any] = {
    "plan_type": "ongoing",
    "title": "Keeping Sofía and Mateo safe at home",
    "effective_from": "2026-11-02T15:00:00Z",
    "expires_at": "2026-12-02T15:00:00Z",
    "danger_statement_ids": [str(DANGER_DRINKING_ID)],
    "threat_codes": ["T4"],
    "participants": [
        {"name": "Maria Lopez", "person_id": str(MARIA_ID), "role": "caregiver"},
        {"name": "Rosa Delgado", "person_id": str(ROSA_ID), "role": "network"},
    ],
    "rules": [
        {
            "text": "When Maria has been drinking, Rosa takes Sofía and Mateo to her house for the night.",
            "threat_code": "T4",
            "responsible": [{"name": "Maria Lopez", "person_id": str(MARIA_ID)}],
            "monitors": [{"name": "Rosa Delgado", "person_id": str(ROSA_ID)}],
            "frequency": "Any evening Maria has had a drink",
            "how_verified": "Rosa texts Ms. Rivera the next morning; Sofía tells her teacher where she slept",
        },
        {
            "text": "Maria never drives the children after drinking; Rosa or Pastor Greene drives them instead.",
            "threat_code": "T4",
            "responsible": [{"name": "Maria Lopez", "person_id": str(MARIA_ID)}],
            "monitors": [
                {"name": "Rosa Delgado", "person_id": str(ROSA_ID)},
                {"name": "Pastor Greene", "person_id": str(PASTOR_GREENE_ID)},
            ],
            "frequency": "Every school day and every weekend trip",
            "how_verified": "Pastor Greene keeps the Sunday drive log",
        },
    ],
    "triggers": ["Maria does not answer Rosa's evening call", "Beer cans in the car"],
    "if_rule_broken": {
        "who_is_called": [{"name": "Rosa Delgado", "person_id": str(ROSA_ID)}, {"name": "Ms. Rivera (FSW)"}],
        "what_happens": "Rosa picks the children up within the hour and calls Ms. Rivera the same day.",
    },
    "backup_plan": "If Rosa cannot come, Pastor Greene picks the children up.",
    "worker_monitoring": {"contact_frequency": "weekly", "method": "home visit, one unannounced each month"},
}


async def announce_lopez_records(svc: RunningService, case_id: uuid.UUID) -> None:
    """What the network and assessment services announce for a family with the Lopez records: its people,
    its danger statement and safety goal. Plans learns other services' records only from their events, and
    refers only to records of the same case (see sop_shared.case_refs)."""
    for subject, data in (
        ("sop.network.case.updated", {"person_ids": [str(MARIA_ID), str(ROSA_ID), str(PASTOR_GREENE_ID)]}),
        ("sop.assessment.statement.created", {"statement_id": str(DANGER_DRINKING_ID), "kind": "danger"}),
        ("sop.assessment.safety_goal.created", {"safety_goal_id": str(GOAL_SOBER_ADULT_ID)}),
    ):
        await svc.bus.publish(
            Event(
                id=new_id(),
                subject=subject,
                occurred_at=utcnow(),
                case_id=case_id,
                data={"case_id": str(case_id), **data},
            )
        )


@pytest.fixture
def lopez_records_in(plans: RunningService) -> Callable[[uuid.UUID], Awaitable[None]]:
    """`await lopez_records_in(case_id)`: another case whose family has the Lopez records (tests that put
    the Lopez plan into a second case)."""
    return lambda case_id: announce_lopez_records(plans, case_id)


# These fixtures start the service on the test's database: it is made a copy of the migrated schema.
MigratedTemplates.COMPONENT_FIXTURES.update(plans=component.package)


@pytest.fixture
def clock() -> FixedClock:
    """The service's clock, standing still at THE_MORNING_AFTER until a test moves it."""
    return FixedClock(THE_MORNING_AFTER)


@pytest.fixture
async def plans(
    database_url: str, tokens: InternalTokens, tmp_path: Path, clock: FixedClock, database_templates: MigratedTemplates
) -> AsyncIterator[RunningService]:
    """The plans service on a fresh database, on the test's clock, without the background expiry sweep
    (tests call the sweep themselves; test_expiry runs the background one on purpose)."""
    async with run_component(
        component,
        database_url=database_url,
        tokens=tokens,
        data_dir=tmp_path,
        expiry_sweep_seconds=0,
        migrate=database_templates.migrate,
    ) as svc:
        svc.app.state.clock = clock
        await announce_lopez_records(svc, LOPEZ_CASE_ID)
        yield svc


@pytest.fixture
def case_id() -> uuid.UUID:
    return LOPEZ_CASE_ID


@pytest.fixture
def worker(tokens: InternalTokens, case_id: uuid.UUID) -> dict[str, str]:
    """Headers of Ms. Rivera, the family's assigned worker, as the gateway mints them for the Lopez case."""
    return tokens.headers("plans", case_id=case_id)


@pytest.fixture
def supervisor(tokens: InternalTokens, case_id: uuid.UUID) -> dict[str, str]:
    """Headers of Ms. Okafor, Ms. Rivera's supervisor (she holds approvals:decide)."""
    return tokens.headers("plans", subject="sup.okafor", roles=("supervisor",), case_id=case_id)


@pytest.fixture
def lopez_ongoing_plan() -> dict[str, Any]:
    return copy.deepcopy(LOPEZ_ONGOING_PLAN)


class PlanFlow:
    """The steps of a plan's life as the worker's tablet and the supervisor take them, each asserting the
    status it expects, so a test says only what it is about."""

    def __init__(
        self, plans: RunningService, case_id: uuid.UUID, worker: dict[str, str], supervisor: dict[str, str]
    ) -> None:
        self.plans, self.case_id, self.worker, self.supervisor = plans, case_id, worker, supervisor

    async def call(
        self, method: str, path: str, *, expect: int = 200, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        response = await self.plans.client.request(method, path, headers=headers or self.worker, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json()

    async def create(self, plan: dict[str, Any]) -> dict[str, Any]:
        await announce_lopez_records(self.plans, self.case_id)
        return await self.call("POST", f"/v1/cases/{self.case_id}/safety-plans", json=plan, expect=201)

    async def get(self, plan_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/v1/safety-plans/{plan_id}")

    async def sign(
        self, plan: dict[str, Any], participant_index: int = 0, *, expect: int = 201, **overrides: Any
    ) -> Any:
        participant = plan["participants"][participant_index]
        body = {
            "version_number": plan["current_version_number"],
            "content_hash": plan["content_hash"],
            "participant_id": participant["id"],
            "signer_name": participant["name"],
            "signer_person_id": participant["person_id"],
            "signer_role": participant["role"],
            "method": "typed_name",
            "typed_name": participant["name"],
            "affirmation": "I have read this plan with Ms. Rivera and I agree to it.",
            **overrides,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return await self.call("POST", f"/v1/safety-plans/{plan['id']}/signatures", json=body, expect=expect)

    async def submit(self, plan_id: str, **body: Any) -> dict[str, Any]:
        return await self.call("POST", f"/v1/safety-plans/{plan_id}/submit", json=body or None)

    async def decide(
        self,
        plan: dict[str, Any],
        decision: str = "approved",
        *,
        expect: int = 200,
        headers: dict[str, str] | None = None,
        comment: str | None = "Clear and specific.",
    ) -> Any:
        body = {
            "version_number": plan["current_version_number"],
            "content_hash": plan["content_hash"],
            "decision": decision,
            "comment": comment,
        }
        return await self.call(
            "POST",
            f"/v1/safety-plans/{plan['id']}/approve",
            json=body,
            expect=expect,
            headers=headers or self.supervisor,
        )

    async def activate(self, plan_id: str, *, expect: int = 200) -> Any:
        return await self.call("POST", f"/v1/safety-plans/{plan_id}/activate", expect=expect)

    async def active_plan(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Create, have Maria sign, submit, approve and activate: the plan in force."""
        created = await self.create(plan)
        await self.sign(created)
        await self.submit(created["id"])
        approved = await self.decide(await self.get(created["id"]))
        assert approved["status"] == "approved"
        active = await self.activate(created["id"])
        assert active["status"] == "active"
        return active


@pytest.fixture
def flow(plans: RunningService, case_id: uuid.UUID, worker: dict[str, str], supervisor: dict[str, str]) -> PlanFlow:
    return PlanFlow(plans, case_id, worker, supervisor)


@pytest.fixture
def plan_flow_class() -> type[PlanFlow]:
    """For a test that runs its own service (conftest modules are not importable by name)."""
    return PlanFlow
