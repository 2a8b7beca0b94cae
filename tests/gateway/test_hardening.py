"""More GraphQL abuse refused at the edge: too many directives, batches (a JSON array of operations), and
"Did you mean …?" suggestions that would map the schema for a caller who may not introspect; an internal
error is masked and carries the request id to quote."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import EmbeddedSystem


def _directives(n: int) -> str:
    return "{ me { " + " ".join(f"s{i}: subject @include(if: true)" for i in range(n)) + " } }"


async def test_more_directives_than_the_limit_are_refused(start_system: Any) -> None:
    async with start_system(graphql_max_directives=4, graphql_max_aliases=50) as system:
        refused = (await system.graphql(_directives(5))).json()
        assert refused.get("data") is None
        assert any("more than 4 directives" in e["message"] for e in refused["errors"]), refused
        allowed = (await system.graphql(_directives(4))).json()
        assert "errors" not in allowed and allowed["data"]["me"]["s3"] == "fsw.rivera"
        # the same directive many times on one field counts too (and unknown ones are not a way around it)
        stacked = (await system.graphql("{ me { subject " + "@skip(if: false) " * 5 + "} }")).json()
        assert any("more than 4 directives" in e["message"] for e in stacked["errors"])
        unknown = (await system.graphql("{ me { subject " + "@x " * 300 + "} }")).json()
        assert unknown.get("data") is None and len(unknown["errors"]) <= 101


async def test_a_batch_of_operations_is_refused_and_none_runs(sqlite_system: EmbeddedSystem) -> None:
    batch = [{"query": "{ me { subject } }"}, {"query": "{ me { name } }"}]
    response = await sqlite_system.client.post("/graphql", json=batch, headers=sqlite_system.bearer("fsw.rivera"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/batching-refused") and "fsw.rivera" not in response.text
    spaced = await sqlite_system.client.post(
        "/graphql",
        content=b'  \n [{"query": "{ me { subject } }"}]',
        headers={**sqlite_system.bearer("fsw.rivera"), "Content-Type": "application/json"},
    )
    assert spaced.status_code == 400


@pytest.mark.parametrize(
    ("query", "variables", "hidden"),
    [
        ("{ me { subjekt } }", {}, "subject"),
        ("{ mee { subject } }", {}, "me"),
        ("query($id: ID!) { caseView(caseIdd: $id) { case { recordId } } }", {"id": str(uuid.UUID(int=1))}, "caseId"),
        (
            "query($id: ID!) { caseView(caseId: $id, audience: STAF) { case { recordId } } }",
            {"id": str(uuid.UUID(int=1))},
            "STAFF",
        ),
        (
            "query($id: ID!, $a: Audience!) { caseView(caseId: $id, audience: $a) { case { recordId } } }",
            {"id": str(uuid.UUID(int=1)), "a": "SUPERVISR"},
            "SUPERVISOR",
        ),
        ("query($a: Audiense) { me { subject } }", {}, "Audience"),
        ('{ caseView(caseId: "x") { worries { dangr { id } } } }', {}, "danger"),
    ],
    ids=["field", "root-field", "argument", "enum-literal", "enum-variable", "type", "nested-field"],
)
async def test_errors_never_suggest_what_the_caller_meant(
    sqlite_system: EmbeddedSystem, query: str, variables: dict[str, Any], hidden: str
) -> None:
    body = (await sqlite_system.graphql(query, variables)).json()
    assert body.get("data") is None and body["errors"], body
    for error in body["errors"]:
        assert "Did you mean" not in error["message"], error
        assert f'"{hidden}"' not in error["message"] and f"'{hidden}'" not in error["message"], error


async def test_an_internal_error_is_masked_and_names_the_request_id(sqlite_system: EmbeddedSystem) -> None:
    """A network answer the gateway cannot read is an internal failure: the caller sees only the request id."""
    clients = sqlite_system.gateway.state.services.clients
    real = clients["network"]
    clients["network"] = httpx.AsyncClient(
        base_url="http://network",
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, json={"unexpected": "internal-detail-do-not-show"})
        ),
    )
    try:
        response = await sqlite_system.client.post(
            "/graphql",
            json={
                "query": "query($id: ID!) { caseView(caseId: $id) { case { recordId } } }",
                "variables": {"id": str(uuid.uuid4())},
            },
            headers={**sqlite_system.bearer("fsw.rivera"), "X-Request-ID": "rq-support-4711"},
        )
    finally:
        await clients["network"].aclose()
        clients["network"] = real
    # the gateway's own id (the caller's is kept in the audit trail as its client request id)
    request_id = response.headers["x-request-id"]
    assert response.status_code == 200 and request_id != "rq-support-4711"
    [error] = response.json()["errors"]
    assert error["message"].startswith("Internal error; quote the request id") and request_id in error["message"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "internal-detail" not in response.text and "KeyError" not in response.text


async def test_a_request_without_its_own_id_gets_one_and_the_error_quotes_it(sqlite_system: EmbeddedSystem) -> None:
    clients = sqlite_system.gateway.state.services.clients
    real = clients["network"]
    clients["network"] = httpx.AsyncClient(
        base_url="http://network", transport=httpx.MockTransport(lambda request: httpx.Response(200, json=[]))
    )
    try:
        response = await sqlite_system.graphql(
            "query($id: ID!) { caseView(caseId: $id) { case { recordId } } }", {"id": str(uuid.uuid4())}
        )
    finally:
        await clients["network"].aclose()
        clients["network"] = real
    request_id = response.headers["x-request-id"]
    assert response.json()["errors"][0]["extensions"]["requestId"] == request_id


async def test_graphql_over_get_runs_nothing_even_with_a_valid_token(sqlite_system: EmbeddedSystem) -> None:
    response = await sqlite_system.client.get(
        "/graphql",
        params={"query": "{ me { subject } }"},
        headers={**sqlite_system.bearer("fsw.rivera"), "Accept": "application/json"},
    )
    assert response.status_code >= 400 and "fsw.rivera" not in response.text
