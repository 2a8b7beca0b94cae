"""What a family or network member never reads, tried through the gateway as they would call it (issue 14):

- the agency's supervision records — consultations with what they discussed, the approval queue, coaching
  referrals (the deprecated assessment routes included) — on every route, REST and GraphQL: refused like a missing
  record and audited (`Section.supervision` in `sop_shared.policy`);
- the harm statements the family keeps from their network: every GET route a network member can reach, found from
  the running apps' own OpenAPI documents (not listed by hand), with the ids of the case's records filled in; no
  harm statement's id or words appear under the default choice, and they do once the family opens them (so the
  walk can fail).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select

from sop_assessment.models import platform as assessment_platform
from sop_shared.auth import Principal
from sop_shared.events import Event
from sop_shared.policy import ActorType

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

MARIA, ROSA, WORKER = "maria.lopez", "rosa.delgado", "fsw.rivera"
MEMBERS = (MARIA, ROSA)
PARAMETER = re.compile(r"\{(\w+)\}")
# The words of the harm statement made here, and of its Spanish translation: none of them may reach the network.
HARM_WORDS = "left the wood stove burning all night with the doors shut"
HARM_WORDS_ES = "dejó la estufa de leña encendida toda la noche con las puertas cerradas"
PRESENTING_QUESTION = "Is the night-time plan with the Moreno neighbours enough?"
SUPERVISION_PATHS = ("/consultations", "/approvals", "/coaching-referrals")


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _shared_harm_statement(system: EmbeddedSystem, case_id: uuid.UUID) -> dict[str, Any]:
    """A harm statement read with Maria (shared) and translated into Spanish, verified."""
    worker = system.bearer(WORKER)
    api = f"/api/assessment/v1/cases/{case_id}/statements"
    harm = await _ok(
        await system.client.post(
            api,
            headers=worker,
            json={
                "kind": "harm",
                "language": "en",
                "who_reported": "A neighbour",
                "action_or_inaction": HARM_WORDS,
                "when_or_how_often": "twice in November",
                "impact_on_child": "Sofia was frightened and could not sleep",
            },
        ),
        201,
    )
    shared = await _ok(
        await system.client.post(
            f"{api}/{harm['id']}/share",
            headers={**worker, "If-Match": f'"{harm["version"]}"'},
            json={"reason": "Read with Maria"},
        )
    )
    await _ok(
        await system.client.post(
            f"{api}/{harm['id']}/translations",
            headers=worker,
            json={
                "language": "es",
                "text": HARM_WORDS_ES,
                "translated_by": "Lucía Gómez (interpreter)",
                "verified": True,
                "verified_by": "Ana Ruiz",
                "verifier_qualification": "qualified_interpreter",
                "names_reporter": False,  # the words a family reads, without who reported it
            },
        ),
        201,
    )
    return dict(shared)


async def _consultation(system: EmbeddedSystem, case_id: uuid.UUID) -> dict[str, Any]:
    return dict(
        await _ok(
            await system.client.post(
                f"/api/assessment/v1/cases/{case_id}/consultations",
                headers=system.bearer(WORKER),
                json={
                    "consultation_type": "case_consultation",
                    "held_on": "2026-11-21",
                    "facilitator": "Ms. Okafor",
                    "participants": [{"name": "Ms. Rivera", "role": "worker"}],
                    "presenting_question": PRESENTING_QUESTION,
                },
            ),
            201,
        )
    )


# --- the routes, from the running apps -------------------------------------------------------------------


def _routes(system: EmbeddedSystem, methods: tuple[str, ...]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path through the gateway, operation) for every route of every service (bare and case forms, as
    each service's OpenAPI document lists them; the façade reaches each at `/api/<service>/…`) and the gateway's own
    case routes."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for name, app in system.services.items():
        for path, item in app.openapi()["paths"].items():
            found += [(m, f"/api/{name}{path}", op) for m, op in item.items() if m in methods]
    for path, item in system.gateway.openapi()["paths"].items():
        if not path.startswith("/api/") and "{case_id}" in path:
            found += [(m, path, op) for m, op in item.items() if m in methods]
    return found


async def _candidates(
    system: EmbeddedSystem, path: str, parameter: str, known: dict[str, list[str]], cache: dict[str, list[str]]
) -> list[str]:
    """The values to try for a path parameter: the ones this test knows, else the ids (or numbers) of the records
    the worker finds one level up (`…/maps` for `…/maps/{map_id}`), else one that names nothing."""
    if parameter in known:
        return known[parameter]
    parent = path.split("/{" + parameter + "}", 1)[0]
    if PARAMETER.search(parent) is None:
        if parent not in cache:
            response = await system.client.get(parent, headers=system.bearer(WORKER))
            body = response.json() if response.status_code == 200 else {}
            items = body.get("items", []) if isinstance(body, dict) else body if isinstance(body, list) else []
            key = "number" if parameter in ("n", "number") else "id"
            cache[parent] = [str(i[key]) for i in items if isinstance(i, dict) and key in i][:3]
        if cache[parent]:
            return cache[parent]
    return ["1"] if parameter in ("n", "number", "version") else [str(uuid.uuid4())]


def _query_variants(op: dict[str, Any], harm_ids: list[str]) -> list[dict[str, str]]:
    """No query at all (where that is valid), and each harm statement named wherever a statement can be."""
    params = [p for p in op.get("parameters", []) if p["in"] == "query"]
    required: dict[str, str] = {}
    for p in params:
        if not p.get("required"):
            continue
        schema = p.get("schema", {})
        if "enum" in schema:
            required[p["name"]] = str(schema["enum"][0])
        elif p["name"] == "language":
            required[p["name"]] = "es"
        elif schema.get("type") == "boolean":
            required[p["name"]] = "true"
    variants = [required]
    for p in params:
        if p["name"].endswith("statement_id") or p["name"] == "record_id":
            extra = {"record_kind": "statement"} if any(q["name"] == "record_kind" for q in params) else {}
            variants += [{**required, **extra, p["name"]: harm} for harm in harm_ids]
    return variants


def _said(response: httpx.Response) -> str:
    """What a response tells: its body, less the path a refusal names (`instance`: the caller's own words)."""
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        return json.dumps({k: v for k, v in response.json().items() if k != "instance"})
    return response.text


async def _walk(
    system: EmbeddedSystem, user: str, case_id: uuid.UUID, known: dict[str, list[str]], harm_ids: list[str]
) -> list[tuple[str, int, str]]:
    """GET every route as `user`: (the request, its status, what came back)."""
    answers: list[tuple[str, int, str]] = []
    cache: dict[str, list[str]] = {}
    headers = system.bearer(user)
    for _, path, op in _routes(system, ("get",)):
        parameters = PARAMETER.findall(path)
        choices = [await _candidates(system, path, p, known, cache) for p in parameters]
        for values in itertools.product(*choices):
            url = path
            for parameter, value in zip(parameters, values, strict=True):
                url = url.replace("{" + parameter + "}", value)
            for query in _query_variants(op, harm_ids):
                response = await system.client.get(url, params=query, headers=headers)
                answers.append((f"GET {url} {query}", response.status_code, _said(response)))
    return answers


async def test_a_network_member_reads_no_harm_statement_on_any_route_until_the_family_opens_them(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    mine = await _shared_harm_statement(system, demo_case)
    every_harm = await _ok(
        await system.client.get(
            f"/api/assessment/v1/cases/{demo_case}/statements",
            params={"kind": "harm", "limit": "100"},
            headers=system.bearer(WORKER),
        )
    )
    harm_ids = [s["id"] for s in every_harm["items"]]
    assert mine["id"] in harm_ids
    await _consultation(system, demo_case)
    known = {"case_id": [str(demo_case)], "statement_id": harm_ids, "record_id": harm_ids}

    def leaks(answers: list[tuple[str, int, str]]) -> list[str]:
        words = (HARM_WORDS, HARM_WORDS_ES, *harm_ids)
        return [f"{request} -> {status}" for request, status, text in answers if any(w in text for w in words)]

    by_default = await _walk(system, ROSA, demo_case, known, harm_ids)
    assert len([a for a in by_default if a[1] == 200]) >= 20, "the walk reached too little to prove anything"
    assert leaks(by_default) == []
    translations = f"/api/assessment/v1/cases/{demo_case}/statements/{mine['id']}/translations"
    assert (await system.client.get(translations, headers=system.bearer(ROSA))).status_code == 404

    # Maria opens the harm statements to her network: the same walk now finds them (the walk can fail).
    sharing = f"/api/network/v1/cases/{demo_case}/network/sharing"
    read = await system.client.get(sharing, headers=system.bearer(MARIA))
    chosen = await system.client.put(
        sharing,
        json={"sections": ["harm_statements"]},
        headers={**system.bearer(MARIA), "If-Match": read.headers["ETag"]},
    )
    assert chosen.status_code == 200, chosen.text
    opened = await _walk(system, ROSA, demo_case, known, harm_ids)
    found = leaks(opened)
    assert f"GET /api/assessment/v1/cases/{demo_case}/statements {{}} -> 200" in found, found
    seen = await system.client.get(translations, headers=system.bearer(ROSA))
    assert seen.status_code == 200 and HARM_WORDS_ES in seen.text, seen.text
    assert f"GET /api/assessment/v1/cases/{demo_case}/statements/{mine['id']}/translations {{}} -> 200" in found, found


async def _assessment_audit(system: EmbeddedSystem) -> list[Any]:
    async with system.services["assessment"].state.database.session() as session:
        return list(
            (await session.execute(select(assessment_platform.audit).order_by(assessment_platform.audit.c.seq))).all()
        )


async def test_no_family_or_network_member_reads_a_consultation_on_any_route_and_each_try_is_audited(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    consultation = await _consultation(system, demo_case)
    assert consultation["presenting_question"] == PRESENTING_QUESTION
    known = {
        "case_id": [str(demo_case)],
        "consultation_id": [consultation["id"]],
    }
    # the assessment service's supervision routes (the practice service's coaching has its own relationships)
    routes = [
        r
        for r in _routes(system, ("get", "post", "put", "patch"))
        if r[1].startswith("/api/assessment/") and any(p in r[1] for p in SUPERVISION_PATHS)
    ]
    assert {"/api/assessment/v1/consultations/{consultation_id}", "/api/assessment/v1/coaching-referrals"} <= {
        path for _, path, _ in routes
    }
    # what the worker's POST took, for the members' attempts at the same writes
    bodies = {
        "/consultations": {
            "consultation_type": "case_consultation",
            "held_on": "2026-11-21",
            "facilitator": "Ms. Okafor",
            "participants": [{"name": "Maria", "role": "caregiver"}],
        }
    }
    tried: list[tuple[str, str, httpx.Response]] = []
    for user in MEMBERS:
        for method, path, _ in routes:
            url = path
            for parameter in PARAMETER.findall(path):
                url = url.replace("{" + parameter + "}", known.get(parameter, [str(uuid.uuid4())])[0])
            body = next((b for tail, b in bodies.items() if path.endswith(tail)), {})
            response = await system.client.request(
                method.upper(), url, headers=system.bearer(user), json=None if method == "get" else body
            )
            tried.append((user, f"{method.upper()} {url}", response))
    for user, request, response in tried:
        assert response.status_code in (403, 404), (user, request, response.status_code, response.text)
        said = _said(response)
        assert consultation["id"] not in said and PRESENTING_QUESTION not in said, request
        assert response.headers["content-type"].startswith("application/problem+json"), request
    # the same answer as for a consultation that does not exist: nothing says this one does
    missing = await system.client.get(
        f"/api/assessment/v1/cases/{demo_case}/consultations/{uuid.uuid4()}", headers=system.bearer(ROSA)
    )
    theirs = await system.client.get(
        f"/api/assessment/v1/cases/{demo_case}/consultations/{consultation['id']}", headers=system.bearer(ROSA)
    )
    assert (theirs.status_code, theirs.json()["title"]) == (missing.status_code, missing.json()["title"])

    # every attempt is audited: by the assessment service (the section refused) or at the edge (a write)
    service_rows = {r.request_id: r for r in await _assessment_audit(system) if r.action == "denied"}
    edge_rows = {r.request_id: r for r in await system.audit_rows()}
    for user, request, response in tried:
        request_id = response.headers["X-Request-ID"]
        row = service_rows.get(request_id) or edge_rows.get(request_id)
        assert row is not None and row.actor_subject == user, (user, request)
        if request.startswith("GET"):
            assert service_rows[request_id].resource == "section:supervision", request
    on_case = [r for r in service_rows.values() if r.case_id == demo_case and r.resource == "section:supervision"]
    assert {r.actor_subject for r in on_case} == set(MEMBERS)

    # GraphQL: the one consultation field is the write that records one — refused, audited, nothing recorded
    record = """mutation($input: RecordConsultationInput!) {
      recordConsultation(input: $input) { consultation { id } userErrors { code } } }"""
    variables = {
        "input": {
            "caseId": str(demo_case),
            "consultationType": "CASE_CONSULTATION",
            "heldOn": "2026-11-21",
            "facilitator": "Maria",
            "participants": [{"name": "Maria", "role": "caregiver"}],
        }
    }
    queue = "query { approvalQueue { nodes { id summary } } }"
    for user in MEMBERS:
        written = (await system.graphql(record, variables, user=user)).json()
        assert written["errors"][0]["extensions"]["code"] == "FORBIDDEN", written
        listed = (await system.graphql(queue, user=user)).json()
        assert listed["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND"), listed
    refused = [r for r in await system.audit_rows() if r.action == "denied" and r.resource == "assessment:consultation"]
    assert {r.actor_subject for r in refused} == set(MEMBERS)
    staff_list = await _ok(
        await system.client.get(f"/api/assessment/v1/cases/{demo_case}/consultations", headers=system.bearer(WORKER))
    )
    assert [c["id"] for c in staff_list["items"]] == [consultation["id"]]  # the worker still reads it


async def test_a_choice_made_elsewhere_reaches_this_gateway_at_once_through_its_event(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    """Embedded mode: the family's choice made at the network service straight (as another gateway replica would,
    not through this gateway's façade) drops this gateway's cached decisions on the case when its event
    (`sop.network.network_sharing.chosen`) arrives — not when they expire (an hour here). Distributed gateways
    wait for the expiry (docs/identity.md)."""
    mine = await _shared_harm_statement(system, demo_case)
    await system.events_delivered()
    system.forget_access_decisions(ttl_seconds=3600)
    statements = f"/api/assessment/v1/cases/{demo_case}/statements"
    before = await _ok(await system.client.get(statements, headers=system.bearer(ROSA)))
    assert mine["id"] not in {s["id"] for s in before["items"]}
    rosa = Principal(subject=ROSA, actor_type=ActorType.network)
    assert system.gateway.state.access_cache.get(rosa, demo_case) is not None  # warm: the next read asks nobody

    chosen_seen = asyncio.Event()

    async def seen(event: Event) -> None:  # subscribed after the gateway: runs once the gateway has forgotten
        if event.case_id == demo_case:
            chosen_seen.set()

    await system.gateway.state.bus.subscribe("sop.network.network_sharing.chosen", "test-sharing-seen", seen)
    worker = Principal(subject=WORKER, actor_type=ActorType.staff, roles=frozenset({"worker"}))
    direct = await system.gateway.state.services.request(
        "network",
        "PUT",
        f"/v1/cases/{demo_case}/network/sharing",
        worker.scoped_to(demo_case, {"case:read", "case:write"}),
        json={"statement_ids": [mine["id"]]},
        headers={"If-Match": '"0"'},
    )
    assert direct.status_code == 200, direct.text
    await system.services["network"].state.relay.drain()
    await asyncio.wait_for(chosen_seen.wait(), timeout=30)  # a safety net, not a timing assertion

    assert system.gateway.state.access_cache.get(rosa, demo_case) is None
    after = await _ok(await system.client.get(statements, headers=system.bearer(ROSA)))
    assert mine["id"] in {s["id"] for s in after["items"]}
