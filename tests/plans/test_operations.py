"""Operational endpoints, the OpenAPI document, and migrations that match the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from sop_plans.component import component
from sop_plans.models import metadata
from sop_shared.migrations import upgrade
from sop_shared.testing import RunningService

# Runs on SQLite too by default: readiness and migrations on SQLite.
pytestmark = pytest.mark.sqlite_smoke


async def test_health_readiness_metrics_and_openapi(plans: RunningService) -> None:
    assert (await plans.client.get("/healthz")).json() == {"status": "ok", "checks": {"bus": "ok"}}
    ready = await plans.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
    assert "sop_http_requests_total" in (await plans.client.get("/metrics")).text
    document = (await plans.client.get("/openapi.json")).json()
    assert {
        "/v1/cases/{case_id}/safety-plans",
        "/v1/safety-plans/{plan_id}",
        "/v1/safety-plans/{plan_id}/versions",
        "/v1/safety-plans/{plan_id}/versions/{n}",
    } <= set(document["paths"])
    assert set(document["paths"]["/v1/cases/{case_id}/safety-plans"]) == {"get", "post"}
    assert (await plans.client.get("/docs")).status_code == 200


def test_the_plans_service_registers_as_a_component() -> None:
    assert (component.name, component.kind, component.default_port, component.package) == (
        "plans",
        "service",
        8003,
        "sop_plans",
    )


async def test_the_migrations_match_the_models(database_url: str, tmp_path: Path) -> None:
    """A model change without a regenerated migration fails here, not in production."""
    await upgrade(component.package, database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(context, metadata)

            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
