"""Ready to share, on PostgreSQL (and SQLite for the smoke set): a statement, a safety goal or a map a worker
writes is a draft the agency reads and nobody else does, until the worker marks it ready to share — with a
reason when the plain-language check has findings. Withdrawn records are never shown outside the agency, and
new words in a goal are a draft again."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from sop_assessment.models import Statement
from sop_shared.db import Database
from sop_shared.testing import RunningService

OUTSIDE = ("family", "network", "partner", "court")
# The example: a label, nothing about what could happen to the child.
LABEL_STATEMENT = {
    "kind": "danger",
    "language": "en",
    "text": "DCFS is worried that Maria is an alcoholic with mental health issues and anger problems.",
}


# Plain words with every part: the check finds nothing, so no reason is needed.
PLAIN_STATEMENT = {
    "kind": "danger",
    "language": "en",
    "who_is_worried": "Rosa",
    "caregiver_behaviour": "Maria drinks until she sleeps",
    "context_trigger": "when she is alone with the kids at night",
    "children": [{"name": "Sofia"}],
    "feared_impact_on_child": "could get hurt with no one awake to help",
}


def as_audience(headers: dict[str, str], audience: str) -> dict[str, str]:
    return {**headers, "X-SOP-Audience": audience}


def if_match(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


async def write(svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], path: str, body: Any) -> Any:
    response = await svc.client.post(f"/v1/cases/{case_id}/{path}", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def danger_ids(svc: RunningService, case_id: uuid.UUID, headers: dict[str, str]) -> list[str]:
    view = await svc.client.get(f"/v1/cases/{case_id}/case-view", headers=headers)
    assert view.status_code == 200, view.text
    return [s["id"] for s in view.json()["statements"]["danger"]]


async def shared_at(svc: RunningService, statement_id: str) -> Any:
    db = Database(svc.database_url)
    try:
        async with db.session() as s:
            row = (await s.execute(select(Statement).where(Statement.id == uuid.UUID(statement_id)))).scalar_one()
            return row.shared_at
    finally:
        await db.dispose()


@pytest.mark.sqlite_smoke
async def test_a_statement_is_a_draft_only_the_agency_reads_until_the_worker_shares_it(
    assessment: RunningService, rivera: dict[str, str], lopez_case: uuid.UUID
) -> None:
    statement = await write(assessment, lopez_case, rivera, "statements", PLAIN_STATEMENT)
    assert statement["sharing"] == "draft" and statement["shared_at"] is None
    assert statement["plain_language"]["findings"] == []
    assert await danger_ids(assessment, lopez_case, rivera) == [statement["id"]]
    for audience in OUTSIDE:
        headers = as_audience(rivera, audience)
        view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=headers)).json()
        assert view["statements"]["danger"] == [] and view["statements"]["danger_paging"]["total_count"] == 0
        listed = await assessment.client.get(f"/v1/cases/{lopez_case}/statements", headers=headers)
        assert listed.json()["items"] == [], audience
        one = await assessment.client.get(f"/v1/cases/{lopez_case}/statements/{statement['id']}", headers=headers)
        assert one.status_code == 404, audience
        translations = await assessment.client.get(f"/v1/statements/{statement['id']}/translations", headers=headers)
        assert translations.status_code == 404, audience

    shared = await assessment.client.post(
        f"/v1/cases/{lopez_case}/statements/{statement['id']}/share", headers=if_match(rivera, 1), json={}
    )
    assert shared.status_code == 200, shared.text
    body = shared.json()
    assert (body["sharing"], body["shared_by"], body["share_reason"]) == ("shared", "fsw.rivera", None)
    assert body["version"] == 1 and shared.headers["ETag"] == '"1"'  # the words did not change
    for audience in OUTSIDE:
        assert await danger_ids(assessment, lopez_case, as_audience(rivera, audience)) == [statement["id"]]


async def test_words_the_check_finds_fault_with_need_a_reason_and_without_one_nothing_is_shared(
    assessment: RunningService, rivera: dict[str, str], lopez_case: uuid.UUID
) -> None:
    statement = await write(assessment, lopez_case, rivera, "statements", LABEL_STATEMENT)
    codes = {f["code"] for f in statement["plain_language"]["findings"] if f["severity"] == "warning"}
    assert codes, statement["plain_language"]
    url = f"/v1/cases/{lopez_case}/statements/{statement['id']}/share"
    unknown = await assessment.client.post(url, headers=if_match(rivera, 1), json={"reason": "ok then", "shared": 1})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "shared"
    for body in ({}, {"reason": None}):
        refused = await assessment.client.post(url, headers=if_match(rivera, 1), json=body)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        [error] = refused.json()["errors"]
        assert error["field"] == "reason" and all(code in error["message"] for code in codes)
    assert await shared_at(assessment, statement["id"]) is None
    assert await danger_ids(assessment, lopez_case, as_audience(rivera, "family")) == []

    reason = "Maria asked for these words to stay until the family meeting on Friday"
    shared = await assessment.client.post(url, headers=if_match(rivera, 1), json={"reason": reason})
    assert shared.status_code == 200, shared.text
    assert shared.json()["share_reason"] == reason
    staff = await assessment.client.get(f"/v1/cases/{lopez_case}/statements/{statement['id']}", headers=rivera)
    assert staff.json()["share_reason"] == reason  # the supervisor sees why
    family = as_audience(rivera, "family")
    one = await assessment.client.get(f"/v1/cases/{lopez_case}/statements/{statement['id']}", headers=family)
    view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=family)).json()
    assert one.json()["share_reason"] is None and view["statements"]["danger"][0]["share_reason"] is None
    assert one.json()["sharing"] == "shared"  # the family reads the words, not the agency's note about them


async def test_a_stale_share_is_refused_and_a_withdrawn_statement_is_never_shown_or_shared(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await write(assessment, lopez_case, rivera, "statements", maria_danger_statement)
    url = f"/v1/cases/{lopez_case}/statements/{statement['id']}"
    reason = {"reason": "the words Maria and Rosa chose"}
    assert (await assessment.client.post(f"{url}/share", headers=rivera, json=reason)).status_code == 428
    assert (await assessment.client.post(f"{url}/share", headers=if_match(rivera, 1), json=reason)).status_code == 200
    withdrawn = await assessment.client.patch(url, headers=if_match(rivera, 1), json={"status": "withdrawn"})
    assert withdrawn.status_code == 200, withdrawn.text
    stale = await assessment.client.post(f"{url}/share", headers=if_match(rivera, 1), json=reason)
    assert stale.status_code == 412
    again = await assessment.client.post(f"{url}/share", headers=if_match(rivera, 2), json=reason)
    assert again.status_code == 409 and again.json()["type"].endswith("/withdrawn-not-shared")
    for audience in OUTSIDE:
        assert await danger_ids(assessment, lopez_case, as_audience(rivera, audience)) == []
    staff = (await assessment.client.get(f"{url}", headers=rivera)).json()
    assert staff["status"] == "withdrawn" and staff["sharing"] == "shared"


async def test_a_goal_is_shared_on_its_own_and_new_words_are_a_draft_again(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    statement = await write(assessment, lopez_case, rivera, "statements", maria_danger_statement)
    goal = await write(
        assessment,
        lopez_case,
        rivera,
        "safety-goals",
        {
            "danger_statement_id": statement["id"],
            "duration": "P3M",
            "owner": "family",
            "caregiver_will_be_doing": "Maria will make sure a sober adult is awake with Sofia and Mateo every night",
            "child_will_experience": "Sofia and Mateo will go to sleep knowing an adult can help them",
        },
    )
    family = as_audience(rivera, "family")

    async def family_goals() -> list[str]:
        view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=family)).json()
        listed = (await assessment.client.get(f"/v1/cases/{lopez_case}/safety-goals", headers=family)).json()
        assert [g["id"] for g in view["safety_goals"]] == [g["id"] for g in listed["items"]]
        return [g["id"] for g in view["safety_goals"]]

    goal_url = f"/v1/cases/{lopez_case}/safety-goals/{goal['id']}"
    reason = {"reason": "agreed with Maria and Rosa"}
    assert (
        await assessment.client.post(f"{goal_url}/share", headers=if_match(rivera, 1), json=reason)
    ).status_code == 200
    assert await family_goals() == []  # its danger statement is still a draft: the goal waits for it
    statement_url = f"/v1/cases/{lopez_case}/statements/{statement['id']}"
    version = (await assessment.client.get(statement_url, headers=rivera)).json()["version"]
    statement_shared = await assessment.client.post(
        f"{statement_url}/share", headers=if_match(rivera, version), json=reason
    )
    assert statement_shared.status_code == 200, statement_shared.text
    assert await family_goals() == [goal["id"]]
    assert (await assessment.client.get(goal_url, headers=family)).status_code == 200

    changed = await assessment.client.patch(goal_url, headers=if_match(rivera, 1), json={"duration": "P6M"})
    assert changed.status_code == 200 and changed.json()["sharing"] == "draft"
    assert await family_goals() == []
    assert (await assessment.client.get(goal_url, headers=family)).status_code == 404
    owner_only = await assessment.client.post(f"{goal_url}/share", headers=if_match(rivera, 2), json=reason)
    assert owner_only.status_code == 200
    assert await family_goals() == [goal["id"]]


async def test_the_family_reads_the_shared_version_of_a_map_while_the_worker_drafts_the_next(
    assessment: RunningService, rivera: dict[str, str], lopez_case: uuid.UUID
) -> None:
    the_map = await write(
        assessment,
        lopez_case,
        rivera,
        "maps",
        {"context": "in_home", "title": "Lopez family", "strengths": [{"text": "Rosa comes every evening"}]},
    )
    family = as_audience(rivera, "family")
    map_url = f"/v1/cases/{lopez_case}/maps/{the_map['id']}"
    view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=family)).json()
    assert view["map"] is None
    assert (await assessment.client.get(map_url, headers=family)).status_code == 404
    assert (await assessment.client.get(f"/v1/cases/{lopez_case}/maps", headers=family)).json()["items"] == []

    shared = await assessment.client.post(f"{map_url}/share", headers=if_match(rivera, 1), json={})
    assert shared.status_code == 200, shared.text
    assert (shared.json()["shared_version"], shared.json()["sharing"]) == (1, "shared")
    content = shared.json()["content"]
    body = {
        **{k: content[k] for k in ("participants", "complicating_factors", "existing_safety", "next_steps")},
        "gray_areas": content["gray_areas"],
        "strengths": [*content["strengths"], {"text": "Maria drafted words the family has not seen"}],
    }
    saved = await assessment.client.put(map_url, headers=if_match(rivera, 1), json=body)
    assert saved.status_code == 200 and saved.json()["current_version"] == 2

    staff_view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=rivera)).json()
    assert len(staff_view["map"]["content"]["strengths"]) == 2
    for reader in (family, as_audience(rivera, "court")):
        view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=reader)).json()
        assert [s["text"] for s in view["map"]["content"]["strengths"]] == ["Rosa comes every evening"]
        one = (await assessment.client.get(map_url, headers=reader)).json()
        assert [s["text"] for s in one["content"]["strengths"]] == ["Rosa comes every evening"]
        assert (await assessment.client.get(f"{map_url}/versions/2", headers=reader)).status_code == 404


@pytest.mark.sqlite_smoke
async def test_a_maps_items_are_checked_when_saved_and_their_findings_need_a_reason_to_share(
    assessment: RunningService, rivera: dict[str, str], lopez_case: uuid.UUID
) -> None:
    the_map = await write(
        assessment,
        lopez_case,
        rivera,
        "maps",
        {
            "context": "in_home",
            "title": "Lopez family",
            "complicating_factors": [{"text": "Maria is non-compliant with her IOP and her UAs are dirty"}],
            "strengths": [{"text": "Rosa comes every evening"}],
        },
    )
    [factor] = the_map["content"]["complicating_factors"]
    [strength] = the_map["content"]["strengths"]
    assert {f["term"] for f in factor["plain_language"]["findings"] if f["code"] == "jargon"} >= {"IOP"}
    assert strength["plain_language"]["findings"] == []

    map_url = f"/v1/cases/{lopez_case}/maps/{the_map['id']}"
    refused = await assessment.client.post(f"{map_url}/share", headers=if_match(rivera, 1), json={})
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["reason"] and "jargon" in refused.text
    family = as_audience(rivera, "family")
    assert (await assessment.client.get(map_url, headers=family)).status_code == 404  # nothing shared

    reason = {"reason": "Maria asked for these words; we explained IOP and UA with her"}
    shared = await assessment.client.post(f"{map_url}/share", headers=if_match(rivera, 1), json=reason)
    assert shared.status_code == 200, shared.text
    assert (shared.json()["shared_version"], shared.json()["share_reason"]) == (1, reason["reason"])
    # what a read gave back may be saved again: the check is read only, left out
    content = shared.json()["content"]
    body = {k: content[k] for k in ("participants", "complicating_factors", "strengths", "existing_safety")}
    saved = await assessment.client.put(map_url, headers=if_match(rivera, 1), json={**body, "title": "Lopez, v2"})
    assert saved.status_code == 200, saved.text
