"""Operational endpoints and the OpenAPI document."""

import pytest

from sop_shared.testing import RunningService

# Runs on SQLite too by default: readiness on a missing SQLite file; migrations on SQLite match the models.
pytestmark = pytest.mark.sqlite_smoke


async def test_health_readiness_metrics_and_openapi(network: RunningService) -> None:
    assert (await network.client.get("/healthz")).json() == {"status": "ok", "checks": {"bus": "ok"}}
    ready = await network.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
    assert "sop_http_requests_total" in (await network.client.get("/metrics")).text
    paths = (await network.client.get("/openapi.json")).json()["paths"]
    assert {"/v1/cases/by-external/{system}/{external_id}", "/v1/cases/{case_id}", "/v1/cases/{case_id}/access"} <= set(
        paths
    )


async def test_every_answer_keeps_case_data_out_of_caches(network: RunningService) -> None:
    """build_service_app installs the response headers on every service (sop_shared.response_headers)."""
    for path in ("/healthz", "/v1/cases/by-external/CHRIS/C-0000"):  # an answer and an error (401)
        answer = await network.client.get(path)
        assert answer.headers["cache-control"] == "no-store", (path, answer.headers)
        assert answer.headers["x-content-type-options"] == "nosniff"


async def test_readiness_fails_when_the_database_is_gone(network: RunningService) -> None:
    await network.app.state.database.engine.dispose()
    network.app.state.database.engine.url = network.app.state.database.engine.url.set(
        database="/nonexistent/dir/x.db" if network.app.state.database.dialect == "sqlite" else "no_such_database"
    )
    # a fresh engine pointing nowhere
    from sqlalchemy.ext.asyncio import create_async_engine

    network.app.state.database.engine = create_async_engine(network.app.state.database.engine.url)
    response = await network.client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["database"].startswith("unavailable")


async def test_the_migrations_match_the_models(database_url: str) -> None:
    """A model change without a new migration fails here, not in production."""
    from sop_network.component import component
    from sop_shared.testing import migration_differences

    assert await migration_differences(component, database_url) == []
