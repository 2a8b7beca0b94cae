"""The GraphQL endpoint's guards: depth, aliases and tokens limits, JSON POST only, a body size limit
(declared or not), and in production no introspection, no GraphiQL and no development extensions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

DEEP = "query($id: ID!) { caseView(caseId: $id) { worries { danger { plainLanguage { findings { code } } } } } }"
AT_THE_LIMIT = "query($id: ID!) { caseView(caseId: $id) { worries { danger { plainLanguage { language } } } } }"
INTROSPECTION = "{ __schema { types { name } } }"


def _refused(body: dict[str, Any], message_part: str) -> None:
    assert body.get("data") is None, body
    assert any(message_part in e["message"] for e in body["errors"]), body["errors"]


async def _case_view_reads(system: EmbeddedSystem) -> int:
    return len([r for r in await system.audit_rows() if r.resource == "case_view"])


async def test_a_query_deeper_than_the_limit_is_refused_before_anything_is_fetched(
    start_system: Callable[..., Any],
) -> None:
    async with start_system(graphql_max_depth=4, demo_family=True) as system:
        case_id = str(system.demo_case)
        deep = (await system.graphql(DEEP, {"id": case_id})).json()
        _refused(deep, "exceeds maximum operation depth of 4")
        assert deep["extensions"]["upstreamCalls"] == {}
        assert await _case_view_reads(system) == 0
        at_limit = (await system.graphql(AT_THE_LIMIT, {"id": case_id})).json()
        assert "errors" not in at_limit, at_limit
        assert at_limit["data"]["caseView"]["worries"]["danger"][0]["plainLanguage"]["language"] == "en"


async def test_more_aliases_than_the_limit_are_refused(sqlite_system: EmbeddedSystem) -> None:
    limit = sqlite_system.gateway.state.settings.graphql_max_aliases

    def aliased(n: int) -> str:
        return "{ " + " ".join(f"a{i}: me {{ subject }}" for i in range(n)) + " }"

    _refused((await sqlite_system.graphql(aliased(limit + 1))).json(), "aliases found")
    allowed = (await sqlite_system.graphql(aliased(limit))).json()
    assert "errors" not in allowed and len(allowed["data"]) == limit


async def test_a_query_with_more_tokens_than_the_limit_is_refused(sqlite_system: EmbeddedSystem) -> None:
    limit = sqlite_system.gateway.state.settings.graphql_max_tokens
    huge = "{ me { " + "subject " * limit + "} }"
    assert len(huge.encode()) < sqlite_system.gateway.state.settings.max_request_bytes  # not the size guard
    _refused((await sqlite_system.graphql(huge)).json(), f"more than {limit} tokens")
    fine = (await sqlite_system.graphql("{ me { " + "subject " * (limit // 10) + "} }")).json()
    assert fine["data"]["me"]["subject"] == "fsw.rivera"


async def test_a_get_query_runs_only_with_a_preflight_header_and_a_get_mutation_never(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID
) -> None:
    """GraphQL over HTTP: a query may come as GET, but only with a header a form or link cannot set (a browser
    must ask first), so another site cannot make a worker's browser read a case; a mutation never runs on GET."""
    case_id = str(sqlite_demo_case)
    params = {
        "query": "query($id: ID!) { caseView(caseId: $id) { case { recordId } } }",
        "variables": f'{{"id": "{case_id}"}}',
    }
    worker = {**sqlite_system.bearer("fsw.rivera"), "Accept": "application/json"}
    plain = await sqlite_system.client.get("/graphql", params=params, headers=worker)
    assert plain.status_code == 400
    assert case_id not in plain.text and '"data"' not in plain.text
    assert await _case_view_reads(sqlite_system) == 0
    preflighted = {**worker, "GraphQL-Require-Preflight": "1"}
    answered = await sqlite_system.client.get("/graphql", params=params, headers=preflighted)
    assert answered.status_code == 200, answered.text
    assert answered.json().get("data"), answered.text
    assert answered.json()["data"]["caseView"]["case"]["recordId"] == case_id
    mutation = {
        "query": 'mutation { completeMap(input: {caseId: "'
        + case_id
        + '", mapId: "'
        + case_id
        + '", expectedVersion: 1}) { userErrors { code } } }'
    }
    refused = await sqlite_system.client.get("/graphql", params=mutation, headers=preflighted)
    assert refused.status_code >= 400 and '"data"' not in refused.text


async def test_a_client_that_accepts_graphql_response_json_gets_it(sqlite_system: EmbeddedSystem) -> None:
    headers = {**sqlite_system.bearer("fsw.rivera"), "Accept": "application/graphql-response+json, application/json"}
    answered = await sqlite_system.client.post("/graphql", json={"query": "{ me { subject } }"}, headers=headers)
    assert answered.status_code == 200
    assert answered.headers["content-type"].startswith("application/graphql-response+json")
    invalid = await sqlite_system.client.post("/graphql", json={"query": "{ me { nothing } }"}, headers=headers)
    assert invalid.status_code == 400  # a request that fails before execution is a 4xx


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"query": "{ me { subject } }"}},
        {"files": {"query": (None, "{ me { subject } }")}},
        {"content": '{"query": "{ me { subject } }"}', "headers": {"Content-Type": "text/plain"}},
        {"content": '{"query": "{ me { subject } }"}'},
    ],
    ids=["form-urlencoded", "multipart", "text-plain", "no-content-type"],
)
async def test_only_json_posts_reach_graphql(sqlite_system: EmbeddedSystem, body: dict[str, Any]) -> None:
    headers = {**sqlite_system.bearer("fsw.rivera"), **body.pop("headers", {})}
    response = await sqlite_system.client.post("/graphql", headers=headers, **body)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "fsw.rivera" not in response.text
    # the control: the same query as JSON runs
    ok = await sqlite_system.client.post(
        "/graphql", json={"query": "{ me { subject } }"}, headers=sqlite_system.bearer("fsw.rivera")
    )
    assert ok.json()["data"]["me"]["subject"] == "fsw.rivera"


def _padded_query(size: int) -> bytes:
    head, tail = b'{"query": "{ me { subject } }", "padding": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize(
    "path", ["/graphql", f"/api/assessment/v1/cases/{uuid.UUID(int=1)}/statements"], ids=["graphql", "rest-facade"]
)
async def test_a_body_over_the_limit_is_413_whether_or_not_its_length_is_declared(
    sqlite_system: EmbeddedSystem,
    path: str,
) -> None:
    limit = sqlite_system.gateway.state.settings.max_request_bytes
    headers = {**sqlite_system.bearer("fsw.rivera"), "Content-Type": "application/json"}
    too_big = _padded_query(limit + 1)
    declared = await sqlite_system.client.post(path, content=too_big, headers=headers)
    chunked = await sqlite_system.client.post(path, content=_chunks(too_big), headers=headers)
    # the façade forwards a GET's body too, so a GET is held to the same limit
    chunked_get = await sqlite_system.client.request("GET", path, content=_chunks(too_big), headers=headers)
    for response in (declared, chunked, chunked_get):
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert "content-length" not in {k.lower() for k in chunked.request.headers}


async def test_a_chunked_body_within_the_limit_still_arrives_whole(sqlite_system: EmbeddedSystem) -> None:
    limit = sqlite_system.gateway.state.settings.max_request_bytes
    response = await sqlite_system.client.post(
        "/graphql",
        content=_chunks(_padded_query(limit)),
        headers={**sqlite_system.bearer("fsw.rivera"), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["subject"] == "fsw.rivera"


async def test_in_development_introspection_and_graphiql_are_available(sqlite_system: EmbeddedSystem) -> None:
    body = (await sqlite_system.graphql(INTROSPECTION)).json()
    assert "CaseView" in {t["name"] for t in body["data"]["__schema"]["types"]}
    ide = await sqlite_system.client.get("/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()


async def test_in_production_introspection_graphiql_and_call_counts_are_refused(
    start_system: Callable[..., Any],
) -> None:
    async with start_system(production=True) as system:
        assert not system.gateway.state.settings.is_development
        refused = await system.graphql(INTROSPECTION)
        assert refused.status_code in (200, 400)
        body = refused.json()
        _refused(body, "introspection")
        _refused((await system.graphql('{ __type(name: "CaseView") { fields { name } } }')).json(), "introspection")
        ide = await system.client.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 404 and "graphiql" not in ide.text.lower()
        assert ide.headers["content-type"].startswith("application/problem+json")  # as the document says
        # ordinary queries still answer, without the development-only upstream call counts
        me = (await system.graphql("{ me { subject } }")).json()
        assert me["data"]["me"]["subject"] == "fsw.rivera"
        assert "extensions" not in me


async def test_internal_errors_are_masked_even_while_other_requests_run(
    sqlite_system: EmbeddedSystem,
    sqlite_demo_case: uuid.UUID,
) -> None:
    """A plans response the gateway cannot read is an internal error: the caller gets the masked message, also
    when another request runs at the same time (a shared MaskErrors instance once unmasked it then)."""
    case_id = str(sqlite_demo_case)
    clients = sqlite_system.gateway.state.services.clients
    real_plans = clients["plans"]
    clients["plans"] = httpx.AsyncClient(
        base_url="http://plans",
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, json={"items": [{"internal_detail": "do-not-show"}]})
        ),
    )
    query = "query($id: ID!) { caseView(caseId: $id) { case { recordId } safetyPlan { recordId } } }"
    try:
        alone = await sqlite_system.graphql(query, {"id": case_id})
        together, other = await asyncio.gather(
            sqlite_system.graphql(query, {"id": case_id}), sqlite_system.graphql("{ me { subject } }")
        )
    finally:
        await clients["plans"].aclose()
        clients["plans"] = real_plans
    assert other.json()["data"]["me"]["subject"] == "fsw.rivera"
    for response in (alone, together):
        body = response.json()
        assert body["data"]["caseView"]["case"]["recordId"] == case_id
        assert body["data"]["caseView"]["safetyPlan"] is None
        [error] = body["errors"]
        assert error["message"].startswith("Internal error; quote the request id"), error
        assert "'id'" not in response.text and "KeyError" not in response.text
