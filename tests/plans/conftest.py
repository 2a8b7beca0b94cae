"""Fixtures for the plans service: the running service on SQLite and PostgreSQL, the fictional Lopez case
as the gateway scopes tokens to it, and the ongoing safety plan Maria and her network agreed on."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sop_plans.component import component
from sop_shared.testing import InternalTokens, RunningService, run_component

# The Lopez case and the people in it, as the network and assessment services know them (all fictional).
LOPEZ_CASE_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000c001")
MARIA_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a001")
ROSA_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a004")  # Maria's mother, in the safety network
PASTOR_GREENE_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a005")
DANGER_DRINKING_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000d001")

LOPEZ_ONGOING_PLAN: dict[str, Any] = {
    "plan_type": "ongoing",
    "title": "Keeping Sofía and Mateo safe at home",
    "effective_from": "2026-11-02T15:00:00Z",
    "expires_at": "2026-12-02T15:00:00Z",
    "danger_statement_ids": [str(DANGER_DRINKING_ID)],
    "threat_codes": ["T4"],
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
            "monitors": [{"name": "Rosa Delgado", "person_id": str(ROSA_ID)},
                         {"name": "Pastor Greene", "person_id": str(PASTOR_GREENE_ID)}],
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


@pytest.fixture
async def plans(database_url: str, tokens: InternalTokens, tmp_path: Path) -> AsyncIterator[RunningService]:
    async with run_component(component, database_url=database_url, tokens=tokens, data_dir=tmp_path) as svc:
        yield svc


@pytest.fixture
def case_id() -> uuid.UUID:
    return LOPEZ_CASE_ID


@pytest.fixture
def worker(tokens: InternalTokens, case_id: uuid.UUID) -> dict[str, str]:
    """Headers of Ms. Rivera, the family's assigned worker, as the gateway mints them for the Lopez case."""
    return tokens.headers("plans", case_id=case_id)


@pytest.fixture
def lopez_ongoing_plan() -> dict[str, Any]:
    return copy.deepcopy(LOPEZ_ONGOING_PLAN)
