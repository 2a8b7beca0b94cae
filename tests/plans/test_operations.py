"""Operational endpoints, the OpenAPI document, and migrations that match the models."""

from __future__ import annotations

import pytest

from sop_plans.component import component
from sop_shared.testing import RunningService, migration_differences

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


async def test_the_migrations_match_the_models(database_url: str) -> None:
    """A model change without a regenerated migration fails here, not in production."""
    assert await migration_differences(component, database_url) == []
