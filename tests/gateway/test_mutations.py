"""The workflow mutations on the demo family, through the embedded gateway, in the convention of GitHub's and
Shopify's public APIs: one `input`, a payload with the record and `userErrors`. Each writes through the
service's case-scoped route; stale versions, repeated idempotency keys and bad input come back as user errors
naming the input field (camelCase), with nothing changed; callers off the case cannot tell it exists; every
write is audited at the edge."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from sop_gateway.demo.assessment_sdm import DEMO_SAFETY_ANSWERS, DEMO_SAFETY_CHILDREN

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ERRORS = "userErrors { field message code currentVersion }"


def mutation(name: str, selection: str) -> str:
    kind = name[0].upper() + name[1:]
    return f"mutation($input: {kind}Input!) {{ {name}(input: $input) {{ {selection} {ERRORS} }} }}"


CREATE_STATEMENT = mutation("createStatement", "statement { id kind status composedText version }")
UPDATE_STATEMENT = mutation("updateStatement", "statement { id status version }")
CREATE_MAP = mutation("createMap", "map { id currentVersion status context content { strengths { text } } }")
REVISE_MAP = mutation("reviseMap", "map { id currentVersion content { strengths { text } } }")
RATE = mutation("rateSafetyScale", "scaleRating { id score raterRole }")
START_SDM = mutation("startSdmAssessment", "sdmAssessment { id version status }")
COMPLETE_SDM = mutation("completeSdmAssessment", "sdmAssessment { id version status results }")
CREATE_PLAN = mutation(
    "createSafetyPlan",
    "safetyPlan { id status version currentVersionNumber contentHash participants { id name role } rules { text } }",
)
SUBMIT_PLAN = mutation("submitSafetyPlan", "safetyPlan { status version }")
APPROVE_PLAN = mutation("approveSafetyPlan", "safetyPlan { status version }")
SIGN_PLAN = mutation(
    "signSafetyPlan", "signature { id decision signerName language interpreter { name qualification mode language } }"
)
ADD_MEMBER = mutation("addNetworkMember", "member { id version circle person { firstName } }")
CHECK_IN = mutation("recordCheckIn", "checkIn { id kept }")

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
    "backupPlan": "Maria calls Ms. Rivera's on-call line.",
}


async def _run(system: EmbeddedSystem, query: str, user: str = "fsw.rivera", **fields: Any) -> dict[str, Any]:
    """Run a mutation with `fields` as its input (None values left out)."""
    response = await system.graphql(query, {"input": {k: v for k, v in fields.items() if v is not None}}, user=user)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


def _data(body: dict[str, Any]) -> Any:
    """The written record; the write must have been made."""
    payload = _payload(body)
    assert payload["userErrors"] == [], payload["userErrors"]
    return next(v for k, v in payload.items() if k != "userErrors")


def _refused(body: dict[str, Any]) -> dict[str, Any]:
    """The one user error of a refused write (nothing written: the record is null)."""
    payload = _payload(body)
    assert all(v is None for k, v in payload.items() if k != "userErrors"), payload
    [error] = payload["userErrors"]
    return error  # type: ignore[no-any-return]


def _error(body: dict[str, Any]) -> dict[str, Any]:
    """A top-level error (what the input cannot put right: FORBIDDEN, UNAVAILABLE)."""
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
    first = _data(await _run(system, CREATE_STATEMENT, caseId=case, idempotencyKey="gql-harm-1", **HARM))
    again = _data(await _run(system, CREATE_STATEMENT, caseId=case, idempotencyKey="gql-harm-1", **HARM))
    assert first["id"] == again["id"] and first["kind"] == "HARM" and first["version"] == 1
    assert first["composedText"].startswith("A neighbour")
    harm = await _rest(system, f"/api/assessment/v1/cases/{case}/statements", kind="harm")
    assert [s["id"] for s in harm["items"]] == [first["id"]]
    reused = _refused(
        await _run(
            system, CREATE_STATEMENT, caseId=case, idempotencyKey="gql-harm-1", **{**HARM, "whenOrHowOften": "once"}
        )
    )
    assert reused["code"] == "INVALID" and reused["field"] == ["input", "idempotencyKey"]

    update = {"caseId": case, "statementId": first["id"], "status": "RESOLVED"}
    stale = _refused(await _run(system, UPDATE_STATEMENT, expectedVersion=7, **update))
    assert stale["code"] == "VERSION_CONFLICT" and stale["currentVersion"] == 1
    assert stale["field"] == ["input", "expectedVersion"]
    required = await system.graphql(UPDATE_STATEMENT, {"input": update})
    assert "expectedVersion" in required.json()["errors"][0]["message"]  # required in the schema itself
    unchanged = await _rest(system, f"/api/assessment/v1/cases/{case}/statements", kind="harm")
    assert unchanged["items"][0]["status"] == "active" and unchanged["items"][0]["version"] == 1
    resolved = _data(await _run(system, UPDATE_STATEMENT, expectedVersion=1, **update))
    assert resolved == {"id": first["id"], "status": "RESOLVED", "version": 2}

    bad = _refused(await _run(system, CREATE_STATEMENT, caseId=case, **{**HARM, "threatCodes": ["not a code!"]}))
    assert bad["code"] == "INVALID" and bad["field"] == ["input", "threatCodes", "0"]

    rows = [r for r in await system.audit_rows() if r.resource == "assessment:statement"]
    assert [(r.action, r.case_id, r.actor_subject) for r in rows][:2] == [
        ("create", demo_case, "fsw.rivera"),
        ("create", demo_case, "fsw.rivera"),
    ]
    assert rows[0].resource_id == first["id"]
    assert (await system.verify_audit_chain()).intact


SHARE_STATEMENT = mutation("shareStatement", "statement { id sharing sharedBy shareReason version }")
HARM_VIEW = """query($id: ID!, $audience: Audience!) { caseView(caseId: $id, audience: $audience) {
  worries { harm { recordId sharing } harmPage(first: 0) { totalCount } } } }"""


async def test_a_statement_reaches_the_family_only_once_shared_and_a_finding_needs_a_reason(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    case = str(demo_case)
    written = _data(await _run(system, CREATE_STATEMENT, caseId=case, **HARM))

    async def harm(audience: str) -> list[dict[str, Any]]:
        response = await system.graphql(HARM_VIEW, {"id": case, "audience": audience})
        assert response.status_code == 200, response.text
        worries = response.json()["data"]["caseView"]["worries"]
        assert worries["harmPage"]["totalCount"] == len(worries["harm"])  # a draft is not even counted
        return worries["harm"]  # type: ignore[no-any-return]

    assert await harm("STAFF") == [{"recordId": written["id"], "sharing": "DRAFT"}]
    for audience in ("FAMILY", "NETWORK", "PARTNER", "COURT"):
        assert await harm(audience) == []

    share = {"caseId": case, "statementId": written["id"], "expectedVersion": 1}
    checked = await _rest(system, f"/api/assessment/v1/cases/{case}/statements/{written['id']}")
    if any(f["severity"] == "warning" for f in checked["plain_language"]["findings"]):
        needs_reason = _refused(await _run(system, SHARE_STATEMENT, **share))
        assert needs_reason["code"] == "INVALID" and needs_reason["field"] == ["input", "reason"]
        assert await harm("FAMILY") == []
    shared = _data(await _run(system, SHARE_STATEMENT, **share, reason="Maria read it and asked for these words"))
    assert (shared["sharing"], shared["sharedBy"], shared["version"]) == ("SHARED", "fsw.rivera", 1)
    assert await harm("FAMILY") == [{"recordId": written["id"], "sharing": "SHARED"}]


async def test_ids_are_checked_before_anything_is_called(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    case = str(demo_case)
    for fields, where in (
        ({"caseId": "not-a-case", **HARM}, ["input", "caseId"]),
        (
            {"caseId": case, **HARM, "children": [{"name": "Sofia", "personId": "x"}]},
            ["input", "children", "0", "personId"],
        ),
    ):
        body = await _run(system, CREATE_STATEMENT, **fields)
        assert _refused(body)["field"] == where and _refused(body)["code"] == "INVALID"
        assert body["extensions"]["upstreamCalls"] == {}
    body = await _run(
        system, UPDATE_STATEMENT, caseId=case, statementId="../statements", status="RESOLVED", expectedVersion=1
    )
    assert _refused(body)["field"] == ["input", "statementId"] and body["extensions"]["upstreamCalls"] == {}
    body = await _run(system, CREATE_STATEMENT, caseId=case, idempotencyKey="", **HARM)
    assert _refused(body)["field"] == ["input", "idempotencyKey"] and body["extensions"]["upstreamCalls"] == {}


async def test_callers_off_the_case_cannot_write_or_tell_it_exists_and_a_worker_cannot_approve(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    case = str(demo_case)
    for user in ("fsw.lindqvist", "audit.byrne"):
        denied = await _run(system, CREATE_STATEMENT, user=user, caseId=case, **HARM)
        missing = await _run(system, CREATE_STATEMENT, user=user, caseId=str(uuid.uuid4()), **HARM)
        assert _refused(denied) == _refused(missing)
        assert _refused(denied)["code"] == "NOT_FOUND" and _refused(denied)["field"] == ["input", "caseId"]
        assert denied["extensions"]["upstreamCalls"] == {"network": 1}  # the access decision only
    harm = await _rest(system, f"/api/assessment/v1/cases/{case}/statements", kind="harm")
    assert harm["items"] == []

    plans = await _rest(system, f"/api/plans/v1/cases/{case}/safety-plans")
    plan = plans["items"][0]
    approval = {
        "caseId": case,
        "planId": plan["id"],
        "expectedVersion": plan["version"],
        "versionNumber": plan["current_version_number"],
        "contentHash": plan["content_hash"],
        "decision": "APPROVED",
    }
    body = await _run(system, APPROVE_PLAN, **approval)
    assert _error(body)["code"] == "FORBIDDEN"
    assert "plans" not in body["extensions"]["upstreamCalls"]


async def test_a_map_is_created_then_saved_from_the_version_read(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    case = str(demo_case)
    new_map = {
        "caseId": case,
        "idempotencyKey": "gql-map-1",
        "context": "FAMILY_MEETING",
        "title": "Family meeting, December",
        "strengths": [{"text": "Rosa comes every evening"}],
    }
    created = _data(await _run(system, CREATE_MAP, **new_map))
    assert created["currentVersion"] == 1 and created["context"] == "FAMILY_MEETING"
    replayed = _data(await _run(system, CREATE_MAP, **new_map))
    assert replayed["id"] == created["id"]
    strengths = [{"text": "Rosa comes every evening"}, {"text": "Maria went to two AA meetings"}]
    revision = {"caseId": case, "mapId": created["id"], "strengths": strengths}
    stale = _refused(await _run(system, REVISE_MAP, expectedVersion=5, **revision))
    assert stale["code"] == "VERSION_CONFLICT" and stale["currentVersion"] == 1
    saved = _data(await _run(system, REVISE_MAP, expectedVersion=1, changeNote="AA meetings", **revision))
    assert saved["currentVersion"] == 2
    assert [s["text"] for s in saved["content"]["strengths"]][-1] == "Maria went to two AA meetings"
    bad = _refused(await _run(system, REVISE_MAP, expectedVersion=2, **{**revision, "strengths": [{"text": ""}]}))
    assert bad["code"] == "INVALID" and bad["field"][:3] == ["input", "strengths", "0"]


@pytest.mark.sqlite_smoke("services' relays feeding each other on SQLite")
async def test_a_rating_and_an_sdm_assessment_from_draft_to_completed(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    case = str(demo_case)
    rating = {
        "caseId": case,
        "occasionOn": "2026-12-01",
        "occasion": "home visit",
        "raterName": "Maria Lopez",
        "raterRole": "CAREGIVER",
        "score": 6,
        "oneStepUp": "Rosa stays over on weekends too",
    }
    first = _data(await _run(system, RATE, idempotencyKey="gql-rating-1", **rating))
    again = _data(await _run(system, RATE, idempotencyKey="gql-rating-1", **rating))
    assert first["id"] == again["id"] and first["score"] == 6
    out_of_scale = _refused(await _run(system, RATE, **{**rating, "score": 11}))
    assert out_of_scale["code"] == "INVALID" and out_of_scale["field"] == ["input", "score"]

    draft = _data(
        await _run(
            system,
            START_SDM,
            caseId=case,
            idempotencyKey="gql-sdm-1",
            instrumentKey="safety_assessment",
            instrumentVersion="illustrative-1",
            answers=DEMO_SAFETY_ANSWERS,
            children=DEMO_SAFETY_CHILDREN,
            anchors={"first_contact": "2026-12-01T16:00:00+00:00"},
        )
    )
    assert draft["status"] == "DRAFT"
    which = {"caseId": case, "assessmentId": draft["id"]}
    stale = _refused(await _run(system, COMPLETE_SDM, expectedVersion=draft["version"] + 3, **which))
    assert stale["code"] == "VERSION_CONFLICT"
    completed = _data(await _run(system, COMPLETE_SDM, expectedVersion=draft["version"], **which))
    assert completed["status"] == "COMPLETED" and completed["results"]


@pytest.mark.sqlite_smoke("services' relays feeding each other on SQLite")
async def test_a_safety_plan_from_draft_to_approved_signed_and_checked_in(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    case = str(demo_case)
    created = _data(await _run(system, CREATE_PLAN, caseId=case, idempotencyKey="gql-plan-1", **PLAN))
    replayed = _data(await _run(system, CREATE_PLAN, caseId=case, idempotencyKey="gql-plan-1", **PLAN))
    plan = created
    assert replayed["id"] == plan["id"] and plan["status"] == "DRAFT" and plan["version"] == 1
    no_rules = _refused(await _run(system, CREATE_PLAN, caseId=case, **{**PLAN, "rules": []}))
    assert no_rules["code"] == "INVALID" and no_rules["field"] == ["input", "rules"]

    participant = plan["participants"][0]
    members = (await _rest(system, f"/api/network/v1/cases/{case}"))["members"]
    maria = next(m["person"] for m in members if m["person"]["first_name"] == "Maria")
    signature = {
        "caseId": case,
        "planId": plan["id"],
        "versionNumber": plan["currentVersionNumber"],
        "contentHash": plan["contentHash"],
        "participantId": participant["id"],
        "signerName": "Maria Lopez",
        "signerPersonId": maria["id"],
        "signerRole": "CAREGIVER",
        "method": "TYPED_NAME",
        "typedName": "Maria Lopez",
        "affirmation": "La intérprete me explicó el plan en español y estoy de acuerdo.",
    }
    # The plan is in English and Maria reads Spanish: without the interpreter who explained it, no signature.
    unexplained = _refused(await _run(system, SIGN_PLAN, **signature))
    assert (unexplained["code"], unexplained["field"]) == ("INVALID", ["input", "interpreter"])
    assert unexplained["message"] == "the plan is in en; Maria Lopez reads es: record the interpreter who explained it"
    signature["interpreter"] = {"name": "Lucía Gómez", "qualification": "STAFF_BILINGUAL", "mode": "IN_PERSON"}
    signed = _data(await _run(system, SIGN_PLAN, idempotencyKey="gql-sign-1", **signature))
    again = _data(await _run(system, SIGN_PLAN, idempotencyKey="gql-sign-1", **signature))
    assert signed["id"] == again["id"] and signed["decision"] == "SIGNED"
    assert (signed["language"], signed["interpreter"]) == (
        "en",
        {"name": "Lucía Gómez", "qualification": "STAFF_BILINGUAL", "mode": "IN_PERSON", "language": "es"},
    )

    which = {"caseId": case, "planId": plan["id"]}
    stale = _refused(await _run(system, SUBMIT_PLAN, expectedVersion=9, **which))
    assert stale["code"] == "VERSION_CONFLICT"
    current = await _rest(system, f"/api/plans/v1/cases/{case}/safety-plans/{plan['id']}")
    assert current["status"] == "draft"
    submitted = _data(
        await _run(system, SUBMIT_PLAN, expectedVersion=current["version"], supervisor="sup.okafor", **which)
    )
    assert submitted["status"] == "PENDING_APPROVAL"
    approval = {
        "versionNumber": plan["currentVersionNumber"],
        "contentHash": plan["contentHash"],
        "decision": "APPROVED",
        "comment": "Clear and in the family's words.",
    }
    approved = _data(
        await _run(system, APPROVE_PLAN, user="sup.okafor", expectedVersion=submitted["version"], **which, **approval)
    )
    assert approved["status"] == "APPROVED"
    decided = [r for r in await system.audit_rows() if r.resource == "plans:safety_plan_approval"]
    assert [(r.action, r.actor_subject, r.case_id) for r in decided] == [("decide", "sup.okafor", demo_case)]

    # a check-in on the demo plan in force
    in_force = next(
        p for p in (await _rest(system, f"/api/plans/v1/cases/{case}/safety-plans"))["items"] if p["status"] == "active"
    )
    check_in = {
        "caseId": case,
        "planId": in_force["id"],
        "ruleId": in_force["rules"][1]["id"],
        "reportedBy": {"name": "Rosa Delgado"},
        "kept": True,
        "note": "Maria answered at 8.",
    }
    recorded = _data(await _run(system, CHECK_IN, idempotencyKey="gql-ci-1", **check_in))
    repeat = _data(await _run(system, CHECK_IN, idempotencyKey="gql-ci-1", **check_in))
    assert recorded["id"] == repeat["id"] and recorded["kept"] is True
    bad_rule = _refused(await _run(system, CHECK_IN, **{**check_in, "ruleId": "rule-1"}))
    assert bad_rule["field"] == ["input", "ruleId"]
    # a plan id of no plan of this case is simply not found
    elsewhere = _refused(await _run(system, CHECK_IN, **{**check_in, "planId": str(uuid.uuid4())}))
    assert elsewhere["code"] == "NOT_FOUND"


async def test_a_network_member_is_added_once_per_key(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    case = str(demo_case)
    member = {
        "caseId": case,
        "person": {"firstName": "Ana", "lastName": "Ruiz", "preferredLanguage": "es"},
        "circle": "OUTER",
        "roles": ["drives Sofia to school"],
    }
    added = _data(await _run(system, ADD_MEMBER, idempotencyKey="gql-member-1", **member))
    again = _data(await _run(system, ADD_MEMBER, idempotencyKey="gql-member-1", **member))
    assert added["id"] == again["id"] and added["version"] == 1 and added["circle"] == "OUTER"
    network = await _rest(system, f"/api/network/v1/cases/{case}/network")
    assert [m["person"]["first_name"] for m in network["members"]].count("Ana") == 1
    nobody = _refused(await _run(system, ADD_MEMBER, caseId=case, circle="INNER"))
    assert nobody["code"] == "INVALID"
    lindqvist = _refused(await _run(system, ADD_MEMBER, user="fsw.lindqvist", **member))
    assert lindqvist["code"] == "NOT_FOUND"
