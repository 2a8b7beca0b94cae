"""Supervision over HTTP, on SQLite and PostgreSQL: consultations that snapshot the map version discussed
with each participant's rating; the approval queue (approve, return for edits, history), open to other
services; coaching referrals; the solution-focused question bank."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_assessment.supervision.models import Approval, ApprovalEvent, Consultation
from sop_assessment.supervision.service import request_approval
from sop_shared.db import Database, utcnow
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService


async def counts(svc: RunningService) -> dict[str, int]:
    db = Database(svc.database_url)
    try:
        async with db.session() as s:
            return {
                name: int((await s.execute(select(func.count()).select_from(table))).scalar_one())
                for name, table in (
                    ("approvals", Approval),
                    ("history", ApprovalEvent),
                    ("consultations", Consultation),
                )
            }
    finally:
        await db.dispose()


def okafor(tokens: InternalTokens, case_id: uuid.UUID | None) -> dict[str, str]:
    """Ms. Okafor, the worker's supervisor."""
    return tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",), case_id=case_id)


def plans_service(tokens: InternalTokens) -> dict[str, str]:
    return tokens.headers(
        "assessment", subject="svc.plans", actor_type=ActorType.integration, roles=(), scopes=["approvals:request"]
    )


# An SDM sign-off filed by hand (the SDM engine files its own overrides and downgrades: test_sdm_api).
OVERRIDE = {
    "kind": "sdm_assessment",
    "subject_id": None,  # the Lopez SDM draft each test starts with
    "summary": "Raise the risk level from moderate to high: Maria's drinking is getting worse",
    "approver_subject": "sup.okafor",
}


async def sdm_draft(assessment: RunningService, case_id: uuid.UUID, headers: dict[str, str]) -> str:
    """An SDM safety assessment of the case, still a draft: something of this case to approve."""
    answers = {f"T{n}": False for n in range(1, 12)} | {"V1": False, "V2": False, "V3": False}
    draft = await assessment.client.post(
        f"/v1/cases/{case_id}/sdm-assessments",
        headers=headers,
        json={"instrument_key": "safety_assessment", "instrument_version": "illustrative-1", "answers": answers},
    )
    assert draft.status_code == 201, draft.text
    return str(draft.json()["id"])


@pytest.fixture(autouse=True)
async def _the_override_is_of_the_lopez_sdm_draft(
    assessment: RunningService, lopez_case: uuid.UUID, rivera: dict[str, str]
) -> None:
    # Approval subjects are held to the case (sop_shared.case_refs): the override is of this case's draft.
    OVERRIDE["subject_id"] = await sdm_draft(assessment, lopez_case, rivera)


# --- consultations -------------------------------------------------------------------------------------


async def test_a_consultation_keeps_the_map_version_it_discussed_even_after_the_map_changes(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    the_map = (
        await assessment.client.post(
            f"/v1/cases/{lopez_case}/maps",
            headers=rivera,
            json={
                "context": "supervision",
                "title": "Lopez family",
                "strengths": [{"text": "Rosa lives two streets away"}],
            },
        )
    ).json()
    response = await assessment.client.post(
        f"/v1/cases/{lopez_case}/consultations",
        headers=rivera,
        json={
            "consultation_type": "case_consultation",
            "held_on": "2026-11-20",
            "facilitator": "Grace Okafor",
            "participants": [
                {"name": "Dana Rivera", "role": "worker", "rating": 4, "rationale": "nights are still risky"},
                {"name": "Grace Okafor", "role": "supervisor", "rating": 3},
            ],
            "presenting_question": "Is Rosa's help enough for the weekends?",
            "map_id": the_map["id"],
            "decisions": ["Ask Rosa to join the next family meeting"],
            "next_steps": [{"action": "Call Rosa", "owner": "Dana Rivera", "due_on": "2026-11-25"}],
            "follow_up_on": "2026-12-04",
        },
    )
    assert response.status_code == 201, response.text
    consultation = response.json()
    assert consultation["map_version"] == 1
    assert [(p["name"], p["rating"]) for p in consultation["participants"]] == [("Dana Rivera", 4), ("Grace Okafor", 3)]
    await assessment.client.put(
        f"/v1/maps/{the_map['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json={"strengths": [{"text": "Rosa has a spare room"}]},
    )
    again = (await assessment.client.get(f"/v1/consultations/{consultation['id']}", headers=rivera)).json()
    assert again["map_version"] == 1
    assert [s["text"] for s in again["map_snapshot"]["strengths"]] == ["Rosa lives two streets away"]


async def test_a_consultation_with_a_rating_out_of_range_or_another_cases_map_is_422_and_not_stored(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    other_case = uuid.uuid4()
    other_map = (
        await assessment.client.post(
            f"/v1/cases/{other_case}/maps",
            json={"context": "in_home", "title": "x"},
            headers=tokens.headers("assessment", case_id=other_case),
        )
    ).json()
    body: dict[str, Any] = {
        "consultation_type": "group_supervision",
        "held_on": "2026-11-20",
        "facilitator": "Grace Okafor",
        "participants": [{"name": "Dana Rivera", "rating": 12}],
    }
    response = await assessment.client.post(f"/v1/cases/{lopez_case}/consultations", headers=rivera, json=body)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["participants.0.rating"]
    body["participants"] = [{"name": "Dana Rivera", "rating": 4}]
    body["map_id"] = other_map["id"]
    response = await assessment.client.post(f"/v1/cases/{lopez_case}/consultations", headers=rivera, json=body)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["map_id"]
    assert (await counts(assessment))["consultations"] == 0


# --- approvals -----------------------------------------------------------------------------------------


@pytest.mark.sqlite_smoke("a partial unique index (sqlite_where)")
async def test_the_supervisor_approves_an_override_from_the_queue_and_the_history_shows_it(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    asked = await assessment.client.post(f"/v1/cases/{lopez_case}/approvals", json=OVERRIDE, headers=rivera)
    assert asked.status_code == 201, asked.text
    approval = asked.json()
    assert (approval["status"], approval["requested_by"], approval["source_service"]) == (
        "pending",
        "fsw.rivera",
        "assessment",
    )
    queue = (await assessment.client.get("/v1/approvals", headers=okafor(tokens, None))).json()
    assert [a["id"] for a in queue["items"]] == [approval["id"]]
    decided = await assessment.client.post(
        f"/v1/cases/{lopez_case}/approvals/{approval['id']}/decision",
        json={"decision": "approved", "comment": "Agreed."},
        headers={**okafor(tokens, lopez_case), "If-Match": '"1"'},
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert (body["status"], body["decided_by"], body["decision_comment"]) == ("approved", "sup.okafor", "Agreed.")
    assert [(h["action"], h["actor"]) for h in body["history"]] == [
        ("requested", "fsw.rivera"),
        ("approved", "sup.okafor"),
    ]
    assert (await assessment.client.get("/v1/approvals", headers=okafor(tokens, None))).json()["items"] == []
    again = await assessment.client.post(
        f"/v1/approvals/{approval['id']}/decision",
        json={"decision": "returned", "comment": "no"},
        headers={**okafor(tokens, lopez_case), "If-Match": '"2"'},
    )
    assert again.status_code == 409


async def test_returning_for_edits_needs_a_comment_and_the_worker_resubmits(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    approval = (await assessment.client.post(f"/v1/cases/{lopez_case}/approvals", json=OVERRIDE, headers=rivera)).json()
    url = f"/v1/approvals/{approval['id']}"
    supervisor = {**okafor(tokens, lopez_case), "If-Match": '"1"'}
    silent = await assessment.client.post(f"{url}/decision", json={"decision": "returned"}, headers=supervisor)
    assert silent.status_code == 422 and [e["field"] for e in silent.json()["errors"]] == ["comment"]
    returned = await assessment.client.post(
        f"{url}/decision",
        headers=supervisor,
        json={"decision": "returned", "comment": "Say what changed since the last assessment"},
    )
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    resubmitted = await assessment.client.post(
        f"{url}/resubmit", json={"comment": "Added the October incident"}, headers={**rivera, "If-Match": '"2"'}
    )
    assert resubmitted.status_code == 200 and resubmitted.json()["status"] == "pending"
    approved = await assessment.client.post(
        f"{url}/decision", json={"decision": "approved"}, headers={**okafor(tokens, lopez_case), "If-Match": '"3"'}
    )
    assert [h["action"] for h in approved.json()["history"]] == ["requested", "returned", "resubmitted", "approved"]
    assert (await counts(assessment))["history"] == 4


async def test_nobody_approves_their_own_request_and_a_worker_cannot_decide_at_all(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    supervisor = okafor(tokens, lopez_case)
    approval = (
        await assessment.client.post(f"/v1/cases/{lopez_case}/approvals", json=OVERRIDE, headers=supervisor)
    ).json()
    own = await assessment.client.post(
        f"/v1/approvals/{approval['id']}/decision",
        json={"decision": "approved"},
        headers={**supervisor, "If-Match": '"1"'},
    )
    assert own.status_code == 403
    worker = tokens.headers("assessment", subject="fsw.lindqvist", case_id=lopez_case)
    refused = await assessment.client.post(
        f"/v1/approvals/{approval['id']}/decision", json={"decision": "approved"}, headers={**worker, "If-Match": '"1"'}
    )
    assert refused.status_code == 403
    assert (await assessment.client.get("/v1/approvals", headers=worker)).status_code == 403
    stranger = tokens.headers("assessment", subject="sup.other", roles=("supervisor",), case_id=uuid.uuid4())
    hidden = await assessment.client.post(
        f"/v1/approvals/{approval['id']}/decision",
        json={"decision": "approved"},
        headers={**stranger, "If-Match": '"1"'},
    )
    assert hidden.status_code == 404
    assert (await assessment.client.get(f"/v1/approvals/{approval['id']}", headers=supervisor)).json()[
        "status"
    ] == "pending"


async def test_another_service_files_a_safety_plan_approval_with_a_clear_kind(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
    rivera: dict[str, str],
) -> None:
    plan_id = str(uuid.uuid4())
    # the plans service announced the plan (sop.plans.safety_plan.created): only then may it be referred to
    await assessment.bus.publish(
        Event(
            id=new_id(),
            subject="sop.plans.safety_plan.created",
            occurred_at=utcnow(),
            case_id=lopez_case,
            data={"plan_id": plan_id, "case_id": str(lopez_case)},
        )
    )
    body = {
        "kind": "safety_plan",
        "case_id": str(lopez_case),
        "subject_id": plan_id,
        "subject_version": 2,
        "summary": "Safety plan version 2 for the Lopez family",
        "source_service": "plans",
        "requested_by": "fsw.rivera",
        "approver_subject": "sup.okafor",
    }
    response = await assessment.client.post(
        "/v1/approvals", json=body, headers={**plans_service(tokens), "Idempotency-Key": "plan-2"}
    )
    assert response.status_code == 201, response.text
    assert (response.json()["kind"], response.json()["source_service"], response.json()["subject_version"]) == (
        "safety_plan",
        "plans",
        2,
    )
    replay = await assessment.client.post(
        "/v1/approvals", json=body, headers={**plans_service(tokens), "Idempotency-Key": "plan-2"}
    )
    assert replay.json()["id"] == response.json()["id"]
    twice = await assessment.client.post("/v1/approvals", json=body, headers=plans_service(tokens))
    assert twice.status_code == 409, "one pending approval per thing"
    # staff cannot file through the service door
    assert (await assessment.client.post("/v1/approvals", json=body, headers=rivera)).status_code == 403
    listed = (
        await assessment.client.get(f"/v1/cases/{lopez_case}/approvals", params={"kind": "safety_plan"}, headers=rivera)
    ).json()
    assert [a["subject_id"] for a in listed["items"]] == [plan_id]
    bad = await assessment.client.post(
        "/v1/approvals", json={**body, "kind": "pizza", "case_id": "x"}, headers=plans_service(tokens)
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"kind", "case_id"}
    assert (await counts(assessment))["approvals"] == 1


async def test_sdm_code_in_this_service_files_approvals_through_request_approval(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    db = Database(assessment.database_url)
    try:
        async with db.session() as session:
            approval = await request_approval(
                session,
                case_id=lopez_case,
                kind="priority_downgrade",
                subject_id=uuid.uuid4(),
                requested_by="fsw.rivera",
                summary="Lower the response priority from 24 to 72 hours",
            )
    finally:
        await db.dispose()
    read = await assessment.client.get(
        f"/v1/cases/{lopez_case}/approvals/{approval.id}", headers=okafor(tokens, lopez_case)
    )
    assert read.status_code == 200 and read.json()["kind"] == "priority_downgrade"
    assert [h["action"] for h in read.json()["history"]] == ["requested"]


# --- coaching and questions ----------------------------------------------------------------------------


async def test_a_supervisor_refers_a_worker_for_coaching_and_moves_it_along(
    assessment: RunningService,
    tokens: InternalTokens,
) -> None:
    supervisor = okafor(tokens, None)
    response = await assessment.client.post(
        "/v1/coaching-referrals",
        headers=supervisor,
        json={"worker_subject": "fsw.rivera", "coaching_type": "one_on_one", "topic": "Writing danger statements"},
    )
    assert response.status_code == 201, response.text
    referral = response.json()
    assert referral["status"] == "requested"
    worker = tokens.headers("assessment", subject="fsw.rivera")
    assert [
        r["id"] for r in (await assessment.client.get("/v1/coaching-referrals", headers=worker)).json()["items"]
    ] == [referral["id"]]
    url = f"/v1/coaching-referrals/{referral['id']}"
    done = await assessment.client.patch(url, json={"status": "completed"}, headers={**supervisor, "If-Match": '"1"'})
    assert done.status_code == 409, "a requested referral is scheduled before it is completed"
    scheduled = await assessment.client.patch(
        url, json={"status": "scheduled"}, headers={**supervisor, "If-Match": '"1"'}
    )
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"
    assert (
        await assessment.client.post(
            "/v1/coaching-referrals",
            headers=worker,
            json={"unit": "Pulaski 3", "coaching_type": "group", "topic": "Scaling"},
        )
    ).status_code == 403
    nobody = await assessment.client.post(
        "/v1/coaching-referrals", headers=supervisor, json={"coaching_type": "group", "topic": "Scaling"}
    )
    assert nobody.status_code == 422 and [e["field"] for e in nobody.json()["errors"]] == ["worker_subject"]


async def test_the_question_bank_answers_by_type_audience_and_language(
    assessment: RunningService,
    rivera: dict[str, str],
) -> None:
    scaling = (
        await assessment.client.get(
            "/v1/questions", params={"type": "scaling", "audience": "caregiver"}, headers=rivera
        )
    ).json()["items"]
    assert scaling and all(q["question_type"] == "scaling" and q["audience"] == "caregiver" for q in scaling)
    spanish = (
        await assessment.client.get(
            "/v1/questions", params={"type": "scaling", "audience": "caregiver", "language": "es"}, headers=rivera
        )
    ).json()["items"]
    assert [q["key"] for q in spanish] == [q["key"] for q in scaling] and spanish[0]["text"].startswith("En una escala")
    marshallese = await assessment.client.get("/v1/questions", params={"language": "mh"}, headers=rivera)
    assert marshallese.json()["items"] == []
    bad = await assessment.client.get("/v1/questions", params={"type": "magic"}, headers=rivera)
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["type"]


@pytest.mark.sqlite_smoke
async def test_a_decision_in_the_queue_reaches_the_thing_approved_and_one_made_there_closes_the_queue_item(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
    rivera: dict[str, str],
) -> None:
    from sop_assessment.supervision import service as supervision

    applied: list[tuple[str, str | None]] = []

    async def apply(session: Any, approval: Approval, app: Any) -> None:
        applied.append((approval.status.value, approval.decided_by))
        # what the SDM code does when it decides: close its queue item (nothing is pending any more)
        assert (
            await supervision.close_approval(
                session,
                case_id=approval.case_id,
                kind=approval.kind,
                subject_id=approval.subject_id,
                decision=approval.status.value,
                decided_by="x",
            )
            is None
        )

    supervision.decision_handler("sdm_assessment")(apply)
    try:
        body = {**OVERRIDE, "kind": "sdm_assessment"}
        approval = (await assessment.client.post(f"/v1/cases/{lopez_case}/approvals", json=body, headers=rivera)).json()
        decided = await assessment.client.post(
            f"/v1/approvals/{approval['id']}/decision",
            json={"decision": "approved"},
            headers={**okafor(tokens, lopez_case), "If-Match": '"1"'},
        )
        assert decided.status_code == 200 and applied == [("approved", "sup.okafor")]
        assert [h["action"] for h in decided.json()["history"]] == ["requested", "approved"]
    finally:
        supervision._DECISION_HANDLERS.pop(supervision.ApprovalKind.sdm_assessment, None)

    # decided where it lives (e.g. POST /v1/sdm-assessments/{id}/approve): the queue item is closed too
    other = (
        await assessment.client.post(
            f"/v1/cases/{lopez_case}/approvals",
            headers=rivera,
            json={**OVERRIDE, "subject_id": await sdm_draft(assessment, lopez_case, rivera)},
        )
    ).json()
    db = Database(assessment.database_url)
    try:
        async with db.session() as session:
            closed = await supervision.close_approval(
                session,
                case_id=lopez_case,
                kind="sdm_assessment",
                subject_id=uuid.UUID(other["subject_id"]),
                decision="returned",
                decided_by="sup.okafor",
                comment="Add the reasons",
            )
            assert closed is not None
    finally:
        await db.dispose()
    read = (await assessment.client.get(f"/v1/approvals/{other['id']}", headers=rivera)).json()
    assert (read["status"], read["decision_comment"]) == ("returned", "Add the reasons")
    assert [h["action"] for h in read["history"]] == ["requested", "returned"]


async def test_every_read_and_write_of_maps_goals_ratings_and_approvals_is_audited_on_an_intact_chain(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
    maria_danger_statement: dict[str, Any],
) -> None:
    from sop_assessment.models import platform

    client, case = assessment.client, f"/v1/cases/{lopez_case}"
    statement = (await client.post(f"{case}/statements", json=maria_danger_statement, headers=rivera)).json()
    the_map = (await client.post(f"{case}/maps", json={"context": "in_home", "title": "x"}, headers=rivera)).json()
    await client.get(f"/v1/maps/{the_map['id']}", headers=rivera)
    goal = (
        await client.post(
            f"{case}/safety-goals",
            headers=rivera,
            json={"danger_statement_id": statement["id"], "duration": "P1M", "owner": "family"},
        )
    ).json()
    rating = (
        await client.post(
            f"{case}/scale-ratings",
            headers=rivera,
            json={
                "statement_id": statement["id"],
                "occasion_on": "2026-11-02",
                "rater_name": "Maria",
                "rater_role": "caregiver",
                "score": 5,
            },
        )
    ).json()
    approval = (await client.post(f"{case}/approvals", json=OVERRIDE, headers=rivera)).json()
    await client.post(
        f"/v1/approvals/{approval['id']}/decision",
        json={"decision": "approved"},
        headers={**okafor(tokens, lopez_case), "If-Match": '"1"'},
    )
    await client.get(f"{case}/case-view", headers=rivera)
    async with assessment.app.state.database.session() as s:
        verdict = await assessment.app.state.audit.verify(s)
        rows = (await s.execute(select(platform.audit).order_by(platform.audit.c.seq))).all()
    assert verdict.intact
    # first the SDM draft the override is of, then the danger statement
    assert [(r.action, r.resource, r.resource_id, r.actor_subject) for r in rows][2:] == [
        ("create", "map", the_map["id"], "fsw.rivera"),
        ("read", "map", the_map["id"], "fsw.rivera"),
        ("create", "safety_goal", goal["id"], "fsw.rivera"),
        ("create", "scale_rating", rating["id"], "fsw.rivera"),
        ("create", "approval", approval["id"], "fsw.rivera"),
        ("decide", "approval", approval["id"], "sup.okafor"),
        ("read", "case_view", None, "fsw.rivera"),
    ]
    assert {r.case_id for r in rows} == {lopez_case}


async def test_a_consultation_keeps_what_it_discussed_as_it_stood_then(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    base = f"/v1/cases/{lopez_case}"
    danger = (await assessment.client.post(f"{base}/statements", json=maria_danger_statement, headers=rivera)).json()
    goal = await assessment.client.post(
        f"{base}/safety-goals",
        headers=rivera,
        json={
            "danger_statement_id": danger["id"],
            "duration": "P3M",
            "owner": "family",
            "caregiver_will_be_doing": "Maria will make sure a sober adult is awake with Sofia and Mateo every night",
            "child_will_experience": "Sofia and Mateo will go to sleep knowing an adult can help them",
            "others_will_see": "Rosa will see Maria call her when she has been drinking",
        },
    )
    assert goal.status_code == 201, goal.text
    rating = {
        "statement_id": danger["id"],
        "occasion_on": "2026-11-16",
        "rater_name": "Dana Rivera",
        "rater_role": "worker",
        "score": 4,
        "mode": "verbal",
    }
    assert (await assessment.client.post(f"{base}/scale-ratings", json=rating, headers=rivera)).status_code == 201
    recorded = await assessment.client.post(
        f"{base}/consultations",
        headers=rivera,
        json={
            "consultation_type": "case_consultation",
            "held_on": "2026-11-20",
            "facilitator": "Grace Okafor",
            "participants": [{"name": "Dana Rivera", "role": "worker", "rating": 4}],
        },
    )
    assert recorded.status_code == 201, recorded.text
    kept = recorded.json()["discussed"]
    assert [(s["id"], s["version"]) for s in kept["danger_statements"]] == [(danger["id"], 1)]
    assert [g["id"] for g in kept["safety_goals"]] == [goal.json()["id"]]
    assert [(r["rater_name"], r["score"]) for r in kept["ratings"]] == [("Dana Rivera", 4)]

    # later the statement is corrected and a new occasion is rated: the consultation still shows what it discussed
    corrected = await assessment.client.patch(
        f"{base}/statements/{danger['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json={"caregiver_behaviour": "will drink until she falls asleep", "change_reason": "Maria's own words"},
    )
    assert corrected.status_code == 200, corrected.text
    later = {**rating, "occasion_on": "2026-11-30", "score": 7}
    assert (await assessment.client.post(f"{base}/scale-ratings", json=later, headers=rivera)).status_code == 201
    listed = await assessment.client.get(f"{base}/consultations", headers=rivera, params={"limit": 1})
    assert listed.status_code == 200
    [again] = listed.json()["items"]
    assert again["discussed"] == kept
    assert again["discussed"]["danger_statements"][0]["composed_text"] != corrected.json()["composed_text"]


async def test_the_queue_item_of_a_safety_plan_shows_the_plans_warnings(
    assessment: RunningService,
    tokens: InternalTokens,
    lopez_case: uuid.UUID,
) -> None:
    plan_id = new_id()
    warning = {
        "code": "rule_without_monitor",
        "field": "rules.0.monitors",
        "message": "No one is named to monitor this rule: which network member will see that it is kept?",
    }
    await assessment.bus.publish(  # the plans service, asking for a supervisor's approval (its known plan)
        Event(
            id=new_id(),
            subject="sop.plans.safety_plan.approval_requested",
            occurred_at=utcnow(),
            case_id=lopez_case,
            data={
                "plan_id": str(plan_id),
                "case_id": str(lopez_case),
                "plan_type": "ongoing",
                "version_number": 1,
                "content_hash": "h1",
                "requested_by": "fsw.rivera",
                "title": "Nights at home",
                "warnings": [warning],
            },
        )
    )
    queue = await assessment.client.get(f"/v1/cases/{lopez_case}/approvals", headers=okafor(tokens, lopez_case))
    assert queue.status_code == 200, queue.text
    [item] = [i for i in queue.json()["items"] if i["subject_id"] == str(plan_id)]
    assert item["warnings"] == [warning]
