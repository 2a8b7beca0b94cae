"""The case boundary, found by walking the API rather than by listing endpoints: every write operation in each
service's OpenAPI document (and the case-scoped twins the plans service serves outside its schema) and every
GraphQL mutation, and in each every id-typed field — path, query, body, nested, in lists (see
boundary_support.py). An id a request carries must be resolved within the case the request is for: an id of
the same kind from another case is refused exactly as a random id is.

Two populated families: case A (the demo family, seeded as `sop dev` seeds it) and case B (a second family
seeded the same way). Ms. Rivera is the worker on both, so she may read and write B — the sharpest test: her
request for A carrying an id from B must still be refused, and refused indistinguishably from a random id.

For each (operation, id field), with the rest of the request made valid for case A from the example table:
  (b) the field holds an id of that kind from case B    — must be a 4xx, and
  (c) the field holds a random UUIDv7                    — must be a 4xx, with (b) == (c) apart from request ids;
  (a) the field holds the right record from case A       — must succeed: it proves the request was otherwise
      valid, so (b) and (c) were refused for the id. (a) is sent last, on fresh records, so it consumes nothing
      (b) and (c) saw. A request whose (a) cannot succeed is listed in UNVERIFIABLE with the reason.
Routes under /v1/cases/{case_id} are called through the gateway's REST façade as a client calls them; the
bare /v1/… routes straight on the service, with the token the gateway mints for a request about case A.
The fields are found at run time from the running apps, so the walk is one test: every hole is collected and
reported in one assertion message, and the summary is printed (run with -s).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import real_services

from sop_gateway.access import require_case_access
from sop_gateway.demo import seed_demo_family
from sop_gateway.demo.assessment import DEMO_DANGER_STATEMENT, DEMO_MAP_V1, DEMO_SAFETY_GOAL, seed_assessment
from sop_gateway.demo.assessment_sdm import (
    DEMO_RISK_ANSWERS,
    DEMO_RISK_OVERRIDE,
    DEMO_SAFETY_ANSWERS,
    DEMO_THREE_HOUSES,
    VERSION,
    seed_assessment_sdm,
)
from sop_gateway.demo.plans import DEMO_SAFETY_PLAN, seed_plans
from sop_gateway.demo.seeding import DemoSeed
from sop_shared.auth import Principal
from sop_shared.dev_identity import mint_dev_token
from sop_shared.ids import new_id
from sop_shared.policy import ActorType
from tests.gateway.boundary_support import (
    INTROSPECT_MUTATIONS,
    KIND_BY_NAME,
    KIND_OF_ITEM_ID,
    NOT_CASE_SCOPED_IN_GRAPHQL,
    IdField,
    Operation,
    _snake,
    hidden_case_forms,
    mutations,
    operations,
)
from tests.gateway.conftest import COMPONENTS, EmbeddedSystem, embedded_system, sqlite_urls

WORKER, SUPERVISOR, MEMBER = "fsw.rivera", "sup.okafor", "maria.lopez"
CASE_REF_GRACE_SECONDS = 0.25
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

# Case B: a second family, fictional, known to SACWIS under its own ids (never a person of case A).
CASE_B_BODY: dict[str, Any] = {
    "case_type": "in_home",
    "status": "open",
    "county": "Faulkner",
    "opened_on": "2026-11-02",
    "members": [
        {
            "role": "caregiver",
            "relationship_to_children": "father",
            "person": {
                "external_id": "BND-P-1",
                "first_name": "Tomas",
                "last_name": "Marsh",
                "date_of_birth": "1990-02-11",
                "preferred_language": "en",
            },
        },
        {
            "role": "child",
            "relationship_to_children": "daughter",
            "person": {
                "external_id": "BND-P-2",
                "first_name": "Ivy",
                "last_name": "Marsh",
                "date_of_birth": "2018-04-11",
                "preferred_language": "en",
            },
        },
        {
            "role": "network",
            "relationship_to_children": "aunt",
            "person": {
                "external_id": "BND-P-3",
                "first_name": "June",
                "last_name": "Marsh",
                "date_of_birth": "1982-07-03",
                "preferred_language": "en",
            },
        },
    ],
    # Ms. Rivera works both families; Mr. Lindqvist seeds B (demo idempotency keys are per caller).
    "assignments": [
        {"staff_subject": "fsw.lindqvist", "role": "worker"},
        {"staff_subject": WORKER, "role": "worker"},
        {"staff_subject": SUPERVISOR, "role": "supervisor"},
    ],
}


class SecondFamilySeed(DemoSeed):
    """The demo seeding steps, run for case B by its other worker (the steps name Ms. Rivera)."""

    def headers(self, user: str) -> dict[str, str]:
        return super().headers("fsw.lindqvist" if user == WORKER else user)


# --- the two cases ---------------------------------------------------------------------------------------


@dataclass
class World:
    system: EmbeddedSystem
    cases: dict[str, str]  # "A"/"B" -> case id
    base: dict[str, dict[str, Any]] = field(default_factory=dict)  # case -> kind -> one record's id (and extras)
    requests: int = 0
    foreign: dict[Any, Scene] = field(default_factory=dict)  # operation -> case B's records for it
    target: dict[Any, Scene] = field(default_factory=dict)  # operation -> case A's records (b) and (c) name

    async def call(
        self, method: str, url: str, *, user: str = WORKER, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        self.requests += 1
        return await self.system.client.request(
            method, url, headers={**self.system.bearer(user), **(headers or {})}, **kwargs
        )

    async def ok(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        response = await self.call(method, url, **kwargs)
        assert response.status_code < 400, f"setting up {what}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def as_service(
        self, service: str, method: str, path: str, principal: Principal, **kwargs: Any
    ) -> httpx.Response:
        """A request straight to a service, with the internal token the gateway would mint for it."""
        self.requests += 1
        return await self.system.gateway.state.services.request(service, method, path, principal, **kwargs)

    async def principal(self, user: str, case: str) -> Principal:
        """`user` as the gateway passes them on for a request about `case` (its access decision's scopes)."""
        state = self.system.gateway.state
        principal = await state.authenticator.authenticate(mint_dev_token(self.system.keys_dir, user))
        access = await require_case_access(state.services, state.access_cache, principal, uuid.UUID(case))
        return principal.scoped_to(uuid.UUID(case), access.scopes)


def api(service: str, case: str, tail: str) -> str:
    return f"/api/{service}/v1/cases/{case}{tail}"


async def _seed_case_b(system: EmbeddedSystem) -> str:
    seed = SecondFamilySeed(system.keys_dir)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=system.gateway), base_url="http://gateway") as c:
        case = await c.put(
            "/api/network/v1/cases/by-external/CHRIS/BOUNDARY-2026-0002",
            json=CASE_B_BODY,
            headers=seed.headers("sacwis.sync"),
        )
        assert case.status_code in (200, 201), case.text
        seed.case_id = case.json()["id"]
        people = {m["person"]["external_id"]: m["person"]["id"] for m in case.json()["members"]}
        worker = seed.headers(WORKER)
        base = f"/api/network/v1/cases/{seed.case_id}/network"
        for body in (
            {"person_id": people["BND-P-3"], "circle": "inner", "roles": ["safety person at night"]},
            {"person": {"first_name": "Ruth", "last_name": "Okoro"}, "circle": "outer"},
        ):
            made = await c.post(f"{base}/members", json=body, headers=worker)
            assert made.status_code == 201, made.text
        for step in (seed_assessment, seed_assessment_sdm, seed_plans):
            await step(c, seed)
    return seed.case_id


async def _base_records(w: World, label: str) -> dict[str, Any]:
    """One record of every kind in the case, read back through the API."""
    case = w.cases[label]
    ids: dict[str, Any] = {"case": case}
    people = (await w.ok("GET", f"/api/network/v1/cases/{case}", "the case"))["members"]
    ids["person"] = next(m["person"]["id"] for m in people if m["role"] == "child")
    ids["caregiver_person"] = next(m["person"]["id"] for m in people if m["role"] == "caregiver")
    network = await w.ok("GET", f"/api/network/v1/cases/{case}/network", "the safety network")
    ids["network_member"] = network["members"][0]["id"]
    ids["network_member_version"] = network["members"][0]["version"]
    statements = (await w.ok("GET", api("assessment", case, "/statements"), "the statements"))["items"]
    ids["statement"] = ids["danger_statement"] = next(s["id"] for s in statements if s["kind"] == "danger")
    maps = (await w.ok("GET", api("assessment", case, "/maps"), "the maps"))["items"]
    ids["map"] = maps[0]["id"]
    content = (await w.ok("GET", api("assessment", case, f"/maps/{maps[0]['id']}"), "the map"))["content"]
    ids.update(_map_items(content))
    goals = (await w.ok("GET", api("assessment", case, "/safety-goals"), "the goals"))["items"]
    ids["safety_goal"] = goals[0]["id"]
    sdm = (await w.ok("GET", api("assessment", case, "/sdm-assessments"), "the SDM assessments"))["items"]
    ids["sdm_assessment"] = next(a["id"] for a in sdm if a["instrument"]["key"] == "safety_assessment")
    voices = (await w.ok("GET", api("assessment", case, "/child-voice"), "the child-voice records"))["items"]
    ids["child_voice_record"] = voices[0]["id"]
    drawing = await w.ok(
        "POST",
        api("assessment", case, f"/child-voice/{voices[0]['id']}/attachments"),
        "a drawing",
        content=TINY_PNG,
        headers={"Content-Type": "image/png"},
    )
    ids["drawing"] = drawing["id"]
    plans = (await w.ok("GET", api("plans", case, "/safety-plans"), "the safety plans"))["items"]
    plan = plans[0]
    ids.update(
        safety_plan=plan["id"], safety_plan_rule=plan["rules"][0]["id"], plan_participant=plan["participants"][0]["id"]
    )
    steps = (await w.ok("GET", api("plans", case, "/next-steps"), "the next steps"))["items"]
    ids["next_step"] = steps[0]["id"]
    return ids


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One embedded system per backend for the whole walk; every check makes its own fresh records."""
    base = tmp_path_factory.mktemp(f"boundary-{request.param}")
    with pytest.MonkeyPatch.context() as env:  # settings from the test alone (as the autouse fixture does)
        for name in [n for n in os.environ if n.startswith("SOP_") and not n.startswith("SOP_TEST_")]:
            env.delenv(name)
        # A reference to another service's record the service has not heard of waits out a grace for its
        # event, and every refused id here is one (about 300 of them): a short grace keeps the walk short,
        # and is still many times the in-process bus's relay interval, so case A's own ids are always known.
        for service in ("NETWORK", "ASSESSMENT", "PLANS"):
            env.setenv(f"SOP_{service}_CASE_REF_GRACE_SECONDS", str(CASE_REF_GRACE_SECONDS))
        admin_url = "" if request.param == "sqlite" else request.getfixturevalue("postgres_admin_url")
        if request.param == "sqlite":
            urls, databases = sqlite_urls(base), {}
        else:
            databases = {
                name: await real_services.create_test_database(admin_url, prefix=f"bd_{name}") for name in COMPONENTS
            }
            urls = {name: db.url for name, db in databases.items()}
        try:
            async with embedded_system(base / "data", urls) as system:
                case_a = str(await seed_demo_family(system.gateway))
                case_b = await _seed_case_b(system)
                w = World(system, {"A": case_a, "B": case_b})
                for label in ("A", "B"):
                    w.base[label] = await _base_records(w, label)
                yield w
        finally:
            for db in databases.values():
                await real_services.drop_database(admin_url, db.name)


# --- fresh records, for requests that consume what they act on ---------------------------------------------

Scene = dict[str, Any]  # kind -> id in one case, plus what the example request needs (versions, hashes)


async def _plan(w: World, case: str, scene: Scene, stage: str, *, watcher: str | None = None) -> Scene:
    """A fresh safety plan in `case`, brought to `stage` (draft, signed, pending, approved, active); with
    `watcher`, every rule is watched by that person of the scene (a member checks in on the rules they watch)."""
    body = {
        **DEMO_SAFETY_PLAN,
        "title": f"Boundary plan {uuid.uuid4().hex[:8]}",
        "danger_statement_ids": [scene["danger_statement"]],
    }
    if watcher is not None:
        body["rules"] = [
            {**rule, "monitors": [{"name": "Maria", "person_id": scene[watcher]}]} for rule in DEMO_SAFETY_PLAN["rules"]
        ]
    plan = await w.ok("POST", api("plans", case, "/safety-plans"), "a safety plan", json=body)
    at = f"/safety-plans/{plan['id']}"
    if stage != "draft":
        for participant in plan["participants"]:
            await w.ok(
                "POST",
                api("plans", case, f"{at}/signatures"),
                "a signature",
                json={
                    "version_number": plan["current_version_number"],
                    "content_hash": plan["content_hash"],
                    "participant_id": participant["id"],
                    "signer_name": participant["name"],
                    "signer_role": participant["role"],
                    "method": "click",
                    "affirmation": "I agree to this plan.",
                },
            )
    if stage in ("pending", "approved", "active"):
        plan = await w.ok("POST", api("plans", case, f"{at}/submit"), "submitting", json={"supervisor": SUPERVISOR})
    if stage in ("approved", "active"):
        plan = await w.ok(
            "POST",
            api("plans", case, f"{at}/approve"),
            "approving",
            user=SUPERVISOR,
            json={
                "version_number": plan["current_version_number"],
                "content_hash": plan["content_hash"],
                "decision": "approved",
            },
        )
    if stage == "active":
        plan = await w.ok("POST", api("plans", case, f"{at}/activate"), "activating", json={})
    plan = await w.ok("GET", api("plans", case, at), "reading the plan")
    return {
        **scene,
        "safety_plan": plan["id"],
        "safety_plan_rule": plan["rules"][0]["id"],
        "plan_participant": plan["participants"][0]["id"],
        "plan": plan,
    }


async def _sdm(w: World, case: str, scene: Scene, stage: str) -> Scene:
    """A fresh SDM assessment: a safety assessment draft or completed; a risk assessment overridden."""
    if stage in ("completed_risk", "overridden"):
        body = {
            "instrument_key": "risk_assessment",
            "instrument_version": VERSION,
            "answers": DEMO_RISK_ANSWERS,
            "anchors": {"report_received": "2026-11-18T14:00:00+00:00"},
        }
    else:
        body = {
            "instrument_key": "safety_assessment",
            "instrument_version": VERSION,
            "answers": DEMO_SAFETY_ANSWERS,
            "children": [{"name": "A child", "answers": {"V1": False}}],
            "anchors": {"first_contact": "2026-11-19T16:00:00+00:00"},
        }
    made = await w.ok("POST", api("assessment", case, "/sdm-assessments"), "an SDM assessment", json=body)
    at = f"/sdm-assessments/{made['id']}"
    if stage in ("completed", "completed_risk", "overridden"):
        made = await w.ok("POST", api("assessment", case, f"{at}/complete"), "completing it")
    if stage == "overridden":
        made = await w.ok("POST", api("assessment", case, f"{at}/override"), "overriding it", json=DEMO_RISK_OVERRIDE)
    return {**scene, "sdm_assessment": made["id"], "sdm_version": made.get("version", 1)}


async def _statement(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok(
        "POST",
        api("assessment", case, "/statements"),
        "a danger statement",
        json={**DEMO_DANGER_STATEMENT, "feared_impact_on_child": f"could get hurt ({uuid.uuid4().hex[:6]})"},
    )
    return {**scene, "statement": made["id"], "danger_statement": made["id"], "statement_version": made["version"]}


async def _map(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok("POST", api("assessment", case, "/maps"), "a map", json={**DEMO_MAP_V1, "title": "Boundary map"})
    content = (await w.ok("GET", api("assessment", case, f"/maps/{made['id']}"), "reading the map"))["content"]
    return {**scene, "map": made["id"], "map_content": content, **_map_items(content)}


MAP_COLUMNS = ("complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas")


def _map_items(content: dict[str, Any]) -> dict[str, str]:
    """A map item's id is held to its map and its column: one per column."""
    return {f"map_item.{column}": content[column][0]["id"] for column in MAP_COLUMNS if content.get(column)}


def scene_key(field_: IdField) -> str:
    # approvals are filed about an SDM assessment in the example table
    kind = "sdm_assessment" if field_.kind == "approval_subject" else str(field_.kind)
    if kind == "map_item":
        return f"map_item.{field_.name.split('[]')[0]}"
    return kind


async def _only_complete_dangers(w: World, case: str, scene: Scene) -> Scene:
    """A map is complete only when every active danger statement of the case has its safety goal and
    ratings: withdraw the bare danger statements other checks made (the seeded one has both)."""
    statements = (await w.ok("GET", api("assessment", case, "/statements"), "the statements"))["items"]
    for statement in statements:
        if (
            statement["kind"] == "danger"
            and statement["status"] == "active"
            and statement["id"] != w.base[_label(w, case)]["danger_statement"]
        ):
            await w.ok(
                "PATCH",
                api("assessment", case, f"/statements/{statement['id']}"),
                "withdrawing a statement",
                json={"status": "withdrawn"},
                headers={"If-Match": f'"{statement["version"]}"'},
            )
    return scene


def _label(w: World, case: str) -> str:
    return next(label for label, case_id in w.cases.items() if case_id == case)


async def _rating(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok(
        "POST",
        api("assessment", case, "/scale-ratings"),
        "a safety-scale rating",
        json={"occasion_on": _unique_day(), "rater_name": "Maria", "rater_role": "caregiver", "score": 5},
    )
    return {**scene, "scale_rating": made["id"]}


async def _goal(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok(
        "POST",
        api("assessment", case, "/safety-goals"),
        "a safety goal",
        json={**DEMO_SAFETY_GOAL, "danger_statement_id": scene["danger_statement"]},
    )
    return {**scene, "safety_goal": made["id"], "goal_version": made["version"]}


async def _child_voice(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok("POST", api("assessment", case, "/child-voice"), "a child-voice record", json=DEMO_THREE_HOUSES)
    return {**scene, "child_voice_record": made["id"], "child_voice_version": made["version"]}


TRAUMA_HISTORY = {
    "person": {"name": "Sofia"},
    "person_role": "child",
    "history": "Sofia found her mother asleep and could not wake her.",
    "triggers": [{"trigger": "Being alone at night", "what_helps": "Knowing Grandma Rosa is coming"}],
    "consented_audiences": ["staff"],
}


async def _trauma_history(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok("POST", api("assessment", case, "/trauma-histories"), "a trauma history", json=TRAUMA_HISTORY)
    return {**scene, "trauma_history": made["id"], "trauma_history_version": made["version"]}


async def _known_trigger(w: World, case: str, scene: Scene) -> Scene:
    """A known trigger of the case (its id: plans learns it from the assessment's trauma-history event)."""
    made = await w.ok("POST", api("assessment", case, "/trauma-histories"), "a trauma history", json=TRAUMA_HISTORY)
    assert made["triggers"], "the boundary's trauma history needs a trigger"
    return {**scene, "known_trigger": made["triggers"][0]["id"]}


CHILD_WORDS_ES = {
    "record_kind": "child_voice",
    "source_field": "houses.2.entries.0.words",
    "language": "es",
    "text": "mami se queda despierta y vemos películas",
    "translated_by": "Lucía Gómez (interpreter)",
}


async def _translation(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok(
        "POST",
        api("assessment", case, "/translations"),
        "a translation of the child's words",
        json={**CHILD_WORDS_ES, "record_id": scene["child_voice_record"]},
    )
    return {**scene, "translation": made["id"]}


RULE_ES = {"record_kind": "plan_rule", "language": "es", "text": "Rosa se queda cada noche", "translated_by": "Lucía"}


async def _plan_translation(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok(
        "POST",
        api("plans", case, "/translations"),
        "a translation of a plan rule",
        json={**RULE_ES, "record_id": scene["safety_plan_rule"]},
    )
    return {**scene, "translation": made["id"]}


async def _proposed_commitment(w: World, case: str, scene: Scene) -> Scene:
    """A network member of the case proposes a commitment, as themselves: a fresh member, bound to a fresh
    login by the real invite-and-redeem path, then the internal token the gateway mints for them."""
    network = f"/api/network/v1/cases/{case}"
    tag = uuid.uuid4().hex[:8]
    made = await w.ok(
        "POST",
        f"{network}/network/members",
        "a network member",
        json={"person": {"first_name": "Boundary", "last_name": f"Neighbour {tag}"}, "circle": "outer"},
    )
    person = made["person"]["id"]
    invitation = await w.ok(
        "POST", f"{network}/people/{person}/login-invitations", "an invitation", json={"valid_for_days": 1}
    )
    login = Principal(subject=f"network:boundary-{tag}", actor_type=ActorType.network, scopes=frozenset({"case:read"}))
    redeemed = await w.as_service(
        "network", "POST", "/v1/login-invitations/redeem", login, json={"code": invitation["code"]}
    )
    assert redeemed.status_code == 200, f"setting up a member login: {redeemed.status_code} {redeemed.text}"
    member = login.scoped_to(uuid.UUID(case), {"case:read", "case:participate"}, person_id=uuid.UUID(person))
    proposed = await w.as_service(
        "network",
        "POST",
        f"/v1/cases/{case}/network/member-commitments",
        member,
        json={"text": "I stay over on Friday nights.", "language": "en"},
    )
    assert proposed.status_code == 201, f"setting up a commitment: {proposed.status_code} {proposed.text}"
    return {**scene, "network_commitment": proposed.json()["id"], "network_commitment_version": 1}


async def _confirmed_commitment(w: World, case: str, scene: Scene) -> Scene:
    scene = await _proposed_commitment(w, case, scene)
    made = await w.ok(
        "POST",
        f"/api/network/v1/cases/{case}/network/commitments/{scene['network_commitment']}/decision",
        "confirming the commitment",
        json={"decision": "confirmed", "share_reason": "Her own words."},
        headers={"If-Match": '"1"'},
    )
    return {**scene, "confirmed_commitment": made["id"], "network_commitment_version": made["version"]}


async def _commitment_translation(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok(
        "POST",
        f"/api/network/v1/cases/{case}/translations",
        "a translation of a commitment",
        json={
            "record_kind": "network_commitment",
            "record_id": scene["confirmed_commitment"],
            "language": "es",
            "text": "Me quedo los viernes por la noche.",
            "translated_by": "Lucía",
        },
    )
    return {**scene, "translation": made["id"]}


async def _sharing_version(w: World, case: str, scene: Scene) -> Scene:
    """The family's current choice of what their network sees (its version, for the next choice)."""
    current = await w.ok("GET", f"/api/network/v1/cases/{case}/network/sharing", "the network's sharing")
    return {**scene, "network_sharing_version": current["version"]}


async def _consultation(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok(
        "POST",
        api("assessment", case, "/consultations"),
        "a consultation",
        json={
            "consultation_type": "case_consultation",
            "held_on": "2026-11-21",
            "facilitator": "Ms. Okafor",
            "participants": [{"name": "Ms. Rivera", "role": "worker"}],
        },
    )
    return {**scene, "consultation": made["id"]}


async def _approval(w: World, case: str, scene: Scene, *, returned: bool = False) -> Scene:
    scene = await _sdm(w, case, scene, "draft")
    made = await w.ok(
        "POST",
        api("assessment", case, "/approvals"),
        "an approval request",
        json={"kind": "sdm_assessment", "subject_id": scene["sdm_assessment"], "summary": "Please approve."},
    )
    if returned:
        made = await w.ok(
            "POST",
            api("assessment", case, f"/approvals/{made['id']}/decision"),
            "returning it",
            user=SUPERVISOR,
            json={"decision": "returned", "comment": "Add the school's view."},
            headers={"If-Match": f'"{made["version"]}"'},
        )
    return {**scene, "approval": made["id"], "approval_version": made["version"]}


async def _grant(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok("POST", f"/api/network/v1/cases/{case}/grants", "a partner grant", json=GRANT)
    return {**scene, "grant": made["id"]}


async def _next_step(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok("POST", api("plans", case, "/next-steps"), "a next step", json=next_step_body(scene))
    return {**scene, "next_step": made["id"], "next_step_version": made["version"]}


async def _member(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok(
        "POST",
        f"/api/network/v1/cases/{case}/network/members",
        "a network member",
        json={"person": {"first_name": "Boundary", "last_name": f"Helper {uuid.uuid4().hex[:6]}"}, "circle": "outer"},
    )
    return {**scene, "network_member": made["id"], "network_member_version": made["version"]}


async def _free_person(w: World, case: str, scene: Scene) -> Scene:
    """A person of the case who is not yet in its safety network (SACWIS adds one more relative)."""
    label = _label(w, case)
    tag = uuid.uuid4().hex[:8]
    system, external = ("CHRIS", "DEMO-2026-0001") if label == "A" else ("CHRIS", "BOUNDARY-2026-0002")
    current = await w.ok("GET", f"/api/network/v1/cases/{case}", "the case")
    members = list(
        {
            (m["person"]["external_id"], m["role"]): {
                "role": m["role"],
                "relationship_to_children": m.get("relationship_to_children"),
                "person": {
                    "external_id": m["person"]["external_id"],
                    "first_name": m["person"]["first_name"],
                    "last_name": m["person"]["last_name"],
                },
            }
            for m in current["members"]
            if m["person"].get("external_id")
        }.values()
    )
    members.append(
        {
            "role": "network",
            "relationship_to_children": "uncle",
            "person": {"external_id": f"BND-X-{tag}", "first_name": "Uncle", "last_name": tag},
        }
    )
    body = {**(CASE_B_BODY if label == "B" else {}), "members": members}
    if label == "A":
        from sop_gateway.demo.network import DEMO_CASE_BODY

        body = {**DEMO_CASE_BODY, "members": members}
    updated = await w.ok(
        "PUT", f"/api/network/v1/cases/by-external/{system}/{external}", "a new relative", user="sacwis.sync", json=body
    )
    person = next(m["person"]["id"] for m in updated["members"] if m["person"].get("external_id") == f"BND-X-{tag}")
    return {**scene, "person": person}


GRANT: dict[str, Any] = {
    "agency": "Harbor House Counseling",
    "scopes": ["case:read"],
    "purpose": "Family counseling referral",
    "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
}


def next_step_body(scene: Scene) -> dict[str, Any]:
    return {
        "action": "Find a meeting close to work.",
        "owner": {"name": "Ms. Rivera", "person_id": scene["person"]},
        "owner_kind": "agency",
        "due_on": (datetime.now(UTC) + timedelta(days=7)).date().isoformat(),
        "safety_plan_id": scene["safety_plan"],
        "goal_id": scene["safety_goal"],
    }


_DAYS = iter(range(10_000))


def _unique_day() -> str:
    """A different occasion for every rating (one rating per rater, statement and occasion)."""
    return (datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=next(_DAYS))).date().isoformat()


def _if_match(key: str) -> Callable[[Scene], dict[str, str]]:
    return lambda s: {"If-Match": f'"{s[key]}"'}


def _map_save(s: Scene) -> dict[str, Any]:
    content = copy.deepcopy(s["map_content"])
    body = {
        name: content[name]
        for name in ("participants", "complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas")
    }
    for column in body.values():
        for item in column:
            for key in [k for k, v in item.items() if v is None]:
                del item[key]
    body["participants"][0]["person_id"] = s["caregiver_person"]
    for column in ("complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas"):
        body[column][0]["source"] = {"name": "Sofia", "person_id": s["person"]}
    body["change_note"] = "Saved again in the boundary test"
    return body


def _plan_edit(s: Scene) -> dict[str, Any]:
    plan = s["plan"]
    return {
        "change_note": "Edited in the boundary test",
        "danger_statement_ids": [s["danger_statement"]],
        "safety_assessment_id": s["sdm_assessment"],
        "participants": [
            {"id": p["id"], "name": p["name"], "role": p["role"], "person_id": s["caregiver_person"]}
            for p in plan["participants"]
        ],
        "rules": [
            {
                "id": r["id"],
                "text": r["text"],
                "threat_code": r.get("threat_code"),
                "responsible": [{"name": "Maria", "person_id": s["caregiver_person"]}],
                "monitors": [{"name": "Rosa", "person_id": s["person"]}],
                "frequency": r.get("frequency"),
                "how_verified": r.get("how_verified"),
                "commitment_id": s.get("confirmed_commitment"),
            }
            for r in plan["rules"]
        ],
        "trigger_plan": [{"trigger_id": s["known_trigger"], "how_avoided": "Rosa stays the night."}]
        if s.get("known_trigger")
        else [],
        "if_rule_broken": {
            "who_is_called": [{"name": "Rosa", "person_id": s["person"]}],
            "what_happens": "Rosa picks the children up.",
        },
    }


def _plan_create(s: Scene) -> dict[str, Any]:
    return {
        **DEMO_SAFETY_PLAN,
        "title": f"Boundary plan {uuid.uuid4().hex[:8]}",
        "danger_statement_ids": [s["danger_statement"]],
        "safety_assessment_id": s["sdm_assessment"],
        "participants": [{"name": "Maria", "role": "caregiver", "person_id": s["caregiver_person"]}],
        "rules": [
            {
                **DEMO_SAFETY_PLAN["rules"][0],
                "responsible": [{"name": "Maria", "person_id": s["caregiver_person"]}],
                "monitors": [{"name": "Rosa", "person_id": s["person"]}],
                "commitment_id": s.get("confirmed_commitment"),
            }
        ],
        "trigger_plan": [{"trigger_id": s["known_trigger"], "how_avoided": "Rosa stays the night."}]
        if s.get("known_trigger")
        else [],
        "if_rule_broken": {
            "who_is_called": [{"name": "Rosa", "person_id": s["person"]}],
            "what_happens": "Rosa picks the children up.",
        },
    }


# --- the example table: how to make each route's request valid for a case ----------------------------------


@dataclass(frozen=True)
class Example:
    """A valid request for one route (keyed by service, method and the route without its case prefix; the
    bare `/v1/…` form and the `/v1/cases/{case_id}/…` form share it). `setup` makes the fresh records the
    request acts on (run in both cases: B's are the foreign ids); `bodies` are tried in order until one has
    a place for the field under test (a discriminated union has one body per variant)."""

    setup: Callable[[World, str, Scene], Awaitable[Scene]] | None = None
    bodies: tuple[Callable[[Scene], Any], ...] = ()
    headers: Callable[[Scene], dict[str, str]] | None = None
    user: str = WORKER
    raw: bytes | None = None  # a non-JSON body (a drawing)
    bare: Callable[[Scene], dict[str, Any]] | None = None  # what the bare /v1/… form's body adds


def _setup(*steps: Callable[..., Awaitable[Scene]]) -> Callable[[World, str, Scene], Awaitable[Scene]]:
    async def run(w: World, case: str, scene: Scene) -> Scene:
        for step in steps:
            scene = await step(w, case, scene)
        return scene

    return run


def _stage(maker: Callable[..., Awaitable[Scene]], stage: str) -> Callable[[World, str, Scene], Awaitable[Scene]]:
    return lambda w, case, scene: maker(w, case, scene, stage)


HARM = {
    "kind": "harm",
    "language": "en",
    "who_reported": "A neighbour",
    "action_or_inaction": "left them alone",
    "when_or_how_often": "twice in October",
    "impact_on_child": "they were scared",
}
CONSENT = {"shared_with": ["family"]}


async def _harm_statement(w: World, case: str, scene: Scene) -> Scene:
    made = await w.ok("POST", api("assessment", case, "/statements"), "a harm statement", json=HARM)
    return {**scene, "statement": made["id"], "statement_version": made["version"]}


async def _plan_maria_watches(w: World, case: str, scene: Scene) -> Scene:
    return await _plan(w, case, scene, "active", watcher="caregiver_person")


async def _danger_version(w: World, case: str, scene: Scene) -> Scene:
    statement = await w.ok("GET", api("assessment", case, f"/statements/{scene['danger_statement']}"), "a statement")
    return {**scene, "danger_statement_version": statement["version"]}


SHARE = {"reason": "Read with Maria and Grandma Rosa"}
EXAMPLES: dict[tuple[str, str, str], Example] = {
    # network
    ("network", "post", "/grants"): Example(bodies=(lambda s: GRANT,)),
    ("network", "post", "/grants/{grant_id}/revoke"): Example(setup=_grant, bodies=(lambda s: {"reason": "Done."},)),
    ("network", "post", "/network/members"): Example(
        setup=_free_person, bodies=(lambda s: {"person_id": s["person"], "circle": "outer"},)
    ),
    ("network", "put", "/network/members/{member_id}"): Example(
        setup=_member, bodies=(lambda s: {"circle": "inner"},), headers=_if_match("network_member_version")
    ),
    # Someone recorded in a case the platform keeps: the body carries no id (the person is new), so only the
    # path's case is checked; the walk's cases are SACWIS's, which answer 409 kept-by-sacwis.
    ("network", "post", "/members"): Example(
        bodies=(lambda s: {"role": "child", "person": {"first_name": "Ana", "last_name": "Lopez"}},),
        headers=lambda s: {"If-Match": '"1"'},
    ),
    ("network", "post", "/network/meetings"): Example(
        bodies=(lambda s: {"held_on": "2026-11-01", "attendee_member_ids": [s["network_member"]]},)
    ),
    # A login is only ended here (bound by the person redeeming an invitation).
    ("network", "put", "/people/{person_id}/principal"): Example(bodies=(lambda s: {"principal_subject": None},)),
    ("network", "post", "/people/{person_id}/login-invitations"): Example(bodies=(lambda s: {"valid_for_days": 7},)),
    # the worker records the family's decision: a harm statement opened to their network
    ("network", "put", "/network/sharing"): Example(
        setup=_setup(_harm_statement, _sharing_version),
        bodies=(lambda s: {"sections": ["every_rater"], "statement_ids": [s["statement"]]},),
        headers=_if_match("network_sharing_version"),
    ),
    ("network", "post", "/network/members/{member_id}/commitments"): Example(
        setup=_member, bodies=(lambda s: {"text": "Calls every evening at 8.", "schedule": "every evening"},)
    ),
    ("network", "post", "/network/commitments/{commitment_id}/withdrawal"): Example(
        setup=_confirmed_commitment,
        bodies=(lambda s: {"reason": "Rosa works nights now."},),
        headers=_if_match("network_commitment_version"),
    ),
    ("network", "post", "/network/commitments/{commitment_id}/decision"): Example(
        setup=_proposed_commitment,
        bodies=(lambda s: {"decision": "declined", "reason": "Let us talk about the nights first."},),
        headers=_if_match("network_commitment_version"),
    ),
    ("network", "post", "/translations/{translation_id}/verify"): Example(
        setup=_setup(_confirmed_commitment, _commitment_translation),
        bodies=(lambda s: {"qualification": "qualified_interpreter", "verified_by": "Ana Ruiz"},),
        user=SUPERVISOR,
    ),
    ("network", "post", "/case-views"): Example(bodies=(lambda s: {"case_ids": [s["case"]]},), user="bulk"),
    ("network", "post", "/case-access"): Example(bodies=(lambda s: {"case_ids": [s["case"]]},), user="bulk"),
    # assessment
    ("assessment", "post", "/statements"): Example(
        bodies=(
            lambda s: {
                **HARM,
                "caregivers": [{"name": "Maria", "person_id": s["caregiver_person"]}],
                "children": [{"name": "Sofia", "person_id": s["person"]}],
            },
        )
    ),
    ("assessment", "patch", "/statements/{statement_id}"): Example(
        setup=_harm_statement,
        bodies=(
            lambda s: {"agrees": ["Grandma Rosa", "Maria"]},
            # a correction of the words names the caregivers and children by their network person ids
            lambda s: {
                "caregivers": [{"name": "Maria", "person_id": s["caregiver_person"]}],
                "children": [{"name": "Sofia", "person_id": s["person"]}],
                "change_reason": "The people named as the network knows them",
            },
        ),
        headers=_if_match("statement_version"),
    ),
    ("assessment", "post", "/statements/{statement_id}/share"): Example(
        setup=_statement, bodies=(lambda s: SHARE,), headers=_if_match("statement_version")
    ),
    ("assessment", "post", "/statements/{statement_id}/translations"): Example(
        setup=_statement,
        bodies=(
            lambda s: {
                "language": "es",
                "text": "La abuela está preocupada.",
                "translated_by": "Lucía Gómez (interpreter)",
            },
        ),
    ),
    ("assessment", "post", "/translations"): Example(
        setup=_child_voice, bodies=(lambda s: {**CHILD_WORDS_ES, "record_id": s["child_voice_record"]},)
    ),
    ("assessment", "post", "/translations/{translation_id}/verify"): Example(
        setup=_setup(_child_voice, _translation),
        bodies=(lambda s: {"qualification": "qualified_interpreter", "verified_by": "Ana Ruiz"},),
        user=SUPERVISOR,
    ),
    ("assessment", "post", "/sdm-assessments"): Example(
        bodies=(
            lambda s: {
                "instrument_key": "safety_assessment",
                "instrument_version": VERSION,
                "answers": DEMO_SAFETY_ANSWERS,
                "children": [{"name": "Sofia", "person_id": s["person"], "answers": {"V1": False}}],
            },
        )
    ),
    ("assessment", "patch", "/sdm-assessments/{assessment_id}"): Example(
        setup=_stage(_sdm, "draft"),
        headers=_if_match("sdm_version"),
        bodies=(lambda s: {"children": [{"name": "Sofia", "person_id": s["person"], "answers": {"V1": False}}]},),
    ),
    ("assessment", "post", "/sdm-assessments/{assessment_id}/complete"): Example(setup=_stage(_sdm, "draft")),
    ("assessment", "post", "/sdm-assessments/{assessment_id}/override"): Example(
        setup=_stage(_sdm, "completed_risk"), bodies=(lambda s: DEMO_RISK_OVERRIDE,)
    ),
    ("assessment", "post", "/sdm-assessments/{assessment_id}/approve"): Example(
        setup=_stage(_sdm, "overridden"),
        user=SUPERVISOR,
        bodies=(lambda s: {"decision": "approve", "comment": "Agreed."},),
    ),
    ("assessment", "post", "/sdm-assessments/{assessment_id}/amend"): Example(setup=_stage(_sdm, "completed")),
    ("assessment", "post", "/child-voice"): Example(
        bodies=(
            lambda s: {
                **DEMO_THREE_HOUSES,
                "child": {"name": "Sofia", "person_id": s["person"]},
                "content": {
                    **DEMO_THREE_HOUSES["content"],
                    "houses": [{"house": "worries", "entries": [{"words": "the dark", "drawing_id": None}]}],
                },
            },
            lambda s: {
                "kind": "safety_house",
                "child": {"name": "Sofia", "person_id": s["person"]},
                "consent": CONSENT,
                "content": {
                    "session_date": "2026-11-20",
                    "drawing_ids": [],
                    "roof_rules": [{"words": "Grandma stays", "safety_plan_rule_id": s["safety_plan_rule"]}],
                },
            },
            lambda s: {
                "kind": "words_and_pictures",
                "child": {"name": "Sofia", "person_id": s["person"]},
                "consent": CONSENT,
                "content": {
                    "pages": [{"text": "Grandma Rosa stays over.", "drawing_id": None}],
                    "written_by": [{"name": "Maria", "person_id": s["caregiver_person"]}],
                    "caregiver_reviews": [{"name": "Maria", "person_id": s["caregiver_person"], "decision": "agreed"}],
                },
            },
        )
    ),
    ("assessment", "patch", "/child-voice/{record_id}"): Example(
        setup=_child_voice, bodies=(lambda s: {"language": "en"},), headers=_if_match("child_voice_version")
    ),
    ("assessment", "post", "/child-voice/{record_id}/attachments"): Example(
        setup=_child_voice, raw=TINY_PNG, headers=lambda s: {"Content-Type": "image/png"}
    ),
    ("assessment", "post", "/maps"): Example(
        bodies=(
            lambda s: {
                **DEMO_MAP_V1,
                "participants": [{"name": "Maria", "role": "mother", "person_id": s["caregiver_person"]}],
                **{
                    column: [
                        {**DEMO_MAP_V1[column][0], "id": None, "source": {"name": "Sofia", "person_id": s["person"]}}
                    ]
                    for column in ("complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas")
                },
            },
        )
    ),
    ("assessment", "put", "/maps/{map_id}"): Example(
        setup=_map, bodies=(_map_save,), headers=lambda s: {"If-Match": '"1"'}
    ),
    ("assessment", "post", "/maps/{map_id}/complete"): Example(
        setup=_setup(_only_complete_dangers, _map), headers=lambda s: {"If-Match": '"1"'}
    ),
    ("assessment", "post", "/maps/{map_id}/share"): Example(
        setup=_map, bodies=(lambda s: SHARE,), headers=lambda s: {"If-Match": '"1"'}
    ),
    ("assessment", "post", "/safety-goals/{goal_id}/share"): Example(
        setup=_setup(_statement, _goal), bodies=(lambda s: SHARE,), headers=_if_match("goal_version")
    ),
    ("assessment", "post", "/safety-goals"): Example(
        setup=_statement, bodies=(lambda s: {**DEMO_SAFETY_GOAL, "danger_statement_id": s["danger_statement"]},)
    ),
    ("assessment", "patch", "/safety-goals/{goal_id}"): Example(
        setup=_setup(_statement, _goal),
        bodies=(lambda s: {"others_will_see": "Rosa sees Maria call."},),
        headers=_if_match("goal_version"),
    ),
    ("assessment", "post", "/scale-ratings"): Example(
        bodies=(
            lambda s: {
                "statement_id": s["statement"],
                "occasion_on": _unique_day(),
                "rater_name": "Maria",
                "rater_person_id": s["caregiver_person"],
                "rater_role": "caregiver",
                "score": 6,
                "mode": "verbal",
            },
        )
    ),
    ("assessment", "post", "/scale-ratings/{rating_id}/withdraw"): Example(
        setup=_rating, bodies=(lambda s: {"reason": "Rated on the wrong statement"},)
    ),
    ("assessment", "post", "/member-scale-ratings"): Example(
        setup=_danger_version,
        user=MEMBER,
        bodies=(
            lambda s: {
                "statement_id": s["danger_statement"],
                "statement_version": s["danger_statement_version"],
                "occasion_on": _unique_day(),
                "score": 6,
                "one_step_up": "Rosa calling every night for a month.",
            },
        ),
    ),
    ("assessment", "post", "/statements/{statement_id}/responses"): Example(
        setup=_danger_version,
        user=MEMBER,
        bodies=(
            lambda s: {"statement_version": s["danger_statement_version"], "stance": "partly", "words": "A veces."},
        ),
    ),
    ("assessment", "post", "/trauma-histories"): Example(
        bodies=(lambda s: {**TRAUMA_HISTORY, "person": {"name": "Maria", "person_id": s["caregiver_person"]}},)
    ),
    ("assessment", "patch", "/trauma-histories/{history_id}"): Example(
        setup=_trauma_history,
        bodies=(lambda s: {"consented_audiences": ["staff", "supervisor"]},),
        headers=_if_match("trauma_history_version"),
    ),
    ("assessment", "post", "/contacts"): Example(
        bodies=(
            lambda s: {
                "contact_on": "2026-11-24",
                "contact_type": "home_visit",
                "with_whom": [{"name": "Maria", "role": "caregiver", "person_id": s["caregiver_person"]}],
                "questions_used": [{"key": "miracle_caregiver", "language": "es"}],
            },
        )
    ),
    ("assessment", "post", "/consultations"): Example(
        bodies=(
            lambda s: {
                "consultation_type": "case_consultation",
                "held_on": "2026-11-21",
                "facilitator": "Ms. Okafor",
                "participants": [{"name": "Ms. Rivera", "role": "worker"}],
                "map_id": s["map"],
            },
        )
    ),
    # the referral is the practice service's (not case-scoped): the practice service checks it when it arrives
    ("assessment", "post", "/consultations/{consultation_id}/coaching"): Example(
        setup=_consultation, bodies=(lambda s: {"referral_id": str(new_id())},)
    ),
    ("assessment", "post", "/approvals"): Example(
        setup=_stage(_sdm, "draft"),
        bodies=(lambda s: {"kind": "sdm_assessment", "subject_id": s["sdm_assessment"], "summary": "Please approve."},),
        # the bare form is for platform services, which name the case in the body
        bare=lambda s: {"case_id": s["case"], "source_service": "plans", "requested_by": WORKER},
    ),
    ("assessment", "post", "/approvals/{approval_id}/decision"): Example(
        setup=_approval,
        user=SUPERVISOR,
        bodies=(lambda s: {"decision": "approved", "comment": "Fine."},),
        headers=_if_match("approval_version"),
    ),
    ("assessment", "post", "/approvals/{approval_id}/resubmit"): Example(
        setup=lambda w, c, s: _approval(w, c, s, returned=True),
        bodies=(lambda s: {"comment": "Added it."},),
        headers=_if_match("approval_version"),
    ),
    ("assessment", "post", "/case-views"): Example(bodies=(lambda s: {"case_ids": [s["case"]]},), user="bulk"),
    # plans
    ("plans", "post", "/safety-plans"): Example(
        setup=_setup(_stage(_sdm, "completed"), _confirmed_commitment, _known_trigger), bodies=(_plan_create,)
    ),
    ("plans", "patch", "/safety-plans/{plan_id}"): Example(
        setup=_setup(_stage(_sdm, "completed"), _stage(_plan, "draft"), _confirmed_commitment, _known_trigger),
        bodies=(_plan_edit,),
        headers=lambda s: {"If-Match": f'"{s["plan"]["version"]}"'},
    ),
    ("plans", "post", "/safety-plans/{plan_id}/signatures"): Example(
        setup=_stage(_plan, "draft"),
        bodies=(
            lambda s: {
                "version_number": s["plan"]["current_version_number"],
                "content_hash": s["plan"]["content_hash"],
                "participant_id": s["plan_participant"],
                "signer_person_id": s["caregiver_person"],
                "signer_name": s["plan"]["participants"][0]["name"],
                "signer_role": s["plan"]["participants"][0]["role"],
                "method": "click",
                "affirmation": "I agree.",
            },
        ),
    ),
    ("plans", "post", "/safety-plans/{plan_id}/submit"): Example(
        setup=_stage(_plan, "signed"), bodies=(lambda s: {"supervisor": SUPERVISOR},)
    ),
    ("plans", "post", "/safety-plans/{plan_id}/approve"): Example(
        setup=_stage(_plan, "pending"),
        user=SUPERVISOR,
        bodies=(
            lambda s: {
                "version_number": s["plan"]["current_version_number"],
                "content_hash": s["plan"]["content_hash"],
                "decision": "approved",
            },
        ),
    ),
    ("plans", "post", "/safety-plans/{plan_id}/activate"): Example(
        setup=_stage(_plan, "approved"), bodies=(lambda s: {},)
    ),
    ("plans", "post", "/safety-plans/{plan_id}/terminate"): Example(
        setup=_stage(_plan, "active"), bodies=(lambda s: {"reason": "The family moved."},)
    ),
    ("plans", "post", "/safety-plans/{plan_id}/reviews"): Example(
        setup=_stage(_plan, "active"), bodies=(lambda s: {"note": "Reviewed with Maria."},)
    ),
    ("plans", "post", "/safety-plans/{plan_id}/check-ins"): Example(
        setup=_stage(_plan, "active"),
        bodies=(
            lambda s: {
                "rule_id": s["safety_plan_rule"],
                "reported_by": {"name": "Rosa", "person_id": s["person"]},
                "kept": True,
            },
        ),
    ),
    ("plans", "post", "/translations"): Example(
        setup=_stage(_plan, "active"), bodies=(lambda s: {**RULE_ES, "record_id": s["safety_plan_rule"]},)
    ),
    ("plans", "post", "/translations/{translation_id}/verify"): Example(
        setup=_setup(_stage(_plan, "active"), _plan_translation),
        bodies=(lambda s: {"qualification": "qualified_interpreter", "verified_by": "Ana Ruiz"},),
        user=SUPERVISOR,
    ),
    ("plans", "post", "/next-steps"): Example(bodies=(next_step_body,)),
    # a family member, as herself (the person is her token's; the ids she sends are the plan's and the rule's)
    ("plans", "post", "/safety-plans/{plan_id}/member-signatures"): Example(
        setup=_stage(_plan, "draft"),
        user=MEMBER,
        bodies=(
            lambda s: {
                "version_number": s["plan"]["current_version_number"],
                "content_hash": s["plan"]["content_hash"],
                "decision": "refused",
                "refusal_reason": "Quiero hablarlo con mi madre primero.",
            },
        ),
    ),
    ("plans", "post", "/safety-plans/{plan_id}/member-check-ins"): Example(
        setup=_plan_maria_watches,
        user=MEMBER,
        bodies=(
            lambda s: {
                "version_number": s["plan"]["current_version_number"],
                "rule_id": s["safety_plan_rule"],
                "kept": False,
                "note": "No contestó a las 8.",
            },
        ),
    ),
    ("plans", "patch", "/next-steps/{step_id}"): Example(
        setup=_next_step,
        headers=_if_match("next_step_version"),
        bodies=(
            lambda s: {"owner": {"name": "Maria", "person_id": s["caregiver_person"]}, "goal_id": s["safety_goal"]},
        ),
    ),
    ("plans", "post", "/case-views"): Example(bodies=(lambda s: {"case_ids": [s["case"]]},), user="bulk"),
}

# Requests whose (a) cannot succeed, so (b) and (c) are compared but the field counts as unverified.
UNVERIFIABLE: dict[tuple[str, str, str, str], str] = {
    # A drawing is uploaded to a record that exists: a new record has none its content could name.
    **{
        ("assessment", "post", "/child-voice", name): "a new child-voice record has no drawings yet"
        for name in ("content.houses[].entries[].drawing_id", "content.drawing_ids[]", "content.pages[].drawing_id")
    },
    # A new map has no items yet: any item id is unknown on create (the service refuses each alike).
    **{
        ("assessment", "post", "/maps", f"{column}[].id"): "a new map has no items an id could name"
        for column in ("complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas")
    },
}


# --- sending one request three ways --------------------------------------------------------------------


class NoPlace(Exception):
    """The example body has nowhere to put this field (the table needs a body that has it)."""


def place(body: Any, name: str, value: str) -> Any:
    """A copy of `body` with the field at dotted `name` ("a[].b", "ids[]") set to `value` (in a list: the first
    item; a list of ids: replaced by [value])."""
    body = copy.deepcopy(body)
    parts = name.split(".")
    node = body
    for i, part in enumerate(parts):
        key, lists = part.rstrip("[]"), part.count("[]")
        last = i == len(parts) - 1
        if not isinstance(node, dict):
            raise NoPlace(name)
        if last:
            if key not in node:  # the example must hold the field (null or empty is fine): a typo never passes
                raise NoPlace(name)
            node[key] = [value] if lists else value
            return body
        if key not in node:
            raise NoPlace(name)
        node = node[key]
        for _ in range(lists):
            if not isinstance(node, list) or not node:
                raise NoPlace(name)
            node = node[0]
    return body


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    text: str
    problem_json: bool = True  # a REST refusal is application/problem+json (GraphQL answers with errors)

    @property
    def refused(self) -> bool:
        return 400 <= self.status < 500


def _scrub(value: Any) -> Any:
    """What differs between any two requests taken out: request ids, instance paths, and the ids sent."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in ("request_id", "requestId", "instance", "trace_id")}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", value)
    return value


def _answer(response: httpx.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Answer(
        response.status_code,
        _scrub(body),
        response.text[:300],
        response.headers.get("content-type", "").startswith("application/problem+json"),
    )


@dataclass
class Check:
    operation: Operation
    field: IdField
    outcome: str = ""  # "refused alike", "hole", "unverified", "not case-scoped"
    detail: str = ""
    verified: bool = False


async def _send(
    w: World, op: Operation, example: Example, scene: Scene, field_: IdField | None, value: str | None
) -> Answer:
    case = scene["case"]
    path_values: dict[str, str] = {}
    params: dict[str, str] = {}
    for name in re.findall(r"{(\w+)}", op.path):
        kind = next((f.kind for f in op.fields if f.location == "path" and f.name == name), None)
        path_values[name] = case if name == "case_id" else str(scene[kind])
    if field_ is not None and field_.location == "path":
        path_values[field_.name] = value  # type: ignore[assignment]
    if field_ is not None and field_.location == "query":
        params[field_.name] = value  # type: ignore[assignment]
    path = op.path.format(**path_values)
    headers = example.headers(scene) if example.headers else {}
    kwargs: dict[str, Any] = {"params": params or None}
    if example.raw is not None:
        kwargs["content"] = example.raw
    elif example.bodies:
        body = None
        for make in example.bodies:
            candidate = make(scene)
            if example.bare and not op.case_form:
                candidate = {**candidate, **example.bare(scene)}
            if field_ is None or field_.location != "body":
                body = candidate
                break
            try:
                body = place(candidate, field_.name, value)  # type: ignore[arg-type]
                break
            except NoPlace:
                continue
        if body is None:
            raise NoPlace(f"{op}: no example body has a place for {field_}")
        kwargs["content"] = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    if op.case_form and example.user != "bulk":
        # Through the gateway's REST façade, as a client calls it.
        response = await w.call(
            op.method.upper(), f"/api/{op.service}{path}", user=example.user, headers=headers, **kwargs
        )
    else:
        # A route outside /v1/cases/{case_id}: straight to the service, with the token the gateway mints for a
        # request about case A (bulk reads: the caseload token over the cases asked for).
        if example.user == "bulk":
            principal = (await w.principal(WORKER, case)).scoped_to_cases([uuid.UUID(case)])
        elif op.path == "/v1/approvals":
            # Platform services file approvals here (approvals:request); held to case A like every caller.
            principal = Principal(
                "sop-plans",
                ActorType.integration,
                scopes=frozenset({"approvals:request"}),
                client_id="sop-plans",
                case_id=uuid.UUID(case),
            )
        else:
            principal = await w.principal(example.user, case)
        response = await w.as_service(op.service, op.method.upper(), path, principal, headers=headers, **kwargs)
    return _answer(response)


async def check_field(w: World, op: Operation, field_: IdField, example: Example) -> Check:
    check = Check(op, field_)
    if field_.not_case_scoped:
        check.outcome, check.detail = "not case-scoped", field_.not_case_scoped
        return check
    assert field_.kind is not None
    kind = scene_key(field_)
    scene_b, scene_a = await _scenes(w, op, example)
    foreign = str(scene_b[kind])
    random_id = str(new_id())
    # (b) and (c) side by side: each refused id waits out the services' grace for an event, and one after the
    # other the walk's ~300 refusals take a minute. Refused, neither consumes what the other names.
    b, c = await asyncio.gather(
        _send(w, op, example, scene_a, field_, foreign), _send(w, op, example, scene_a, field_, random_id)
    )
    if not b.refused:  # what (b) wrote may have moved A's records on (a version, a state): (c) again, on fresh ones
        scene_a = await _scene(w, "A", example)
        c = await _send(w, op, example, scene_a, field_, random_id)
    problems = _compare(w, op, b, c)
    own = await _scene(w, "A", example)
    a = await _send(w, op, example, own, field_, str(own[kind]))
    reason = UNVERIFIABLE.get((op.service, op.method, op.tail, field_.name))
    if field_.location == "query" and a.status == 400 and "unknown query parameter" in a.text:
        reason = f"the schema lists this query parameter but the route refuses it: {a.text[:160]}"
    check.verified = a.status < 400
    if problems:
        check.outcome, check.detail = "hole", "; ".join(problems)
    elif reason:
        check.outcome, check.detail = "unverified", reason
    elif not check.verified:
        check.outcome = "unverified"
        check.detail = f"the request with case A's own id failed too ({a.status}: {a.text[:200]})"
    else:
        check.outcome = "refused alike"
    return check


async def _scenes(w: World, op: Any, example: Example) -> tuple[Scene, Scene]:
    """Case B's records for this operation, and case A's that (b) and (c) are sent about: made once per
    operation, since a refused request consumes nothing (after a hole, A's are made afresh)."""
    if op not in w.foreign:
        w.foreign[op] = await _scene(w, "B", example)
    if op not in w.target:
        w.target[op] = await _scene(w, "A", example)
    return w.foreign[op], w.target[op]


def _compare(w: World, op: Any, b: Answer, c: Answer) -> list[str]:
    problems = []
    if not b.refused:
        problems.append(f"case B's id accepted ({b.status})")
    if not c.refused:
        problems.append(f"a random id accepted ({c.status})")
    if b.refused and c.refused and (b.status, b.body) != (c.status, c.body):
        problems.append(
            f"case B's id answers {b.status} {json.dumps(b.body)[:200]}, a random id answers "
            f"{c.status} {json.dumps(c.body)[:200]}"
        )
    elif not (b.refused and c.refused):
        problems.append(f"answer: {(b if not b.refused else c).text[:200]}")
    elif not b.problem_json:
        problems.append(f"the refusal is not application/problem+json: {b.text[:200]}")
    if not (b.refused and c.refused):
        w.target.pop(op, None)  # what was accepted may have changed A's records
    return problems


async def _scene(w: World, label: str, example: Example) -> Scene:
    scene = dict(w.base[label])
    return await example.setup(w, w.cases[label], scene) if example.setup else scene


# --- the walk ------------------------------------------------------------------------------------------


def all_operations(w: World) -> list[Operation]:
    found: list[Operation] = []
    for name, app in w.system.services.items():
        listed = operations(name, app.openapi())
        found += listed + hidden_case_forms(name, app, listed)
    return found


def _is_boundary(op: Operation, f: IdField) -> bool:
    """The path's own case id is the case the request is for: the boundary, not an id held to it."""
    return op.case_form and f.location == "path" and f.name == "case_id"


async def test_every_id_field_is_classified(world: World) -> None:
    """A new id field with no marker and no entry in boundary_support's table fails here, by name."""
    ops = all_operations(world)
    fields = [(op, f) for op in ops for f in op.fields]
    marked = [(op, f) for op, f in fields if f.marked]
    print(
        f"\nid fields: {len(fields)}, {len(marked)} marked in the schema (x-sop-case-ref / x-sop-not-case-scoped), "
        f"{len(fields) - len(marked)} classified by name"
    )
    for op, f in marked:
        if (f.kind or "not case-scoped") != f.table_says:  # worth a look: the marker or the table is wrong
            print(
                f"  marker and name table differ: {op}  {f}: marked {f.kind or f.not_case_scoped!r}, "
                f"table {f.table_says!r}"
            )
    unknown = [f"{op}  {f}" for op, f in fields if f.kind is None and f.not_case_scoped is None]
    assert not unknown, (
        "id fields of unknown kind (mark them with x-sop-case-ref or x-sop-not-case-scoped, or "
        "add them to boundary_support.KIND_BY_NAME):\n  " + "\n  ".join(unknown)
    )


# The walk sends about 1,600 requests (75 s on an idle machine); a loaded, shared machine may take several times
# that, so it gets more than the suite's 300 s before pytest-timeout calls it hung.
@pytest.mark.timeout(900)
async def test_ids_from_another_case_are_refused_like_random_ones(world: World) -> None:
    started, sent_before = time.monotonic(), world.requests
    checks: list[Check] = []
    missing_examples: list[str] = []
    ops = all_operations(world)
    for op in ops:
        fields = [f for f in op.fields if not _is_boundary(op, f) and (f.kind or f.not_case_scoped)]
        if not fields:
            continue
        if all(f.not_case_scoped for f in fields):
            checks += [Check(op, f, "not case-scoped", f.not_case_scoped or "") for f in fields]
            continue
        example = EXAMPLES.get((op.service, op.method, op.tail))
        if example is None:
            missing_examples.append(str(op))
            continue
        for f in fields:
            try:
                checks.append(await check_field(world, op, f, example))
            except NoPlace as exc:
                missing_examples.append(str(exc))
            except KeyError as exc:
                missing_examples.append(f"{op}  {f}: the example's records have no {exc}")
            except AssertionError as exc:  # the example's fresh records could not be made
                missing_examples.append(f"{op}  {f}: {str(exc).splitlines()[0][:300]}")
            except Exception as exc:  # a request that crashed in the app: listed, and the walk goes on
                missing_examples.append(f"{op}  {f}: crashed: {type(exc).__name__}: {str(exc)[:200]}")
    checks += await graphql_checks(world)
    _report(world, ops, checks, missing_examples, time.monotonic() - started, world.requests - sent_before)
    # The walk itself must have found something everywhere: a walker broken by a schema change finds nothing.
    held = [c for c in checks if c.outcome != "not case-scoped"]
    # (the practice service holds no case record: its ids are about people, each marked not case-scoped)
    caseless = {"practice"}
    assert {c.operation.service for c in held if isinstance(c.operation, Operation)} == set(
        world.system.services
    ) - caseless
    assert {"path", "query", "body", "input"} <= {c.field.location for c in held}
    holes = [c for c in checks if c.outcome == "hole"]
    message = []
    if holes:
        message.append(
            f"{len(holes)} id fields let a request for case A carry case B's record (or tell it "
            "apart from a random id):"
        )
        message += [f"  {c.operation}  {c.field} [{c.field.kind}]: {c.detail}" for c in holes]
    if missing_examples:
        message.append("id fields not checked: no valid example request (add one to EXAMPLES), or it crashed:")
        message += [f"  {m}" for m in missing_examples]
    assert not message, "\n".join(message)


def _report(
    w: World, ops: list[Operation], checks: list[Check], missing: list[str], seconds: float, requests: int
) -> None:
    held = [c for c in checks if c.outcome != "not case-scoped"]
    rest = [c for c in held if not isinstance(c.operation, GraphQLOperation)]
    graphql = [c for c in held if isinstance(c.operation, GraphQLOperation)]
    by_location = Counter(c.field.location for c in held)
    outcomes = Counter(c.outcome for c in checks)
    print(
        f"\ncase boundary: {len(ops)} REST write operations ({sum(1 for o in ops if not o.in_schema)} served "
        f"outside the schema), {len({c.operation for c in rest})} with ids held to a case; "
        f"{len({c.operation for c in graphql})} GraphQL mutations with ids"
    )
    print(
        f"  id fields checked: {len(held)} (REST {len(rest)}, GraphQL {len(graphql)}; by location: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(by_location.items()))}); "
        f"not case-scoped (skipped, with a reason): {outcomes['not case-scoped']}"
    )
    print(
        f"  verified (case A's own id succeeded): {sum(1 for c in held if c.verified)} of {len(held)}; "
        f"refused alike {outcomes['refused alike']}, holes {outcomes['hole']}, unverified "
        f"{outcomes['unverified']}; {requests} requests in {seconds:.1f} s"
    )
    for c in checks:
        if c.outcome in ("hole", "unverified"):
            print(f"  {c.outcome.upper():10} {c.operation}  {c.field} [{c.field.kind}]: {c.detail[:300]}")
    for m in missing:
        print(f"  NO EXAMPLE {m}")


# --- GraphQL -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphQLOperation:
    name: str

    def __str__(self) -> str:
        return f"graphql {self.name}"


CASE_PREFIX = "/v1/cases/{case_id}"
USER_ERROR_STATUS = {
    "NOT_FOUND": 404,
    "INVALID": 422,
    "CONFLICT": 409,
    "VERSION_CONFLICT": 412,
    "VERSION_REQUIRED": 428,
}
TOP_ERROR_STATUS = {"NOT_FOUND": 404, "FORBIDDEN": 403, "BAD_USER_INPUT": 422, "CONFLICT": 409}


def _camel_name(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m[1].upper(), name)


def _as_input(value: Any, type_name: str | None, inputs: dict[str, dict[str, dict[str, Any]]]) -> Any:
    """A REST body as the GraphQL input it is derived from: keys of input objects in camelCase, enum values
    upper-cased, JSON fields (answers, anchors) left exactly as they are."""
    if isinstance(value, list):
        return [_as_input(v, type_name, inputs) for v in value]
    fields = inputs.get(type_name or "")
    if fields is not None and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = _camel_name(key)
            kind, named = fields.get(name, {}).get("kind"), fields.get(name, {}).get("name")
            if kind == "ENUM":
                out[name] = [v.upper() for v in item] if isinstance(item, list) else item.upper()
            else:
                out[name] = _as_input(item, named if kind == "INPUT_OBJECT" else None, inputs)
        return out
    return value


def _graphql_example(spec: Any, bodies: tuple[Callable[[Scene], Any], ...]) -> Callable[[Scene], Any] | None:
    """The example body for a mutation: for one kind of a `oneOf` body, the body of that kind."""
    if spec.variant is None:
        return bodies[0] if bodies else None

    def of_kind(scene: Scene) -> Any:
        return next(body for body in (make(scene) for make in bodies) if body.get("kind") == spec.variant)

    return of_kind


async def graphql_checks(w: World) -> list[Check]:
    """Every mutation is derived from one service route (MUTATIONS), so its example is that route's: the body
    as the input's fields, the route's ids and `If-Match` version beside them."""
    from sop_gateway.graphql.mutations import MUTATIONS

    response = await w.system.graphql(INTROSPECT_MUTATIONS, user=WORKER)
    introspection = response.json()["data"]
    inputs: dict[str, dict[str, dict[str, Any]]] = {}
    for t in introspection["__schema"]["types"]:
        if t["kind"] == "INPUT_OBJECT":
            inputs[t["name"]] = {}
            for f in t["inputFields"]:
                ref = f["type"]
                while ref.get("ofType") is not None:
                    ref = ref["ofType"]
                inputs[t["name"]][f["name"]] = {"kind": ref["kind"], "name": ref["name"]}
    specs = {spec.name: spec for spec in MUTATIONS}
    checks: list[Check] = []
    for mutation in mutations(introspection):
        op = GraphQLOperation(mutation.name)
        fields = [f for f in mutation.fields if f.name != "input.caseId"]
        for f in [f for f in fields if (mutation.name, f.name) in NOT_CASE_SCOPED_IN_GRAPHQL]:
            reason = NOT_CASE_SCOPED_IN_GRAPHQL[(mutation.name, f.name)]
            checks.append(Check(op, IdField(f.location, f.name, None, reason), "not case-scoped", reason))  # type: ignore[arg-type]
            fields.remove(f)
        spec = specs.get(mutation.name)
        if spec is None or not spec.path.startswith(CASE_PREFIX):
            continue  # not about one case (a SACWIS upsert)
        route = (spec.service, spec.method.lower(), spec.path.removeprefix(CASE_PREFIX))
        if route not in EXAMPLES:
            checks += [Check(op, f, "hole", f"no example for {route}: add it to EXAMPLES") for f in fields]  # type: ignore[arg-type]
            continue
        example = EXAMPLES[route]
        family = spec.path.removeprefix(CASE_PREFIX).split("/")[1]
        input_type = f"{mutation.name[0].upper()}{mutation.name[1:]}Input"
        make_body = _graphql_example(spec, example.bodies)
        selection = "userErrors { field message code }"
        document = f"mutation($input: {input_type}!) {{ {mutation.name}(input: $input) {{ {selection} }} }}"

        async def send(
            scene: Scene,
            f: IdField,
            value: str | None,
            *,
            spec: Any = spec,
            example: Example = example,
            make_body: Any = make_body,
            input_type: str = input_type,
            document: str = document,
        ) -> Answer:
            body = copy.deepcopy(make_body(scene)) if make_body else {}
            if spec.variant:
                body.pop("kind", None)
            fields_in = _as_input(body, input_type, inputs)
            for name in re.findall(r"{(\w+)}", spec.path):
                kind = KIND_BY_NAME[name]
                fields_in[_camel_name(name)] = scene["case"] if name == "case_id" else str(scene[kind])
            if_match = (example.headers(scene) if example.headers else {}).get("If-Match")
            if if_match and "expectedVersion" in inputs[input_type]:
                fields_in["expectedVersion"] = int(if_match.strip('"'))
            variables = {"input": fields_in}
            if value is not None:
                variables = place(variables, f.name, value)
            result = await w.system.graphql(document, variables, user=example.user)
            w.requests += 1
            answer = result.json()
            errors = answer.get("errors") or []
            if errors:
                code = errors[0].get("extensions", {}).get("code")
                return Answer(TOP_ERROR_STATUS.get(code, 500), _scrub(errors), json.dumps(errors)[:300])
            user_errors = next(iter(answer["data"].values()))["userErrors"]
            if user_errors:
                status = USER_ERROR_STATUS.get(user_errors[0]["code"], 500)
                return Answer(status, _scrub(user_errors), json.dumps(user_errors)[:300])
            return Answer(200, None, "no errors")

        for f in fields:
            kind_known = f.kind or (
                KIND_OF_ITEM_ID.get((family, _snake(f.name.split(".")[-2].removesuffix("[]"))))
                if f.name.endswith(".id") and len(f.name.split(".")) > 2
                else None
            )
            f = IdField(f.location, f.name, kind_known) if kind_known != f.kind else f
            check = Check(op, f)  # type: ignore[arg-type]
            kind = scene_key(IdField(f.location, _snake(f.name.removeprefix("input.")), f.kind)) if f.kind else None
            if kind is None:
                check.outcome, check.detail = "hole", "an ID of unknown kind (add it to KIND_BY_NAME)"
                checks.append(check)
                continue
            scene_b, scene_a = await _scenes(w, op, example)
            try:
                b, c = await asyncio.gather(send(scene_a, f, str(scene_b[kind])), send(scene_a, f, str(new_id())))
                if not b.refused:  # as in check_field: (c) again, on fresh records
                    scene_a = await _scene(w, "A", example)
                    c = await send(scene_a, f, str(new_id()))
                a = await send(await _scene(w, "A", example), f, None)
            except NoPlace:
                check.outcome, check.detail = "unverified", "the example variables have no place for it"
                checks.append(check)
                continue
            problems = _compare(w, op, b, c)
            check.verified = a.status == 200
            if problems:
                check.outcome, check.detail = "hole", "; ".join(problems)
            elif not check.verified:
                check.outcome, check.detail = "unverified", f"case A's own id failed too: {a.text[:200]}"
            else:
                check.outcome = "refused alike"
            checks.append(check)
    return checks
