"""The case boundary in the assessment service (issue 10, finding 2): every id a request body carries —
a child named in a statement, the subject of an approval, a goal's danger statement, a rating's statement —
is resolved within the request's case; another family's id is refused exactly as a random one is, and a
decision about another case's plan never reaches this case's queue — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from sop_assessment.component import component
from sop_shared.db import utcnow
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.testing import InternalTokens, RunningService, run_component


@pytest.fixture
async def assessment(database_url: str, tokens: InternalTokens, tmp_path: Path) -> Any:
    # A short wait for events not yet heard of keeps the refusals of unknown people and plans quick here.
    async with run_component(
        component, database_url=database_url, tokens=tokens, data_dir=tmp_path, case_ref_grace_seconds=0.2
    ) as svc:
        yield svc


def same_problem(first: Any, second: Any) -> bool:
    def strip(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in {"request_id", "instance"}}

    return first.status_code == second.status_code == 422 and strip(first.json()) == strip(second.json())


async def announce(svc: RunningService, subject: str, case_id: uuid.UUID, **data: Any) -> None:
    """What another service says on the bus (the network about people, plans about plans)."""
    await svc.bus.publish(
        Event(
            id=new_id(), subject=subject, occurred_at=utcnow(), case_id=case_id, data={"case_id": str(case_id), **data}
        )
    )


@pytest.fixture
def two_cases(tokens: InternalTokens) -> dict[str, Any]:
    a, b = new_id(), new_id()
    return {
        "a": a,
        "b": b,
        "worker_a": tokens.headers("assessment", case_id=a),
        "worker_b": tokens.headers("assessment", case_id=b),
    }


async def test_a_statement_cannot_name_another_familys_child(
    assessment: RunningService,
    two_cases: dict[str, Any],
    maria_danger_statement: dict[str, Any],
) -> None:
    sofia, dana = new_id(), new_id()
    await announce(assessment, "sop.network.case.updated", two_cases["a"], person_ids=[str(sofia)])
    await announce(assessment, "sop.network.case.updated", two_cases["b"], person_ids=[str(dana)])
    url = f"/v1/cases/{two_cases['b']}/statements"

    def naming(person_id: Any) -> dict[str, Any]:
        return {**maria_danger_statement, "children": [{"name": "Sofia", "person_id": str(person_id)}]}

    foreign = await assessment.client.post(url, json=naming(sofia), headers=two_cases["worker_b"])
    random = await assessment.client.post(url, json=naming(new_id()), headers=two_cases["worker_b"])
    assert same_problem(foreign, random), foreign.text
    assert foreign.json()["errors"] == [{"field": "children.0.person_id", "message": "no such person in this case"}]
    own = await assessment.client.post(url, json=naming(dana), headers=two_cases["worker_b"])
    assert own.status_code == 201, own.text
    listed = await assessment.client.get(url, headers=two_cases["worker_b"])
    assert len(listed.json()["items"]) == 1


async def test_an_approval_cannot_be_asked_for_another_familys_plan_or_assessment(
    assessment: RunningService,
    two_cases: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    plan_of_a = new_id()
    await announce(assessment, "sop.plans.safety_plan.created", two_cases["a"], plan_id=str(plan_of_a))
    answers = {f"T{n}": False for n in range(1, 12)} | {"V1": False, "V2": False, "V3": False}
    sdm_of_a = (
        await assessment.client.post(
            f"/v1/cases/{two_cases['a']}/sdm-assessments",
            json={"instrument_key": "safety_assessment", "instrument_version": "illustrative-1", "answers": answers},
            headers=two_cases["worker_a"],
        )
    ).json()["id"]
    url = f"/v1/cases/{two_cases['b']}/approvals"
    for kind, foreign_id in (("safety_plan", plan_of_a), ("sdm_assessment", sdm_of_a)):
        body = {"kind": kind, "summary": "Please approve", "approver_subject": "sup.okafor"}
        foreign = await assessment.client.post(
            url, json={**body, "subject_id": str(foreign_id)}, headers=two_cases["worker_b"]
        )
        random = await assessment.client.post(
            url, json={**body, "subject_id": str(new_id())}, headers=two_cases["worker_b"]
        )
        assert same_problem(foreign, random), (kind, foreign.text)
    # case A's own worker may, and a second request answers 409 only within the case
    mine = await assessment.client.post(
        f"/v1/cases/{two_cases['a']}/approvals",
        headers=two_cases["worker_a"],
        json={"kind": "safety_plan", "subject_id": str(plan_of_a), "summary": "Please approve"},
    )
    assert mine.status_code == 201, mine.text


async def test_a_decision_about_one_familys_plan_never_closes_another_familys_queue_item(
    assessment: RunningService,
    two_cases: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    plan_id = new_id()
    base = {
        "plan_id": str(plan_id),
        "title": "Keeping the children safe",
        "plan_type": "ongoing",
        "version_number": 1,
        "requested_by": "fsw.rivera",
        "supervisor": "sup.okafor",
    }
    await announce(assessment, "sop.plans.safety_plan.approval_requested", two_cases["a"], **base)
    # a decision that (wrongly or maliciously) names the same plan in case B closes nothing in case A
    await announce(
        assessment,
        "sop.plans.safety_plan.approval_decided",
        two_cases["b"],
        **base,
        decision="approved",
        decided_by="sup.elsewhere",
    )
    queue_a = (
        await assessment.client.get(f"/v1/cases/{two_cases['a']}/approvals", headers=two_cases["worker_a"])
    ).json()["items"]
    assert [(a["status"], a["subject_id"]) for a in queue_a] == [("pending", str(plan_id))]


async def test_a_goal_and_a_rating_cannot_point_at_another_familys_danger_statement(
    assessment: RunningService,
    two_cases: dict[str, Any],
    maria_danger_statement: dict[str, Any],
) -> None:
    statement_a = (
        await assessment.client.post(
            f"/v1/cases/{two_cases['a']}/statements", json=maria_danger_statement, headers=two_cases["worker_a"]
        )
    ).json()["id"]
    goal = {
        "duration": "P3M",
        "owner": "family",
        "caregiver_will_be_doing": "Maria will make sure a sober adult is awake with Sofia and Mateo every night",
        "child_will_experience": "Sofia and Mateo will go to sleep knowing an adult can help them",
        "others_will_see": "Rosa and Ms. Rivera will see Maria call Rosa when she has been drinking",
    }
    rating = {"occasion_on": "2026-11-02", "rater_name": "Maria", "rater_role": "caregiver", "score": 5}
    for path, body, field in (("safety-goals", goal, "danger_statement_id"), ("scale-ratings", rating, "statement_id")):
        url = f"/v1/cases/{two_cases['b']}/{path}"
        foreign = await assessment.client.post(url, json={**body, field: statement_a}, headers=two_cases["worker_b"])
        random = await assessment.client.post(url, json={**body, field: str(new_id())}, headers=two_cases["worker_b"])
        assert same_problem(foreign, random), (path, foreign.text)
        assert foreign.json()["errors"][0]["field"] == field


async def test_a_query_cannot_filter_by_another_familys_danger_statement(
    assessment: RunningService,
    two_cases: dict[str, Any],
    maria_danger_statement: dict[str, Any],
) -> None:
    """Ids in a query are held to the case like ids in a body: a filter by another family's statement is
    refused exactly as a filter by a random id, naming the parameter; the case's own statement filters."""
    statements = {
        case: (
            await assessment.client.post(
                f"/v1/cases/{two_cases[case]}/statements",
                json=maria_danger_statement,
                headers=two_cases[f"worker_{case}"],
            )
        ).json()["id"]
        for case in ("a", "b")
    }
    for path, parameter in (
        ("scale-ratings", "statement_id"),
        ("scale-ratings/trajectory", "statement_id"),
        ("safety-goals", "danger_statement_id"),
    ):
        url = f"/v1/cases/{two_cases['b']}/{path}"
        worker = two_cases["worker_b"]
        foreign = await assessment.client.get(url, params={parameter: statements["a"]}, headers=worker)
        random = await assessment.client.get(url, params={parameter: str(new_id())}, headers=worker)
        assert same_problem(foreign, random), (path, foreign.text)
        assert foreign.json()["errors"] == [{"field": parameter, "message": "no such danger statement in this case"}]
        own = await assessment.client.get(url, params={parameter: statements["b"]}, headers=worker)
        assert own.status_code == 200, (path, own.text)


async def test_a_record_asked_for_under_another_case_is_not_found(
    assessment: RunningService, two_cases: dict[str, Any]
) -> None:
    """`?case_id=` on a flat record route is the case the request is for: one the token is not for does not
    exist for this caller, whatever the record."""
    url = f"/v1/sdm-assessments/{new_id()}"
    answer = await assessment.client.get(url, params={"case_id": str(two_cases["a"])}, headers=two_cases["worker_b"])
    assert answer.status_code == 404, answer.text


async def test_a_flat_record_route_takes_the_case_query_its_document_lists(
    assessment: RunningService, two_cases: dict[str, Any]
) -> None:
    """The OpenAPI document lists `?case_id=` on the flat child-voice routes; the route accepts it (a query
    parameter a route declares is never refused as unknown) and holds the record to that case."""
    worker = two_cases["worker_a"]
    record = {
        "kind": "three_houses",
        "child": {"name": "Sofia"},
        "language": "en",
        "consent": {"shared_with": ["family"]},
        "content": {
            "session_date": "2026-11-20",
            "parent_consent": "not_needed",
            "houses": [{"house": "good_things", "entries": [{"words": "Grandma Rosa makes pancakes"}]}],
        },
    }
    created = await assessment.client.post(f"/v1/cases/{two_cases['a']}/child-voice", json=record, headers=worker)
    assert created.status_code == 201, created.text
    url = f"/v1/child-voice/{created.json()['id']}"
    own = await assessment.client.get(url, params={"case_id": str(two_cases["a"])}, headers=worker)
    assert own.status_code == 200, own.text
    other = await assessment.client.get(url, params={"case_id": str(two_cases["b"])}, headers=worker)
    assert other.status_code == 404, other.text
    unknown = await assessment.client.get(url, params={"cas_id": str(two_cases["a"])}, headers=worker)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "cas_id"
