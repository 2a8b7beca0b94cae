"""Every response of the platform keeps case data out of caches and content sniffing, and the public edge adds
the browser protections (no framing, no Referer) — on GraphQL, the REST façade, errors and the family view
(which keeps its own Content-Security-Policy); on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
    from conftest import EmbeddedSystem


def protected(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store", response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_case_data_and_errors_are_never_cached_or_framed(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    worker = system.bearer("fsw.rivera")
    view = await system.client.post(
        "/graphql", json={"query": f'{{ caseView(caseId: "{demo_case}") {{ language }} }}'}, headers=worker
    )
    assert view.status_code == 200, view.text
    protected(view)
    rest = await system.client.get(f"/api/assessment/v1/cases/{demo_case}/statements", headers=worker)
    assert rest.status_code == 200, rest.text
    protected(rest)
    missing = await system.client.get(f"/api/assessment/v1/cases/{uuid.uuid4()}/statements", headers=worker)
    assert missing.status_code == 404
    protected(missing)
    unauthenticated = await system.client.get(f"/api/assessment/v1/cases/{demo_case}/statements")
    assert unauthenticated.status_code == 401
    protected(unauthenticated)


async def test_development_gateways_do_not_pin_https(system: EmbeddedSystem) -> None:
    answer = await system.client.get("/healthz")
    assert "strict-transport-security" not in answer.headers
    assert answer.headers["cache-control"] == "no-store"


async def test_head_is_served_wherever_get_is(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    worker = system.bearer("fsw.rivera")
    path = f"/api/assessment/v1/cases/{demo_case}/statements"
    head = await system.client.head(path, headers=worker)
    assert head.status_code == 200 and head.content == b""
    protected(head)
    assert (await system.client.head(path)).status_code == 401  # authorized exactly as the GET
