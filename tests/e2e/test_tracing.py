"""One trace across the four processes (issue 17): a caseView sent to the gateway with a `traceparent` is
one trace covering the gateway's server span, its calls to network, assessment and plans, their server
spans and their PostgreSQL statements; and an event's consumer span, in another process, is in the trace
of the write that produced the event and linked to the span that published it on NATS. Each process
writes its spans to a file (`SOP_X_TRACE_FILE`, set by the e2e fixture)."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import DistributedSystem


# A field from each service, so the view calls all three (the gateway calls only those a query reads).
CASE_VIEW = (
    "query($id: ID!) { caseView(caseId: $id) { case { county } children { firstName } "
    "worries { danger { text } } safetyPlan { status } } }"
)


def case_body(external_id: str) -> dict[str, Any]:
    child = {
        "external_id": f"{external_id}-C",
        "first_name": "Lani",
        "last_name": "Kabua",
        "date_of_birth": "2018-04-02",
    }
    return {
        "case_type": "in_home",
        "status": "open",
        "county": "Benton",
        "opened_on": "2026-11-01",
        "members": [{"role": "child", "relationship_to_children": "daughter", "person": child}],
        "assignments": [{"staff_subject": "fsw.rivera", "role": "worker"}],
    }


def bearer(system: DistributedSystem, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {system.token(user)}"}


def spans(system: DistributedSystem, component: str) -> list[dict[str, Any]]:
    path = system.log_dir / "traces" / f"{component}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def eventually(check: Callable[[], bool], seconds: float = 15) -> None:
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    assert check()


def new_traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


async def test_a_case_view_is_one_trace_from_the_gateway_through_the_services_to_postgresql(
    distributed_system: DistributedSystem, gateway_client: httpx.AsyncClient
) -> None:
    upsert = await gateway_client.put(
        "/api/network/v1/cases/by-external/CHRIS/E2E-TRACE-1",
        json=case_body("TRACE-1"),
        headers=bearer(distributed_system, "sacwis.sync"),
    )
    assert upsert.status_code == 201, upsert.text
    trace_id, traceparent = new_traceparent()
    response = await gateway_client.post(
        "/graphql",
        json={"query": CASE_VIEW, "variables": {"id": upsert.json()["id"]}},
        headers={**bearer(distributed_system, "fsw.rivera"), "traceparent": traceparent},
    )
    assert response.status_code == 200 and "errors" not in response.json(), response.text

    def in_trace(component: str) -> list[dict[str, Any]]:
        return [s for s in spans(distributed_system, component) if s["trace_id"] == trace_id]

    def complete() -> bool:
        servers = {
            c: [s for s in in_trace(c) if s["kind"] == "SERVER"] for c in ("gateway", "network", "assessment", "plans")
        }
        return all(servers.values())

    await eventually(complete)
    gateway = in_trace("gateway")
    [edge] = [s for s in gateway if s["kind"] == "SERVER"]
    assert edge["attributes"]["http.route"] == "/graphql" and edge["service"] == "sop-gateway"
    calls = {s["span_id"]: s for s in gateway if s["kind"] == "CLIENT"}
    for service in ("network", "assessment", "plans"):
        mine = in_trace(service)
        servers = [s for s in mine if s["kind"] == "SERVER"]
        # Each service's request is a child of one of the gateway's calls, in the same trace.
        assert servers and all(s["parent_span_id"] in calls for s in servers), (service, servers, calls)
        assert {s["service"] for s in mine} == {f"sop-{service}"}
        statements = [s for s in mine if s["attributes"].get("db.system") == "postgresql"]
        assert statements, f"no PostgreSQL span in {service}"
        assert all("Lani" not in json.dumps(s) for s in mine)  # statements carry placeholders, not values


async def test_an_events_consumer_span_is_in_the_writes_trace_and_linked_to_its_publication(
    distributed_system: DistributedSystem, gateway_client: httpx.AsyncClient
) -> None:
    trace_id, traceparent = new_traceparent()
    upsert = await gateway_client.put(
        "/api/network/v1/cases/by-external/CHRIS/E2E-TRACE-2",
        json=case_body("TRACE-2"),
        headers={**bearer(distributed_system, "sacwis.sync"), "traceparent": traceparent},
    )
    assert upsert.status_code == 201, upsert.text

    def consumed() -> list[dict[str, Any]]:
        return [
            s
            for component in ("assessment", "plans")
            for s in spans(distributed_system, component)
            if s["kind"] == "CONSUMER" and s["trace_id"] == trace_id and s["name"].startswith("process sop.network.")
        ]

    await eventually(lambda: bool(consumed()))
    published = {
        s["span_id"]: s
        for s in spans(distributed_system, "network")
        if s["kind"] == "PRODUCER" and s["trace_id"] == trace_id
    }
    assert published, "the relay's publication is not in the write's trace"
    for span in consumed():
        [link] = span["links"]
        assert link["trace_id"] == trace_id and link["span_id"] in published
        assert span["parent_span_id"] in published
    # The publication is a child of the write (a span of the request that wrote the outbox row).
    request_spans = {s["span_id"] for s in spans(distributed_system, "network") if s["trace_id"] == trace_id}
    assert all(p["parent_span_id"] in request_spans for p in published.values())
    # The audit rows written by the upsert carry the trace id.
    rows = await audit_trace_ids(distributed_system.databases["network"], trace_id)
    assert rows > 0


async def audit_trace_ids(dsn: str, trace_id: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM audit_record WHERE trace_id = $1", trace_id))
    finally:
        await connection.close()
