"""Three-column maps over HTTP, on SQLite and PostgreSQL: every save a new version (never an overwrite),
any version readable as it was, and a map marked complete only when each active danger statement has a
paired safety goal and a safety-scale rating."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_assessment.maps.models import AssessmentMap, MapVersion
from sop_shared.db import Database
from sop_shared.testing import InternalTokens, RunningService

LOPEZ_MAP: dict[str, Any] = {
    "context": "in_home",
    "title": "Lopez family map, first home visit",
    "participants": [
        {"name": "Maria Lopez", "role": "mother"},
        {"name": "Rosa Delgado", "role": "grandmother"},
        {"name": "Dana Rivera", "role": "worker"},
    ],
    "complicating_factors": [
        {
            "text": "Maria works late shifts and is tired in the evenings",
            "source": {"name": "Maria Lopez"},
            "agrees": ["Rosa Delgado"],
        }
    ],
    "strengths": [{"text": "Maria walks Sofia to school every morning", "source": {"name": "Sofia's teacher"}}],
    "existing_safety": [
        {
            "text": "Rosa took the children to her house on the night Maria was drinking",
            "source": {"name": "Rosa Delgado"},
            "by_whom": "Rosa",
            "when": "12 October 2026",
            "how_often": "once",
        }
    ],
    "next_steps": [
        {"text": "Talk with Rosa about staying over on weekend nights", "owner": "Dana Rivera", "due_on": "2026-12-07"}
    ],
    "gray_areas": [{"text": "Whether Maria's brother drinks with her", "disputes": ["Maria Lopez"]}],
}


def maps_of(case_id: uuid.UUID) -> str:
    return f"/v1/cases/{case_id}/maps"


async def count_rows(svc: RunningService) -> dict[str, int]:
    db = Database(svc.database_url)
    try:
        async with db.session() as s:
            return {
                "maps": (await s.execute(select(func.count()).select_from(AssessmentMap))).scalar_one(),
                "versions": (await s.execute(select(func.count()).select_from(MapVersion))).scalar_one(),
            }
    finally:
        await db.dispose()


async def start_map(svc: RunningService, case_id: uuid.UUID, headers: dict[str, str]) -> dict[str, Any]:
    response = await svc.client.post(maps_of(case_id), json=LOPEZ_MAP, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def save_body(current: dict[str, Any], **changes: Any) -> dict[str, Any]:
    content = current["content"]
    body = {
        k: content[k]
        for k in ("participants", "complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas")
    }
    return {**body, **changes}


async def test_a_new_map_is_version_one_with_every_item_carrying_its_source_and_who_agrees(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    response = await assessment.client.post(maps_of(lopez_case), json=LOPEZ_MAP, headers=rivera)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["ETag"] == '"1"' and response.headers["Location"] == f"/v1/maps/{body['id']}"
    assert (body["current_version"], body["status"], body["context"]) == (1, "draft", "in_home")
    factor = body["content"]["complicating_factors"][0]
    assert factor["source"] == {"name": "Maria Lopez", "person_id": None} and factor["agrees"] == ["Rosa Delgado"]
    uuid.UUID(factor["id"])
    assert body["content"]["existing_safety"][0]["by_whom"] == "Rosa"
    assert body["content"]["next_steps"][0]["status"] == "open"
    assert body["content"]["gray_areas"][0]["disputes"] == ["Maria Lopez"]


@pytest.mark.sqlite_smoke
async def test_each_save_is_a_new_version_and_the_old_version_still_reads_as_it_was(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    first = await start_map(assessment, lopez_case, rivera)
    strengths = [*first["content"]["strengths"], {"text": "Maria asked Rosa for help herself"}]
    saved = await assessment.client.put(
        f"/v1/maps/{first['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json=save_body(first, strengths=strengths, change_note="second visit"),
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["ETag"] == '"2"' and saved.json()["current_version"] == 2
    assert [s["text"] for s in saved.json()["content"]["strengths"]] == [
        "Maria walks Sofia to school every morning",
        "Maria asked Rosa for help herself",
    ]
    # the untouched items keep their ids across versions
    assert saved.json()["content"]["strengths"][0]["id"] == first["content"]["strengths"][0]["id"]
    v1 = (await assessment.client.get(f"/v1/maps/{first['id']}/versions/1", headers=rivera)).json()
    assert v1["content"] == first["content"] and v1["number"] == 1
    v2 = (await assessment.client.get(f"/v1/maps/{first['id']}/versions/2", headers=rivera)).json()
    assert v2["change_note"] == "second visit" and v2["saved_by"] == "fsw.rivera"
    listing = (await assessment.client.get(f"/v1/maps/{first['id']}/versions", headers=rivera)).json()
    assert [v["number"] for v in listing["items"]] == [1, 2]
    assert await count_rows(assessment) == {"maps": 1, "versions": 2}
    missing = await assessment.client.get(f"/v1/maps/{first['id']}/versions/3", headers=rivera)
    assert missing.status_code == 404
    # A number no column holds is the caller's mistake, named (schemathesis found it a 500 on SQLite).
    for n in ("0", "242781306580762005457600512000"):
        huge = await assessment.client.get(f"/v1/maps/{first['id']}/versions/{n}", headers=rivera)
        assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "n", huge.text


async def test_saving_a_map_that_did_not_change_makes_no_new_version(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    first = await start_map(assessment, lopez_case, rivera)
    body = save_body(first)
    for category in ("complicating_factors", "strengths"):  # sent without ids, same words, same place
        body[category] = [{k: v for k, v in item.items() if k != "id"} for item in body[category]]
    again = await assessment.client.put(f"/v1/maps/{first['id']}", headers={**rivera, "If-Match": '"1"'}, json=body)
    assert again.status_code == 200 and again.json()["current_version"] == 1
    assert await count_rows(assessment) == {"maps": 1, "versions": 1}


async def test_a_save_based_on_an_old_version_is_refused_and_a_save_without_if_match_too(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    first = await start_map(assessment, lopez_case, rivera)
    url = f"/v1/maps/{first['id']}"
    changed = save_body(first, gray_areas=[])
    assert (await assessment.client.put(url, headers={**rivera, "If-Match": '"1"'}, json=changed)).status_code == 200
    stale = await assessment.client.put(url, headers={**rivera, "If-Match": '"1"'}, json=save_body(first, strengths=[]))
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    assert (await assessment.client.put(url, headers=rivera, json=changed)).status_code == 428
    assert await count_rows(assessment) == {"maps": 1, "versions": 2}


async def test_bad_map_input_is_422_naming_each_field_and_nothing_is_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    bad = {**LOPEZ_MAP, "context": "kitchen", "strengths": [{"text": ""}]}
    response = await assessment.client.post(maps_of(lopez_case), json=bad, headers=rivera)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {"context", "strengths.0.text"}
    both = {**LOPEZ_MAP, "strengths": [{"text": "Rosa visits", "agrees": ["Maria"], "disputes": ["maria"]}]}
    response = await assessment.client.post(maps_of(lopez_case), json=both, headers=rivera)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["strengths.0.disputes.0"]
    assert await count_rows(assessment) == {"maps": 0, "versions": 0}


async def test_an_item_id_that_is_not_on_this_map_is_refused(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    first = await start_map(assessment, lopez_case, rivera)
    body = save_body(first, strengths=[{"id": str(uuid.uuid4()), "text": "Someone else's item"}])
    response = await assessment.client.put(f"/v1/maps/{first['id']}", headers={**rivera, "If-Match": '"1"'}, json=body)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["strengths.0.id"]
    assert await count_rows(assessment) == {"maps": 1, "versions": 1}


async def danger_statement(
    svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], body: dict[str, Any]
) -> str:
    response = await svc.client.post(f"/v1/cases/{case_id}/statements", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_map_is_complete_only_when_each_active_danger_statement_has_a_goal_and_a_rating(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    the_map = await start_map(assessment, lopez_case, rivera)
    statement_id = await danger_statement(assessment, lopez_case, rivera, maria_danger_statement)
    complete = f"/v1/maps/{the_map['id']}/complete"
    refused = await assessment.client.post(complete, headers={**rivera, "If-Match": '"1"'})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        f"danger_statements.{statement_id}.safety_goal",
        f"danger_statements.{statement_id}.scale_rating",
    ]
    # a supervisor's exception is to the balance rule, never to a danger statement's own goal and rating
    excepted = await assessment.client.post(
        complete, json={"exception_reason": "We need the map closed today"}, headers={**okafor, "If-Match": '"1"'}
    )
    assert excepted.status_code == 422 and excepted.json()["errors"] == refused.json()["errors"]

    goal = await assessment.client.post(
        f"/v1/cases/{lopez_case}/safety-goals",
        headers=rivera,
        json={
            "danger_statement_id": statement_id,
            "duration": "P3M",
            "owner": "family",
            "caregiver_will_be_doing": "Maria will make sure a sober adult is awake with Sofia and Mateo every night",
        },
    )
    assert goal.status_code == 201, goal.text
    refused = await assessment.client.post(complete, headers={**rivera, "If-Match": '"1"'})
    assert [e["field"] for e in refused.json()["errors"]] == [f"danger_statements.{statement_id}.scale_rating"]

    overall = await assessment.client.post(
        f"/v1/cases/{lopez_case}/scale-ratings",
        headers=rivera,
        json={"occasion_on": "2026-11-02", "rater_name": "Dana Rivera", "rater_role": "worker", "score": 4},
    )
    assert overall.status_code == 201
    refused = await assessment.client.post(complete, headers={**rivera, "If-Match": '"1"'})
    assert refused.status_code == 422, "an overall rating does not rate the danger statement"

    rating = await assessment.client.post(
        f"/v1/cases/{lopez_case}/scale-ratings",
        headers=rivera,
        json={
            "statement_id": statement_id,
            "occasion_on": "2026-11-02",
            "rater_name": "Maria Lopez",
            "rater_role": "caregiver",
            "score": 6,
        },
    )
    assert rating.status_code == 201, rating.text
    done = await assessment.client.post(complete, headers={**rivera, "If-Match": '"1"'})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["completed_version"], done.json()["completed_by"]) == (
        "complete",
        1,
        "fsw.rivera",
    )

    # a later change is a new draft version; the completed one stays as it was
    saved = await assessment.client.put(
        f"/v1/maps/{the_map['id']}", headers={**rivera, "If-Match": '"1"'}, json=save_body(the_map, gray_areas=[])
    )
    assert (saved.json()["status"], saved.json()["current_version"], saved.json()["completed_version"]) == (
        "draft",
        2,
        1,
    )


async def test_an_unbalanced_map_is_completed_only_with_a_supervisors_recorded_exception(
    assessment: RunningService,
    okafor: dict[str, str],
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    """Resolved and withdrawn statements do not count: with the only danger statement withdrawn and nothing
    working well on the map, the map is not balanced; a worker cannot except it, a supervisor can, and the
    exception is kept with who and when."""
    the_map = await assessment.client.post(
        maps_of(lopez_case), json={**LOPEZ_MAP, "strengths": [], "existing_safety": []}, headers=rivera
    )
    assert the_map.status_code == 201, the_map.text
    statement_id = await danger_statement(assessment, lopez_case, rivera, maria_danger_statement)
    withdrawn = await assessment.client.patch(
        f"/v1/statements/{statement_id}", json={"status": "withdrawn"}, headers={**rivera, "If-Match": '"1"'}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    complete = f"/v1/cases/{lopez_case}/maps/{the_map.json()['id']}/complete"
    refused = await assessment.client.post(complete, headers={**rivera, "If-Match": '"1"'})
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["danger_statements", "working_well", "safety_goals"]

    reason = {"exception_reason": "Investigation closed unsubstantiated: no danger to map, family declined services"}
    not_a_supervisor = await assessment.client.post(complete, json=reason, headers={**rivera, "If-Match": '"1"'})
    assert not_a_supervisor.status_code == 403, not_a_supervisor.text
    done = await assessment.client.post(complete, json=reason, headers={**okafor, "If-Match": '"1"'})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["completed_by"]) == ("complete", "sup.okafor")
    exception = body["completion_exception"]
    assert (exception["reason"], exception["recorded_by"], exception["waived"]) == (
        reason["exception_reason"],
        "sup.okafor",
        ["danger_statements", "working_well", "safety_goals"],
    )
    assert exception["recorded_at"] == body["completed_at"]
    again = await assessment.client.get(f"/v1/maps/{body['id']}", headers=rivera)
    assert again.json()["completion_exception"] == exception


async def test_more_than_three_active_danger_statements_is_a_warning_not_an_error(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    the_map = await start_map(assessment, lopez_case, rivera)
    for _ in range(4):
        await danger_statement(assessment, lopez_case, rivera, maria_danger_statement)
    body = (await assessment.client.get(f"/v1/maps/{the_map['id']}", headers=rivera)).json()
    assert [w["code"] for w in body["warnings"]] == ["many_danger_statements"]


async def test_the_case_scoped_paths_reach_the_same_map_and_other_cases_cannot_see_it(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    the_map = await start_map(assessment, lopez_case, rivera)
    twin = await assessment.client.get(f"/v1/cases/{lopez_case}/maps/{the_map['id']}", headers=rivera)
    assert twin.status_code == 200 and twin.json()["id"] == the_map["id"] and twin.headers["ETag"] == '"1"'
    saved = await assessment.client.put(
        f"/v1/cases/{lopez_case}/maps/{the_map['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json=save_body(the_map, strengths=[]),
    )
    assert saved.status_code == 200 and saved.json()["current_version"] == 2
    assert (
        await assessment.client.get(f"/v1/cases/{lopez_case}/maps/{the_map['id']}/versions/2", headers=rivera)
    ).status_code == 200
    other_case = uuid.uuid4()
    stranger = tokens.headers("assessment", case_id=other_case)
    for url in (
        f"/v1/maps/{the_map['id']}",
        f"/v1/maps/{the_map['id']}/versions/1",
        f"/v1/cases/{other_case}/maps/{the_map['id']}",
    ):
        assert (await assessment.client.get(url, headers=stranger)).status_code == 404
    assert (await assessment.client.get(maps_of(other_case), headers=stranger)).json()["items"] == []
    reader = tokens.headers("assessment", case_id=lopez_case, scopes=["case:read"])
    refused = await assessment.client.put(
        f"/v1/maps/{the_map['id']}", headers={**reader, "If-Match": '"2"'}, json=save_body(the_map)
    )
    assert refused.status_code == 403


async def outbox_subjects(svc: RunningService) -> list[str]:
    from sop_assessment.models import platform

    db = Database(svc.database_url)
    try:
        async with db.session() as s:
            rows = (
                await s.execute(
                    select(platform.outbox.c.subject, platform.outbox.c.payload).order_by(platform.outbox.c.id)
                )
            ).all()
            # the start-up announcement of the loaded SDM instruments is no map event
            return [row.subject for row in rows if row.subject != "sop.assessment.sdm_instruments.published"]
    finally:
        await db.dispose()


@pytest.mark.sqlite_smoke
async def test_each_map_change_is_announced_once_and_a_refused_completion_announces_nothing(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    the_map = await start_map(assessment, lopez_case, rivera)
    await assessment.client.put(
        f"/v1/maps/{the_map['id']}", headers={**rivera, "If-Match": '"1"'}, json=save_body(the_map, gray_areas=[])
    )
    await assessment.client.put(
        f"/v1/maps/{the_map['id']}", headers={**rivera, "If-Match": '"2"'}, json=save_body(the_map, gray_areas=[])
    )  # no change: no version, no event
    await danger_statement(assessment, lopez_case, rivera, maria_danger_statement)
    refused = await assessment.client.post(f"/v1/maps/{the_map['id']}/complete", headers={**rivera, "If-Match": '"2"'})
    assert refused.status_code == 422
    assert await outbox_subjects(assessment) == [
        "sop.assessment.map.created",
        "sop.assessment.map.version_saved",
        "sop.assessment.statement.created",
    ]
    read = (await assessment.client.get(f"/v1/maps/{the_map['id']}", headers=rivera)).json()
    assert (read["status"], read["completed_version"]) == ("draft", None)
