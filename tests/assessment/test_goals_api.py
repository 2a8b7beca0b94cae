"""Safety goals and statement status over HTTP, on SQLite and PostgreSQL: one goal per danger statement,
its duration shown in words, negative phrasing flagged but saved; statements resolved or withdrawn with
If-Match, and their SDM threat codes changed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_assessment.goals.models import GoalOwner, GoalStatus, SafetyGoal
from sop_assessment.models import TextSource
from sop_shared.db import Database
from sop_shared.testing import InternalTokens, RunningService


async def goal_count(svc: RunningService) -> int:
    db = Database(svc.database_url)
    try:
        async with db.session() as s:
            return int((await s.execute(select(func.count()).select_from(SafetyGoal))).scalar_one())
    finally:
        await db.dispose()


async def new_statement(
    svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await svc.client.post(f"/v1/cases/{case_id}/statements", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def stored_goal(
    case_id: uuid.UUID,
    statement_id: str,
    *,
    owner: GoalOwner = GoalOwner.family,
    status: GoalStatus = GoalStatus.active,
) -> SafetyGoal:
    """A goal row as written straight to the database (as rows stored before a rule was)."""
    return SafetyGoal(
        case_id=case_id,
        danger_statement_id=uuid.UUID(statement_id),
        status=status,
        text_source=TextSource.worker,
        composed_text="Maria will attend every appointment the agency sets.",
        duration="P1M",
        owner=owner,
        created_by="fsw.rivera",
    )


def maria_goal(statement_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "danger_statement_id": statement_id,
        "duration": "P3M",
        "owner": "family",
        "caregiver_will_be_doing": "Maria will make sure a sober adult is awake with Sofia and Mateo every night",
        "child_will_experience": "Sofia and Mateo will go to sleep knowing an adult can help them",
        "others_will_see": "Rosa and Ms. Rivera will see Maria call Rosa when she has been drinking",
        **changes,
    }


async def test_a_safety_goal_says_what_the_caregiver_will_be_doing_and_for_how_long(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    response = await assessment.client.post(
        f"/v1/cases/{lopez_case}/safety-goals", json=maria_goal(statement["id"]), headers=rivera
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["ETag"] == '"1"' and response.headers["Location"] == f"/v1/safety-goals/{body['id']}"
    assert body["composed_text"] == (
        "Maria will make sure a sober adult is awake with Sofia and Mateo every night. Sofia and Mateo will go to "
        "sleep knowing an adult can help them. Rosa and Ms. Rivera will see Maria call Rosa when she has been "
        "drinking. We need to see this for 3 months."
    )
    assert (body["duration"], body["duration_text"], body["owner"], body["status"]) == (
        "P3M",
        "3 months",
        "family",
        "active",
    )
    assert not [f for f in body["plain_language"]["findings"] if f["severity"] == "warning"]
    listed = (await assessment.client.get(f"/v1/cases/{lopez_case}/safety-goals", headers=rivera)).json()
    assert [g["id"] for g in listed["items"]] == [body["id"]]


async def test_negative_phrasing_in_a_goal_is_flagged_where_it_stands_but_the_goal_is_saved(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    body = maria_goal(
        statement["id"],
        caregiver_will_be_doing="Maria will not drink when the children are home",
        child_will_experience=None,
        language="en",
    )
    response = await assessment.client.post(f"/v1/cases/{lopez_case}/safety-goals", json=body, headers=rivera)
    assert response.status_code == 201, response.text
    text = response.json()["composed_text"]
    findings = response.json()["plain_language"]["findings"]
    assert [(f["code"], f.get("part")) for f in findings if f["code"] == "missing_part"] == [
        ("missing_part", "child_will_experience")
    ]
    negative = [f for f in findings if f["code"] == "negative_phrasing"]
    assert [(f["term"], f["start"]) for f in negative] == [("will not", text.index("will not"))]


async def test_a_spanish_goal_is_composed_in_spanish_with_its_duration_in_words(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    body = {
        "danger_statement_id": statement["id"],
        "language": "es",
        "duration": "P1Y2M",
        "owner": "joint",
        "caregiver_will_be_doing": "María va a llamar a Rosa cuando haya tomado",
    }
    response = await assessment.client.post(f"/v1/cases/{lopez_case}/safety-goals", json=body, headers=rivera)
    assert response.status_code == 201, response.text
    assert response.json()["composed_text"] == (
        "María va a llamar a Rosa cuando haya tomado. Necesitamos ver esto durante 1 año y 2 meses."
    )
    assert response.json()["duration_text"] == "1 año y 2 meses"


@pytest.mark.sqlite_smoke("a partial unique index (sqlite_where)")
async def test_each_danger_statement_has_one_safety_goal_and_a_second_is_409(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    url = f"/v1/cases/{lopez_case}/safety-goals"
    first = await assessment.client.post(url, json=maria_goal(statement["id"]), headers=rivera)
    second = await assessment.client.post(url, json=maria_goal(statement["id"], duration="P6M"), headers=rivera)
    assert second.status_code == 409 and second.json()["safety_goal_id"] == first.json()["id"]
    assert await goal_count(assessment) == 1
    # once the first goal is withdrawn, a new one can answer the statement
    withdrawn = await assessment.client.patch(
        f"/v1/safety-goals/{first.json()['id']}", json={"status": "withdrawn"}, headers={**rivera, "If-Match": '"1"'}
    )
    assert withdrawn.status_code == 200 and withdrawn.headers["ETag"] == '"2"'
    again = await assessment.client.post(url, json=maria_goal(statement["id"], duration="P6M"), headers=rivera)
    assert again.status_code == 201
    revived = await assessment.client.patch(
        f"/v1/safety-goals/{first.json()['id']}", json={"status": "active"}, headers={**rivera, "If-Match": '"2"'}
    )
    assert revived.status_code == 409


async def test_bad_goals_are_422_naming_the_field_and_nothing_is_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    danger = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    harm = await new_statement(assessment, lopez_case, rivera, maria_harm_statement)
    url = f"/v1/cases/{lopez_case}/safety-goals"
    cases = [
        (maria_goal(danger["id"], duration="PT4H"), ["duration"]),
        (maria_goal(danger["id"], duration="P0D"), ["duration"]),
        (maria_goal(danger["id"], owner="the court"), ["owner"]),
        (maria_goal(harm["id"]), ["danger_statement_id"]),
        (maria_goal(str(uuid.uuid4())), ["danger_statement_id"]),
        ({k: v for k, v in maria_goal(danger["id"]).items() if k != "duration"}, ["duration"]),
    ]
    for body, fields in cases:
        response = await assessment.client.post(url, json=body, headers=rivera)
        assert response.status_code == 422, (body, response.text)
        assert [e["field"] for e in response.json()["errors"]] == fields
    assert await goal_count(assessment) == 0


async def test_changing_a_goal_needs_the_version_read_and_recomposes_its_text(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    goal = (
        await assessment.client.post(
            f"/v1/cases/{lopez_case}/safety-goals", json=maria_goal(statement["id"]), headers=rivera
        )
    ).json()
    url = f"/v1/cases/{lopez_case}/safety-goals/{goal['id']}"
    assert (await assessment.client.patch(url, json={"duration": "P6W"}, headers=rivera)).status_code == 428
    changed = await assessment.client.patch(url, json={"duration": "P6W"}, headers={**rivera, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["composed_text"].endswith("We need to see this for 6 weeks.")
    stale = await assessment.client.patch(url, json={"owner": "joint"}, headers={**rivera, "If-Match": '"1"'})
    assert stale.status_code == 412


async def test_a_safety_goal_is_the_caregivers_or_joint_never_the_agencys_alone(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    goals = f"/v1/cases/{lopez_case}/safety-goals"
    refused = await assessment.client.post(goals, json=maria_goal(statement["id"], owner="agency"), headers=rivera)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["owner"]
    assert await goal_count(assessment) == 0

    joint = await assessment.client.post(goals, json=maria_goal(statement["id"], owner="joint"), headers=rivera)
    assert joint.status_code == 201, joint.text
    url = f"{goals}/{joint.json()['id']}"
    to_agency = await assessment.client.patch(url, json={"owner": "agency"}, headers={**rivera, "If-Match": '"1"'})
    assert to_agency.status_code == 422 and [e["field"] for e in to_agency.json()["errors"]] == ["owner"]
    read = (await assessment.client.get(url, headers=rivera)).json()
    assert (read["owner"], read["version"]) == ("joint", 1)

    # a goal stored as the agency's before the rule still reads, and changes otherwise, with its owner
    withdrawn = await assessment.client.patch(url, json={"status": "withdrawn"}, headers={**rivera, "If-Match": '"1"'})
    assert withdrawn.status_code == 200, withdrawn.text
    db = Database(assessment.database_url)
    try:
        async with db.session() as s:
            old = stored_goal(lopez_case, statement["id"], owner=GoalOwner.agency)
            s.add(old)
    finally:
        await db.dispose()
    url = f"{goals}/{old.id}"
    read = (await assessment.client.get(url, headers=rivera)).json()
    assert (read["owner"], read["status"]) == ("agency", "active")
    achieved = await assessment.client.patch(url, json={"status": "achieved"}, headers={**rivera, "If-Match": '"1"'})
    assert achieved.status_code == 200, achieved.text
    assert (achieved.json()["owner"], achieved.json()["status"]) == ("agency", "achieved")
    joint = await assessment.client.patch(url, json={"owner": "joint"}, headers={**rivera, "If-Match": '"2"'})
    assert joint.status_code == 200 and joint.json()["owner"] == "joint"


async def test_a_statement_is_resolved_or_withdrawn_with_if_match_and_a_withdrawn_one_stays_withdrawn(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    url = f"/v1/cases/{lopez_case}/statements/{statement['id']}"
    resolved = await assessment.client.patch(
        url, json={"status": "resolved", "threat_codes": ["T4"]}, headers={**rivera, "If-Match": '"1"'}
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["threat_codes"], resolved.json()["version"]) == (
        "resolved",
        ["T4"],
        2,
    )
    assert resolved.json()["composed_text"] == statement["composed_text"]
    reopened = await assessment.client.patch(
        f"/v1/statements/{statement['id']}", json={"status": "active"}, headers={**rivera, "If-Match": '"2"'}
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "active"
    withdrawn = await assessment.client.patch(url, json={"status": "withdrawn"}, headers={**rivera, "If-Match": '"3"'})
    assert withdrawn.status_code == 200
    back = await assessment.client.patch(url, json={"status": "active"}, headers={**rivera, "If-Match": '"4"'})
    assert back.status_code == 409
    read = (await assessment.client.get(f"/v1/statements/{statement['id']}", headers=rivera)).json()
    assert (read["status"], read["version"]) == ("withdrawn", 4)


async def test_statement_updates_are_checked_like_new_statements(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)
    url = f"/v1/statements/{statement['id']}"
    both = await assessment.client.patch(url, json={"agrees": ["Maria Lopez"]}, headers={**rivera, "If-Match": '"1"'})
    assert both.status_code == 422 and [e["field"] for e in both.json()["errors"]] == ["disputes.0"]
    twice = await assessment.client.patch(
        url, json={"threat_codes": ["T4", "T4"]}, headers={**rivera, "If-Match": '"1"'}
    )
    assert twice.status_code == 422 and [e["field"] for e in twice.json()["errors"]] == ["threat_codes.1"]
    stranger = tokens.headers("assessment", case_id=uuid.uuid4())
    hidden = await assessment.client.patch(url, json={"status": "resolved"}, headers={**stranger, "If-Match": '"1"'})
    assert hidden.status_code == 404
    read = (await assessment.client.get(url, headers=rivera)).json()
    assert (read["version"], read["status"], read["agrees"]) == (1, "active", ["Grandma Rosa"])


@pytest.mark.sqlite_smoke("a partial unique index (sqlite_where)")
async def test_the_database_itself_keeps_one_live_goal_per_danger_statement(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    statement = await new_statement(assessment, lopez_case, rivera, maria_danger_statement)

    def goal(status: GoalStatus) -> SafetyGoal:
        return stored_goal(lopez_case, statement["id"], status=status)

    db = Database(assessment.database_url)
    try:
        async with db.session() as s:  # withdrawn goals do not count
            s.add_all([goal(GoalStatus.withdrawn), goal(GoalStatus.withdrawn), goal(GoalStatus.active)])
        with pytest.raises(IntegrityError):
            async with db.session() as s:
                s.add(goal(GoalStatus.achieved))
    finally:
        await db.dispose()
    assert await goal_count(assessment) == 3
