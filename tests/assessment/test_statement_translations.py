"""Statement translations over HTTP, on SQLite and PostgreSQL: written and verified by people, current only for
the statement's version they translate, reaching the case view, and never naming the reporter to the family."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sharing_steps import share
from sqlalchemy import func, select

from sop_assessment.models import platform
from sop_assessment.translations.models import Translation
from sop_shared.testing import InternalTokens, RunningService

SPANISH = (
    "La abuela Rosa y la agencia están preocupadas porque Maria bebe hasta quedarse dormida cuando está "
    "sola con los niños de noche. Si nada cambia, Sofia y Mateo podrían lastimarse sin un adulto despierto "
    "que los ayude."
)


async def statement(
    svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await svc.client.post(f"/v1/cases/{case_id}/statements", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def stored(svc: RunningService) -> dict[str, int]:
    async with svc.app.state.database.session() as s:
        return {
            "translations": (await s.execute(select(func.count()).select_from(Translation))).scalar_one(),
            "events": (
                await s.execute(
                    select(func.count())
                    .select_from(platform.outbox)
                    .where(platform.outbox.c.subject == "sop.assessment.statement.translated")
                )
            ).scalar_one(),
        }


async def test_a_person_translates_another_verifies_and_the_case_view_carries_both(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement(assessment, lopez_case, rivera, maria_danger_statement)
    url = f"/v1/statements/{danger['id']}/translations"
    draft = await assessment.client.post(
        url, headers=rivera, json={"language": "es", "text": SPANISH, "translated_by": "Ana Cruz"}
    )
    assert draft.status_code == 201, draft.text
    assert draft.json() | {"id": None, "created_at": None} == {
        "id": None,
        "statement_id": danger["id"],
        "case_id": str(lopez_case),
        "statement_version": 1,
        "current": True,
        "language": "es",
        "text": SPANISH,
        "translated_by": "Ana Cruz",
        "names_reporter": False,
        "verified": False,
        "verified_by": None,
        "verifier_qualification": None,
        "verified_at": None,
        "state": "needs_verifying",
        "created_by": "fsw.rivera",
        "created_at": None,
    }
    verified = await assessment.client.post(
        f"/v1/cases/{lopez_case}/statements/{danger['id']}/translations",
        headers=rivera,
        json={
            "language": "es",
            "text": SPANISH,
            "translated_by": "Ana Cruz",
            "verified": True,
            "verified_by": "Luis Ortega",
            "verifier_qualification": "qualified_interpreter",
        },
    )
    assert verified.status_code == 201, verified.text
    assert verified.json()["verified"] is True and verified.json()["verified_at"]

    listed = (await assessment.client.get(url, headers=rivera)).json()["items"]
    assert [(t["verified"], t["current"]) for t in listed] == [(False, True), (True, True)]
    view = (
        await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=rivera, params={"language": "es"})
    ).json()
    assert view["statements"]["danger"][0]["translations"] == [
        {
            "language": "es",
            "text": SPANISH,
            "verified": v,
            "current": True,
            "translated_by": "Ana Cruz",
            "source_field": "text",
        }
        for v in (False, True)
    ]
    assert await stored(assessment) == {"translations": 2, "events": 2}


async def test_a_verified_translation_without_its_verifier_is_refused_and_nothing_is_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement(assessment, lopez_case, rivera, maria_danger_statement)
    url = f"/v1/statements/{danger['id']}/translations"
    for body, field in (
        ({"verified": True}, "verified_by"),
        ({"verified": True, "verified_by": "Luis Ortega"}, "verifier_qualification"),
        (
            {"verified": True, "verified_by": "Luis Ortega", "verifier_qualification": "a friend"},
            "verifier_qualification",
        ),
        ({"language": "en"}, "language"),
        ({"text": "  "}, "text"),
        ({"translated_by": None}, "translated_by"),
    ):
        response = await assessment.client.post(
            url, headers=rivera, json={"language": "es", "text": SPANISH, "translated_by": "Ana Cruz", **body}
        )
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await stored(assessment) == {"translations": 0, "events": 0}


async def test_a_change_to_the_statement_makes_its_translations_stale(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement(assessment, lopez_case, rivera, maria_danger_statement)
    url = f"/v1/statements/{danger['id']}/translations"
    assert (
        await assessment.client.post(
            url, headers=rivera, json={"language": "es", "text": SPANISH, "translated_by": "Ana Cruz"}
        )
    ).status_code == 201
    edit = await assessment.client.patch(
        f"/v1/statements/{danger['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json={
            "text": "Grandma Rosa and the agency are worried that Maria drinks until she falls asleep at night.",
            "change_reason": "Maria asked for her own words",
        },
    )
    assert edit.status_code == 200 and edit.json()["version"] == 2
    [old] = (await assessment.client.get(url, headers=rivera)).json()["items"]
    assert old["statement_version"] == 1 and old["current"] is False
    view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=rivera)).json()
    assert view["statements"]["danger"][0]["translations"] == []
    late = await assessment.client.post(
        url,
        headers=rivera,
        json={"language": "es", "text": SPANISH, "translated_by": "Ana Cruz", "statement_version": 1},
    )
    assert late.status_code == 201 and late.json()["current"] is False
    ahead = await assessment.client.post(
        url,
        headers=rivera,
        json={"language": "es", "text": SPANISH, "translated_by": "Ana Cruz", "statement_version": 3},
    )
    assert ahead.status_code == 422 and ahead.json()["errors"][0]["field"] == "statement_version"


async def test_a_translation_naming_the_reporter_is_not_shown_to_the_family(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_harm_statement: dict[str, Any],
) -> None:
    harm = await share(
        assessment,
        lopez_case,
        rivera,
        "statements",
        await statement(assessment, lopez_case, rivera, maria_harm_statement),
    )
    url = f"/v1/statements/{harm['id']}/translations"
    naming = await assessment.client.post(
        url,
        headers=rivera,
        json={
            "language": "es",
            "translated_by": "Ana Cruz",
            "text": "La maestra de Sofia informó que Maria dejó a Sofia y Mateo solos en casa toda la noche.",
        },
    )
    assert naming.json()["names_reporter"] is True
    family_version = await assessment.client.post(
        url,
        headers=rivera,
        json={
            "language": "es",
            "translated_by": "Ana Cruz",
            "names_reporter": False,
            "text": "Maria dejó a Sofia y Mateo solos en casa toda la noche.",
        },
    )
    assert family_version.status_code == 201
    family = {**rivera, "X-SOP-Audience": "family"}
    view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=family)).json()
    assert [t["text"] for t in view["statements"]["harm"][0]["translations"]] == [
        "Maria dejó a Sofia y Mateo solos en casa toda la noche."
    ]
    listed = (await assessment.client.get(url, headers=family)).json()["items"]
    assert [t["id"] for t in listed] == [family_version.json()["id"]]
    staff = (await assessment.client.get(url, headers=rivera)).json()["items"]
    assert len(staff) == 2


@pytest.mark.sqlite_smoke
async def test_a_repeat_with_the_same_key_records_one_translation_and_other_cases_cannot_reach_it(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement(assessment, lopez_case, rivera, maria_danger_statement)
    url = f"/v1/statements/{danger['id']}/translations"
    body = {"language": "es", "text": SPANISH, "translated_by": "Ana Cruz"}
    first = await assessment.client.post(url, headers={**rivera, "Idempotency-Key": "tr-1"}, json=body)
    again = await assessment.client.post(url, headers={**rivera, "Idempotency-Key": "tr-1"}, json=body)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert await stored(assessment) == {"translations": 1, "events": 1}
    stranger = tokens.headers("assessment", case_id=uuid.uuid4())
    assert (await assessment.client.get(url, headers=stranger)).status_code == 404
    assert (await assessment.client.post(url, headers=stranger, json=body)).status_code == 404
    other_case = f"/v1/cases/{uuid.uuid4()}/statements/{danger['id']}/translations"
    assert (await assessment.client.get(other_case, headers=rivera)).status_code == 404
