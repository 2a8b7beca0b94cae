"""The practice service's skeleton: health, readiness, metrics, its OpenAPI document, and migrations that match
its models."""

import pytest

from sop_practice.component import component
from sop_shared.component import load_components
from sop_shared.testing import RunningService, migration_differences

pytestmark = pytest.mark.sqlite_smoke


async def test_health_readiness_metrics_and_no_case_data_in_caches(practice: RunningService) -> None:
    health, ready = await practice.client.get("/healthz"), await practice.client.get("/readyz")
    assert health.json()["checks"] == {"bus": "ok"}
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}
    assert "sop_http_requests_total" in (await practice.client.get("/metrics")).text
    document = (await practice.client.get("/openapi.json")).json()
    assert document["info"]["title"] == "SOP practice service"
    assert (await practice.client.get("/healthz")).headers["cache-control"] == "no-store"


async def test_registered_as_a_component_between_plans_and_the_gateway() -> None:
    components = load_components()
    assert list(components) == ["network", "assessment", "plans", "practice", "gateway"]
    assert components["practice"].default_port == 8004 and components["practice"].package == "sop_practice"


async def test_the_migrations_match_the_models(database_url: str) -> None:
    """A model change without a new migration fails here, not in production."""
    assert await migration_differences(component, database_url) == []
