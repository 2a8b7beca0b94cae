"""The production gateway describes itself to no one: no /docs, /redoc or /openapi.json, and /metrics only
for a scraper presenting the configured token (without one, metrics are not served at all)."""

from __future__ import annotations

from typing import Any

import pytest

DESCRIPTIONS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


@pytest.mark.parametrize("path", DESCRIPTIONS)
async def test_the_production_gateway_serves_no_api_description(start_system: Any, path: str) -> None:
    async with start_system(production=True) as system:
        response = await system.client.get(path)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "paths" not in response.json() and "swagger" not in response.text.lower()
        assert "docs" not in (await system.client.get("/")).json()


async def test_production_metrics_need_the_configured_token(start_system: Any) -> None:
    async with start_system(production=True, metrics_token="scrape-7f3a9c") as system:
        assert (await system.graphql("{ me { subject } }")).status_code == 200
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "Bearer "},
            {"Authorization": "Basic c2NyYXBlLTdmM2E5Yw=="},
        ):
            refused = await system.client.get("/metrics", headers=headers)
            assert refused.status_code == 404 and "sop_http" not in refused.text
        scraped = await system.client.get("/metrics", headers={"Authorization": "Bearer scrape-7f3a9c"})
        assert scraped.status_code == 200 and "sop_http_requests_total" in scraped.text


@pytest.mark.parametrize("token", [None, ""])
async def test_production_metrics_without_a_token_are_not_served(start_system: Any, token: str | None) -> None:
    async with start_system(production=True, metrics_token=token) as system:
        for headers in ({}, {"Authorization": "Bearer "}):
            assert (await system.client.get("/metrics", headers=headers)).status_code == 404


async def test_in_development_the_description_and_metrics_stay_open(sqlite_system: Any) -> None:
    assert (await sqlite_system.client.get("/openapi.json")).status_code == 200
    assert (await sqlite_system.client.get("/docs")).status_code == 200
    assert "sop_http_requests_total" in (await sqlite_system.client.get("/metrics")).text
