"""Fixtures for the practice service: the running service on SQLite and PostgreSQL, and the people who call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from real_services import MigratedTemplates

from sop_practice.component import component
from sop_shared.testing import InternalTokens, RunningService, run_component

# These fixtures start the service on the test's database: it is made a copy of the migrated schema.
MigratedTemplates.COMPONENT_FIXTURES.update(practice=component.package)


@pytest.fixture
async def practice(
    database_url: str, tokens: InternalTokens, tmp_path: Path, database_templates: MigratedTemplates
) -> AsyncIterator[RunningService]:
    async with run_component(
        component, database_url=database_url, tokens=tokens, data_dir=tmp_path, migrate=database_templates.migrate
    ) as svc:
        yield svc
