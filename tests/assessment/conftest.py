"""Fixtures for the assessment service: the running service on SQLite and PostgreSQL, the fictional
Lopez family's case, and the statements their worker writes with them."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from real_services import MigratedTemplates
from sqlalchemy import func, select

from sop_assessment.component import component
from sop_assessment.models import Statement, platform
from sop_shared.db import Database
from sop_shared.ids import new_id
from sop_shared.testing import InternalTokens, RunningService, run_component
from sop_shared.threat_codes import INSTRUMENTS_PUBLISHED

# These fixtures start the service on the test's database: it is made a copy of the migrated schema.
MigratedTemplates.COMPONENT_FIXTURES.update(assessment=component.package)


@pytest.fixture
async def assessment(
    database_url: str, tokens: InternalTokens, tmp_path: Path, database_templates: MigratedTemplates
) -> AsyncIterator[RunningService]:
    async with run_component(
        component, database_url=database_url, tokens=tokens, data_dir=tmp_path, migrate=database_templates.migrate
    ) as svc:
        yield svc


@pytest.fixture
def lopez_case() -> uuid.UUID:
    """The Lopez family's case id (the case itself lives in the network service)."""
    return new_id()


@pytest.fixture
def rivera(tokens: InternalTokens, lopez_case: uuid.UUID) -> dict[str, str]:
    """Headers of Ms. Rivera, the family's worker, as the gateway would send them for the Lopez case."""
    return tokens.headers("assessment", case_id=lopez_case)


@pytest.fixture
def okafor(tokens: InternalTokens, lopez_case: uuid.UUID) -> dict[str, str]:
    """Ms. Okafor, Ms. Rivera's supervisor (she reads Spanish: she verifies what others translate)."""
    return tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",), case_id=lopez_case)


MARIA_DANGER_STATEMENT: dict[str, Any] = {
    "kind": "danger",
    "language": "en",
    "who_is_worried": "Grandma Rosa and the agency",
    "caregiver_behaviour": "Maria drinks until she falls asleep",
    "context_trigger": "when she is alone with the children at night",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "feared_impact_on_child": "could be hurt with no adult awake to help them",
    "threat_codes": ["T4", "T7"],
    "agrees": ["Grandma Rosa"],
    "disputes": ["Maria Lopez"],
}

MARIA_HARM_STATEMENT: dict[str, Any] = {
    "kind": "harm",
    "language": "en",
    "who_reported": "Sofia's teacher",
    "caregivers": [{"name": "Maria"}],
    "action_or_inaction": "left Sofia and Mateo alone at home overnight",
    "when_or_how_often": "on 2 October 2026",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "impact_on_child": "were scared and went to bed without dinner",
}


@pytest.fixture
def maria_danger_statement() -> dict[str, Any]:
    return copy.deepcopy(MARIA_DANGER_STATEMENT)


@pytest.fixture
def maria_harm_statement() -> dict[str, Any]:
    return copy.deepcopy(MARIA_HARM_STATEMENT)


@pytest.fixture
def stored(assessment: RunningService) -> Callable[[], Awaitable[dict[str, int]]]:
    """Counts what the service has stored so far, read straight from its database."""

    async def counts() -> dict[str, int]:
        db = Database(assessment.database_url)
        try:
            async with db.session() as s:
                return {
                    "statements": (await s.execute(select(func.count()).select_from(Statement))).scalar_one(),
                    # the events of writes (not the start-up announcement of the loaded SDM instruments)
                    "events": (
                        await s.execute(
                            select(func.count())
                            .select_from(platform.outbox)
                            .where(platform.outbox.c.subject != INSTRUMENTS_PUBLISHED)
                        )
                    ).scalar_one(),
                }
        finally:
            await db.dispose()

    return counts
