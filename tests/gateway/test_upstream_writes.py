"""No write that a service stored is answered as failed, and none is stored twice: the gateway gives every
upstream write an Idempotency-Key (the client's, or its own), repeats a call the service may not have
answered only when the repeat cannot write twice, and tells the client which key replays a write whose
answer was lost.

The faults are on the network hop only (as in test_partial_failure_and_seeding.py): the call still reaches
the real service app on its real database; only its answer is lost on the way back, or the connection is
refused before it, or the service says it is busy."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from sop_gateway.upstream import UpstreamTimeouts

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

CREATE_STATEMENT = """mutation($input: CreateStatementInput!) {
  createStatement(input: $input) { statement { id } userErrors { code } } }"""


def danger(mark: str) -> dict[str, Any]:
    return {
        "kind": "danger",
        "who_is_worried": mark,
        "caregiver_behaviour": "Maria drinks until she falls asleep",
        "context_trigger": "after a late shift",
        "children": [{"name": "Sofia"}],
        "feared_impact_on_child": "could be left alone at night",
        "threat_codes": ["T4"],
    }


class FaultyHop(httpx.AsyncBaseTransport):
    """The hop from the gateway to one service: the first `faults` calls fail as `fault` says; every call
    that is let through reaches the real service app. Records every call's method and Idempotency-Key."""

    def __init__(self, app: Any, fault: str, faults: int = 1) -> None:
        self.real = httpx.ASGITransport(app=app)
        self.fault, self.faults = fault, faults
        self.calls: list[tuple[str, str | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.headers.get("idempotency-key")))
        if self.faults <= 0:
            return await self.real.handle_async_request(request)
        self.faults -= 1
        if self.fault == "refused":  # never reached the service
            raise httpx.ConnectError("connection refused", request=request)
        if self.fault == "busy":  # the service's own answer when its database is busy: nothing was done
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"status": 503}, request=request)
        response = await self.real.handle_async_request(request)  # the service stores it and answers ...
        await response.aread()
        if self.fault == "dropped":  # ... and the connection drops before the answer arrives
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        raise httpx.ReadTimeout("timed out", request=request)  # ... too late for the gateway


@contextmanager
def faulty_hop(
    system: EmbeddedSystem,
    service: str,
    fault: str,
    *,
    faults: int = 1,
    retry_seconds: float = 5.0,
    read_retry_seconds: float = 2.0,
) -> Iterator[FaultyHop]:
    services = system.gateway.state.services
    real_client, real_timeouts = services.clients[service], services.timeouts
    hop = FaultyHop(system.services[service], fault, faults)
    services.clients[service] = httpx.AsyncClient(transport=hop, base_url=f"http://{service}")
    # as distributed gateways run (embedded ones do not repeat calls: their services cannot restart alone)
    services.timeouts = UpstreamTimeouts(retry_seconds=retry_seconds, read_retry_seconds=read_retry_seconds)
    try:
        yield hop
    finally:
        services.clients[service] = real_client
        services.timeouts = real_timeouts


async def stored(system: EmbeddedSystem, case: uuid.UUID, mark: str) -> list[str]:
    response = await system.client.get(
        f"/api/assessment/v1/cases/{case}/statements", params={"limit": 200}, headers=system.bearer("fsw.rivera")
    )
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["items"] if s["who_is_worried"] == mark]


def post_statement(system: EmbeddedSystem, case: uuid.UUID) -> dict[str, Callable[..., Any]]:
    """The two ways a client writes a statement: the REST façade and the GraphQL mutation (neither with a key)."""

    async def rest(mark: str) -> str | None:
        response = await system.client.post(
            f"/api/assessment/v1/cases/{case}/statements", json=danger(mark), headers=system.bearer("fsw.rivera")
        )
        return response.json()["id"] if response.status_code == 201 else None

    async def graphql(mark: str) -> str | None:
        body = danger(mark) | {"kind": "DANGER"}
        variables = {
            "input": {
                "caseId": str(case),
                "kind": "DANGER",
                "whoIsWorried": body["who_is_worried"],
                "caregiverBehaviour": body["caregiver_behaviour"],
                "contextTrigger": body["context_trigger"],
                "children": body["children"],
                "fearedImpactOnChild": body["feared_impact_on_child"],
                "threatCodes": body["threat_codes"],
            },
        }
        answer = (await system.graphql(CREATE_STATEMENT, variables)).json()
        return None if answer.get("errors") else answer["data"]["createStatement"]["statement"]["id"]

    return {"rest": rest, "graphql": graphql}


@pytest.mark.parametrize("fault", ["refused", "busy", "dropped"])
@pytest.mark.parametrize("via", ["rest", "graphql"])
async def test_a_write_the_gateway_had_to_send_again_is_answered_once_and_stored_once(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
    fault: str,
    via: str,
) -> None:
    mark = f"Aunt Rosa ({fault}, {via})"
    with faulty_hop(system, "assessment", fault) as hop:
        record_id = await post_statement(system, demo_case)[via](mark)
    assert record_id is not None, f"the write was answered as failed after a {fault} hop"
    assert await stored(system, demo_case, mark) == [record_id]
    # both calls were the same write: the gateway gave it one key of its own (the client sent none)
    [(first_method, first_key), (second_method, second_key)] = hop.calls
    assert first_method == second_method == "POST"
    assert first_key is not None and first_key.startswith("gateway-") and second_key == first_key


@pytest.mark.sqlite_smoke
async def test_a_client_replay_after_a_timeout_returns_the_first_result(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    """The gateway's wait ran out after the service stored the write: the client is told to repeat it with
    the key, and the repeat answers with the stored record instead of writing another."""
    worker = system.bearer("fsw.rivera")
    path = f"/api/assessment/v1/cases/{demo_case}/statements"
    with faulty_hop(system, "assessment", "timeout", faults=2) as hop:
        mine = await system.client.post(
            path, json=danger("Uncle Ben (client key)"), headers={**worker, "Idempotency-Key": "visit-2026-11-20-1"}
        )
        theirs = await system.client.post(path, json=danger("Uncle Ben (gateway key)"), headers=worker)
    assert mine.status_code == theirs.status_code == 503
    assert mine.json()["idempotency_key"] == "visit-2026-11-20-1"  # the client's own key, passed on unchanged
    gateway_key = theirs.json()["idempotency_key"]
    assert [key for _, key in hop.calls] == ["visit-2026-11-20-1", gateway_key]  # a timeout is not resent

    for mark, key in (("Uncle Ben (client key)", "visit-2026-11-20-1"), ("Uncle Ben (gateway key)", gateway_key)):
        [record_id] = await stored(system, demo_case, mark)  # the first call was stored
        replay = await system.client.post(path, json=danger(mark), headers={**worker, "Idempotency-Key": key})
        assert replay.status_code == 201 and replay.json()["id"] == record_id
        assert replay.headers["idempotent-replayed"] == "true"
        assert await stored(system, demo_case, mark) == [record_id]


async def test_a_write_whose_outcome_is_unknown_is_not_sent_again_unless_the_repeat_cannot_write_twice(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    """A PATCH is guarded by If-Match, not by a key: sent again after it was stored it would be refused as
    stale (a false failure), so a dropped PATCH is reported unavailable and sent once."""
    worker = system.bearer("fsw.rivera")
    created = await system.client.post(
        f"/api/assessment/v1/cases/{demo_case}/statements", json=danger("Neighbour"), headers=worker
    )
    statement = created.json()
    with faulty_hop(system, "assessment", "dropped") as hop:
        response = await system.client.patch(
            f"/api/assessment/v1/cases/{demo_case}/statements/{statement['id']}",
            json={"status": "resolved"},
            headers={**worker, "If-Match": created.headers["etag"]},
        )
    assert response.status_code == 503 and "idempotency_key" not in response.json()
    assert [method for method, _ in hop.calls] == ["PATCH"]


@pytest.mark.sqlite_smoke("SQLite serialises a repeated key by its single connection")
async def test_two_calls_with_one_key_at_the_same_moment_store_one_record(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    """The gateway (or the client) repeats a write while the first is still being stored: the repeat waits
    for the first and replays its answer, instead of storing a second record or failing on the unique key
    (PostgreSQL; SQLite's one connection already lets one transaction run at a time)."""
    headers = {**system.bearer("fsw.rivera"), "Idempotency-Key": "same-moment-1"}
    path = f"/api/assessment/v1/cases/{demo_case}/statements"
    first, second = await asyncio.gather(
        *(system.client.post(path, json=danger("Grandma Rosa"), headers=headers) for _ in range(2))
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    assert await stored(system, demo_case, "Grandma Rosa") == [first.json()["id"]]


async def test_a_mutation_that_timed_out_names_the_key_that_replays_it(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    variables = {
        "input": {
            "caseId": str(demo_case),
            "kind": "DANGER",
            "whoIsWorried": "Coach Daniels",
            "caregiverBehaviour": "Maria drinks until she falls asleep",
            "contextTrigger": "after a late shift",
            "children": [{"name": "Sofia"}],
            "fearedImpactOnChild": "could be left alone at night",
            "threatCodes": ["T4"],
        },
    }
    with faulty_hop(system, "assessment", "timeout"):
        [error] = (await system.graphql(CREATE_STATEMENT, variables)).json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    key = error["extensions"]["idempotencyKey"]
    [record_id] = await stored(system, demo_case, "Coach Daniels")
    again = (await system.graphql(CREATE_STATEMENT, {"input": {**variables["input"], "idempotencyKey": key}})).json()
    assert again["data"]["createStatement"]["statement"]["id"] == record_id
    assert await stored(system, demo_case, "Coach Daniels") == [record_id]


async def test_a_read_is_repeated_briefly_then_its_section_is_shown_unavailable(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    with faulty_hop(system, "plans", "refused") as hop:  # a restart's moment: asked again, answered
        body = await system.case_view(demo_case)
    assert "errors" not in body and body["data"]["caseView"]["safetyPlan"]["rules"]
    assert [method for method, _ in hop.calls] == ["GET", "GET"]

    with faulty_hop(system, "plans", "refused", faults=10_000, read_retry_seconds=0.5) as hop:  # down
        started = time.monotonic()
        body = await system.case_view(demo_case)
        waited = time.monotonic() - started
    assert body["data"]["caseView"]["safetyPlan"] is None
    assert [e["extensions"]["section"] for e in body["errors"]] == ["safetyPlan"]
    assert len(hop.calls) > 1 and waited < 5  # the reader is not kept waiting for the write budget


async def test_a_read_waits_out_a_restart_but_not_an_outage(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    """A restart is waited out; once a service has been unreachable for longer than the read budget, reads try
    it once and show its section as unavailable at once, until a call gets through again."""
    with faulty_hop(system, "plans", "refused", faults=10_000, read_retry_seconds=0.3) as hop:
        first = await system.case_view(demo_case)  # the outage begins: this reader waits the budget out
        assert [e["extensions"]["section"] for e in first["errors"]] == ["safetyPlan"]
        assert len(hop.calls) > 1
        hop.calls.clear()
        started = time.monotonic()
        second = await system.case_view(demo_case)
        assert [e["extensions"]["section"] for e in second["errors"]] == ["safetyPlan"]
        assert [method for method, _ in hop.calls] == ["GET"]  # one try: the outage is known
        assert time.monotonic() - started < 5
        hop.faults = 0  # the service is back
        hop.calls.clear()
        back = await system.case_view(demo_case)
    assert "errors" not in back and back["data"]["caseView"]["safetyPlan"]["rules"]
    assert [method for method, _ in hop.calls] == ["GET"]
    assert "plans" not in system.gateway.state.services.known_outages
