"""The workflow mutations on the demo family, through the embedded gateway: each writes through the service's
case-scoped route; stale versions, repeated idempotency keys and bad input come back as named GraphQL errors
with nothing changed; callers off the case cannot tell it exists; every write is audited at the edge."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from sop_gateway.demo.assessment_sdm import DEMO_SAFETY_ANSWERS, DEMO_SAFETY_CHILDREN

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

CREATE_STATEMENT = """mutation($case: ID!, $input: StatementInput!, $key: String) {
  createStatement(caseId: $case, input: $input, idempotencyKey: $key) { id kind status text version } }"""
UPDATE_STATEMENT = """mutation($case: ID!, $id: ID!, $input: StatementUpdateInput!, $v: Int) {
  updateStatement(caseId: $case, statementId: $id, input: $input, expectedVersion: $v) { id status version } }"""
SAVE_MAP = """mutation($case: ID!, $map: ID, $input: MapInput!, $v: Int, $key: String) {
  saveMap(caseId: $case, mapId: $map, input: $input, expectedVersion: $v, idempotencyKey: $key) {
    id version status json } }"""
RATE = """mutation($case: ID!, $input: ScaleRatingInput!, $key: String) {
  rateSafetyScale(caseId: $case, input: $input, idempotencyKey: $key) { id json } }"""
START_SDM = """mutation($case: ID!, $input: SdmAssessmentInput!, $key: String) {
  startSdmAssessment(caseId: $case, input: $input, idempotencyKey: $key) { id version status } }"""
COMPLETE_SDM = """mutation($case: ID!, $id: ID!, $v: Int) {
  completeSdmAssessment(caseId: $case, assessmentId: $id, expectedVersion: $v) { id version status json } }"""
CREATE_PLAN = """mutation($case: ID!, $input: SafetyPlanInput!, $key: String) {
  createSafetyPlan(caseId: $case, input: $input, idempotencyKey: $key) {
    version plan { id status versionNumber contentHash rules { text } } } }"""
SUBMIT_PLAN = """mutation($case: ID!, $plan: ID!, $v: Int) {
  submitSafetyPlan(caseId: $case, planId: $plan, supervisor: "sup.okafor", expectedVersion: $v) {
    version plan { status } } }"""
APPROVE_PLAN = """mutation($case: ID!, $plan: ID!, $input: PlanApprovalInput!, $v: Int) {
  approveSafetyPlan(caseId: $case, planId: $plan, input: $input, expectedVersion: $v) { version plan { status } } }"""
SIGN_PLAN = """mutation($case: ID!, $plan: ID!, $input: SignatureInput!, $key: String) {
  signSafetyPlan(caseId: $case, planId: $plan, input: $input, idempotencyKey: $key) { id json } }"""
ADD_MEMBER = """mutation($case: ID!, $input: NetworkMemberInput!, $key: String) {
  addNetworkMember(caseId: $case, input: $input, idempotencyKey: $key) { id version json } }"""
CHECK_IN = """mutation($case: ID!, $plan: ID!, $input: CheckInInput!, $key: String) {
  recordCheckIn(caseId: $case, planId: $plan, input: $input, idempotencyKey: $key) { id json } }"""

HARM = {
    "kind": "HARM",
    "whoReported": "A neighbour",
    "caregivers": [{"name": "Maria"}],
    "actionOrInaction": "left Sofia and Mateo alone overnight",
    "whenOrHowOften": "twice in October",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "impactOnChild": "they were scared and hungry",
}
PLAN = {
    "planType": "IMMEDIATE",
    "title": "Nights at Grandma Rosa's while Maria is in treatment",
    "threatCodes": ["T4"],
    "participants": [{"name": "Maria Lopez", "role": "CAREGIVER"}],
    "rules": [
        {
            "text": "Sofia and Mateo sleep at Rosa's house every night this week.",
            "threatCode": "T4",
            "responsible": [{"name": "Rosa Delgado"}],
            "monitors": [{"name": "Rosa Delgado"}],
        }
    ],
    "details": {"backup_plan": "Maria calls Ms. Rivera's on-call line."},
}


async def _run(system: EmbeddedSystem, query: str, user: str = "fsw.rivera", **variables: Any) -> dict[str, Any]:
    response = await system.graphql(query, variables, user=user)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body["errors"]
    return next(iter(body["data"].values()))


def _error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    [error] = body["errors"]
    return error["extensions"]  # type: ignore[no-any-return]


async def _rest(system: EmbeddedSystem, path: str, user: str = "fsw.rivera", **params: Any) -> Any:
    response = await system.client.get(path, params=params, headers=system.bearer(user))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.sqlite_smoke
async def test_statements_created_once_per_key_and_updated_only_from_the_current_version(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    case = str(demo_case)
    first = _data(await _run(system, CREATE_STATEMENT, case=case, input=HARM, key="gql-harm-1"))
    again = _data(await _run(system, CREATE_STATEMENT, case=case, input=HARM, key="gql-harm-1"))
    assert first["id"] == again["id"] and first["kind"] == "HARM" and first["version"] == 1
    assert first["text"].startswith("A neighbour")
    harm = await _rest(system, f"/api/assessment/v1/cases/{case}/statements", kind="harm")
    assert [s["id"] for s in harm["items"]] == [first["id"]]
    reused = _error(
        await _run(system, CREATE_STATEMENT, case=case, input={**HARM, "whenOrHowOften": "once"}, key="gql-harm-1")
    )
    assert reused["code"] == "BAD_USER_INPUT" and reused["fields"][0]["field"] == "Idempotency-Key"

    stale = _error(await _run(system, UPDATE_STATEMENT, case=case, id=first["id"], input={"status": "RESOLVED"}, v=7))
    assert stale == {"code": "VERSION_CONFLICT", "currentVersion": 1}
    required = _error(await _run(system, UPDATE_STATEMENT, case=case, id=first["id"], input={"status": "RESOLVED"}))
    assert required["code"] == "VERSION_REQUIRED"
    unchanged = await _rest(system, f"/api/assessment/v1/cases/{case}/statements", kind="harm")
    assert unchanged["items"][0]["status"] == "active" and unchanged["items"][0]["version"] == 1
    resolved = _data(await _run(system, UPDATE_STATEMENT, case=case, id=first["id"], input={"status": "RESOLVED"}, v=1))
    assert resolved == {"id": first["id"], "status": "RESOLVED", "version": 2}

    bad = _error(await _run(system, CREATE_STATEMENT, case=case, input={**HARM, "threatCodes": ["not a code!"]}))
    assert bad["code"] == "BAD_USER_INPUT"
    assert any(f["field"].startswith("threat_codes") for f in bad["fields"])

    rows = [r for r in await system.audit_rows() if r.resource == "assessment:statement"]
    assert [(r.action, r.case_id, r.actor_subject) for r in rows][:2] == [
        ("create", demo_case, "fsw.rivera"),
        ("create", demo_case, "fsw.rivera"),
    ]
    assert rows[0].resource_id == first["id"]
    assert (await system.verify_audit_chain()).intact


async def test_ids_are_checked_before_anything_is_called(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    case = str(demo_case)
    for variables, field in (
        ({"case": "not-a-case", "input": HARM}, "caseId"),
        (
            {"case": case, "input": {**HARM, "children": [{"name": "Sofia", "personId": "x"}]}},
            "input.children[0].personId",
        ),
    ):
        body = await _run(system, CREATE_STATEMENT, **variables)
        error = _error(body)
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
        assert body["extensions"]["upstreamCalls"] == {}
    body = await _run(system, UPDATE_STATEMENT, case=case, id="../statements", input={"status": "RESOLVED"}, v=1)
    assert _error(body)["field"] == "statementId" and body["extensions"]["upstreamCalls"] == {}
    body = await _run(system, CREATE_STATEMENT, case=case, input=HARM, key="")
    assert _error(body)["field"] == "idempotencyKey" and body["extensions"]["upstreamCalls"] == {}


async def test_callers_off_the_case_cannot_write_or_tell_it_exists_and_a_worker_cannot_approve(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    case = str(demo_case)
    for user in ("fsw.lindqvist", "audit.byrne"):
        denied = await _run(system, CREATE_STATEMENT, user=user, case=case, input=HARM)
        missing = await _run(system, CREATE_STATEMENT, user=user, case=str(uuid.uuid4()), input=HARM)
        assert _error(denied) == _error(missing) == {"code": "NOT_FOUND"}
        assert denied["errors"][0]["message"] == missing["errors"][0]["message"]
        assert denied["extensions"]["upstreamCalls"] == {"network": 1}  # the access decision only
    harm = await _rest(system, f"/api/assessment/v1/cases/{case}/statements", kind="harm")
    assert harm["items"] == []

    plans = await _rest(system, f"/api/plans/v1/cases/{case}/safety-plans")
    plan = plans["items"][0]
    approval = {
        "versionNumber": plan["current_version_number"],
        "contentHash": plan["content_hash"],
        "decision": "APPROVED",
    }
    body = await _run(system, APPROVE_PLAN, case=case, plan=plan["id"], input=approval)
    assert _error(body)["code"] == "FORBIDDEN"
    assert "plans" not in body["extensions"]["upstreamCalls"]


async def test_a_map_is_created_then_saved_from_the_version_read(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    case = str(demo_case)
    created = _data(
        await _run(
            system,
            SAVE_MAP,
            case=case,
            key="gql-map-1",
            input={
                "context": "FAMILY_MEETING",
                "title": "Family meeting, December",
                "content": {"strengths": [{"text": "Rosa comes every evening"}]},
            },
        )
    )
    assert created["version"] == 1 and created["json"]["context"] == "family_meeting"
    replayed = _data(
        await _run(
            system,
            SAVE_MAP,
            case=case,
            key="gql-map-1",
            input={
                "context": "FAMILY_MEETING",
                "title": "Family meeting, December",
                "content": {"strengths": [{"text": "Rosa comes every evening"}]},
            },
        )
    )
    assert replayed["id"] == created["id"]
    content = {"strengths": [{"text": "Rosa comes every evening"}, {"text": "Maria went to two AA meetings"}]}
    stale = await _run(system, SAVE_MAP, case=case, map=created["id"], v=5, input={"content": content})
    assert _error(stale) == {"code": "VERSION_CONFLICT", "currentVersion": 1}
    saved = _data(
        await _run(
            system, SAVE_MAP, case=case, map=created["id"], v=1, input={"content": content, "changeNote": "AA meetings"}
        )
    )
    assert saved["version"] == 2
    assert [s["text"] for s in saved["json"]["content"]["strengths"]][-1] == "Maria went to two AA meetings"
    moved = await _run(
        system, SAVE_MAP, case=case, map=created["id"], v=2, input={"context": "SUPERVISION", "content": content}
    )
    assert _error(moved)["field"] == "input.context"
    bad = await _run(
        system, SAVE_MAP, case=case, map=created["id"], v=2, input={"content": {"strengths": [{"text": ""}]}}
    )
    assert _error(bad)["code"] == "BAD_USER_INPUT"
    assert _error(bad)["fields"][0]["field"].startswith("strengths")


@pytest.mark.sqlite_smoke("services' relays feeding each other on SQLite")
async def test_a_rating_and_an_sdm_assessment_from_draft_to_completed(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    case = str(demo_case)
    rating = {
        "occasionOn": "2026-12-01",
        "occasion": "home visit",
        "raterName": "Maria Lopez",
        "raterRole": "CAREGIVER",
        "score": 6,
        "oneStepUp": "Rosa stays over on weekends too",
    }
    first = _data(await _run(system, RATE, case=case, input=rating, key="gql-rating-1"))
    again = _data(await _run(system, RATE, case=case, input=rating, key="gql-rating-1"))
    assert first["id"] == again["id"] and first["json"]["score"] == 6
    out_of_scale = _error(await _run(system, RATE, case=case, input={**rating, "score": 11}))
    assert out_of_scale["code"] == "BAD_USER_INPUT" and out_of_scale["fields"][0]["field"] == "score"

    draft = _data(
        await _run(
            system,
            START_SDM,
            case=case,
            key="gql-sdm-1",
            input={
                "instrumentKey": "safety_assessment",
                "instrumentVersion": "illustrative-1",
                "answers": DEMO_SAFETY_ANSWERS,
                "children": DEMO_SAFETY_CHILDREN,
                "anchors": {"first_contact": "2026-12-01T16:00:00+00:00"},
            },
        )
    )
    assert draft["status"] == "draft"
    stale = await _run(system, COMPLETE_SDM, case=case, id=draft["id"], v=draft["version"] + 3)
    assert _error(stale)["code"] == "VERSION_CONFLICT"
    completed = _data(await _run(system, COMPLETE_SDM, case=case, id=draft["id"], v=draft["version"]))
    assert completed["status"] == "completed" and completed["json"]["results"]


@pytest.mark.sqlite_smoke("services' relays feeding each other on SQLite")
async def test_a_safety_plan_from_draft_to_approved_signed_and_checked_in(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    case = str(demo_case)
    created = _data(await _run(system, CREATE_PLAN, case=case, input=PLAN, key="gql-plan-1"))
    replayed = _data(await _run(system, CREATE_PLAN, case=case, input=PLAN, key="gql-plan-1"))
    plan = created["plan"]
    assert replayed["plan"]["id"] == plan["id"] and plan["status"] == "DRAFT" and created["version"] == 1
    no_rules = _error(await _run(system, CREATE_PLAN, case=case, input={**PLAN, "rules": []}))
    assert no_rules["code"] == "BAD_USER_INPUT" and no_rules["fields"][0]["field"] == "rules"

    participant = (await _rest(system, f"/api/plans/v1/cases/{case}/safety-plans/{plan['id']}"))["participants"][0]
    signature = {
        "versionNumber": plan["versionNumber"],
        "contentHash": plan["contentHash"],
        "participantId": participant["id"],
        "signerName": "Maria Lopez",
        "signerRole": "CAREGIVER",
        "method": "TYPED_NAME",
        "typedName": "Maria Lopez",
        "affirmation": "Estoy de acuerdo.",
    }
    signed = _data(await _run(system, SIGN_PLAN, case=case, plan=plan["id"], input=signature, key="gql-sign-1"))
    again = _data(await _run(system, SIGN_PLAN, case=case, plan=plan["id"], input=signature, key="gql-sign-1"))
    assert signed["id"] == again["id"] and signed["json"]["decision"] == "signed"

    stale = await _run(system, SUBMIT_PLAN, case=case, plan=plan["id"], v=9)
    assert _error(stale)["code"] == "VERSION_CONFLICT"
    current = await _rest(system, f"/api/plans/v1/cases/{case}/safety-plans/{plan['id']}")
    assert current["status"] == "draft"
    submitted = _data(await _run(system, SUBMIT_PLAN, case=case, plan=plan["id"], v=current["version"]))
    assert submitted["plan"]["status"] == "PENDING_APPROVAL"
    approval = {
        "versionNumber": plan["versionNumber"],
        "contentHash": plan["contentHash"],
        "decision": "APPROVED",
        "comment": "Clear and in the family's words.",
    }
    approved = _data(
        await _run(
            system, APPROVE_PLAN, user="sup.okafor", case=case, plan=plan["id"], input=approval, v=submitted["version"]
        )
    )
    assert approved["plan"]["status"] == "APPROVED"
    decided = [r for r in await system.audit_rows() if r.resource == "plans:safety_plan_approval"]
    assert [(r.action, r.actor_subject, r.case_id) for r in decided] == [("decide", "sup.okafor", demo_case)]

    # a check-in on the demo plan in force
    in_force = next(
        p for p in (await _rest(system, f"/api/plans/v1/cases/{case}/safety-plans"))["items"] if p["status"] == "active"
    )
    check_in = {
        "ruleId": in_force["rules"][1]["id"],
        "reportedBy": {"name": "Rosa Delgado"},
        "kept": True,
        "note": "Maria answered at 8.",
    }
    recorded = _data(await _run(system, CHECK_IN, case=case, plan=in_force["id"], input=check_in, key="gql-ci-1"))
    repeat = _data(await _run(system, CHECK_IN, case=case, plan=in_force["id"], input=check_in, key="gql-ci-1"))
    assert recorded["id"] == repeat["id"] and recorded["json"]["kept"] is True
    bad_rule = _error(
        await _run(system, CHECK_IN, case=case, plan=in_force["id"], input={**check_in, "ruleId": "rule-1"})
    )
    assert bad_rule["field"] == "input.ruleId"
    # a plan id of no plan of this case is simply not found
    elsewhere = _error(await _run(system, CHECK_IN, case=case, plan=str(uuid.uuid4()), input=check_in))
    assert elsewhere["code"] == "NOT_FOUND"


async def test_a_network_member_is_added_once_per_key(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    case = str(demo_case)
    member = {
        "person": {"firstName": "Ana", "lastName": "Ruiz", "preferredLanguage": "es"},
        "circle": "OUTER",
        "roles": ["drives Sofia to school"],
        "commitments": [{"text": "School runs on Mondays", "schedule": "Mondays 7:30"}],
    }
    added = _data(await _run(system, ADD_MEMBER, case=case, input=member, key="gql-member-1"))
    again = _data(await _run(system, ADD_MEMBER, case=case, input=member, key="gql-member-1"))
    assert added["id"] == again["id"] and added["version"] == 1 and added["json"]["circle"] == "outer"
    network = await _rest(system, f"/api/network/v1/cases/{case}/network")
    assert [m["person"]["first_name"] for m in network["members"]].count("Ana") == 1
    nobody = _error(await _run(system, ADD_MEMBER, case=case, input={"circle": "INNER"}))
    assert nobody["code"] == "BAD_USER_INPUT"
    lindqvist = await _run(system, ADD_MEMBER, user="fsw.lindqvist", case=case, input=member)
    assert _error(lindqvist) == {"code": "NOT_FOUND"}
