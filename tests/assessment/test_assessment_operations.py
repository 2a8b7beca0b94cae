"""Operational endpoints and the OpenAPI document of the assessment service."""

import pytest

from sop_shared.testing import RunningService

# Runs on SQLite too by default: readiness on SQLite.
pytestmark = pytest.mark.sqlite_smoke


async def test_health_readiness_metrics_and_openapi(assessment: RunningService) -> None:
    assert (await assessment.client.get("/healthz")).json() == {"status": "ok", "checks": {"bus": "ok"}}
    ready = await assessment.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
    assert "sop_http_requests_total" in (await assessment.client.get("/metrics")).text
    paths = (await assessment.client.get("/openapi.json")).json()["paths"]
    assert {"/v1/cases/{case_id}/statements", "/v1/statements/{statement_id}"} <= set(paths)
    assert {"get", "post"} <= set(paths["/v1/cases/{case_id}/statements"])
