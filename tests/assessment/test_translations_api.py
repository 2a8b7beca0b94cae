"""Translations of every family-facing text the assessment service keeps, on SQLite and PostgreSQL, by the one
shared rule: a person writes one, another qualified person verifies it (their qualification recorded), an edit
of the words makes it stale, and the case view carries only current ones (the child's own words verbatim, the
translation beside them). The case's translation queue lists what waits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sharing_steps import share

from sop_shared.testing import RunningService

MAP: dict[str, Any] = {
    "context": "in_home",
    "title": "Lopez family map",
    "strengths": [{"text": "Maria walks Sofia to school every morning"}],
    "existing_safety": [{"text": "Rosa took the children to her house", "by_whom": "Rosa", "how_often": "once"}],
}
VOICE: dict[str, Any] = {
    "kind": "three_houses",
    "child": {"name": "Sofia"},
    "language": "en",
    "consent": {"shared_with": ["family"]},
    "sharing_judgement": {"safe": True, "reason": "Maria knows these words already."},
    "content": {
        "session_date": "2026-11-20",
        "houses": [{"house": "dreams", "entries": [{"words": "mommy stays awake and we watch movies"}]}],
    },
}
STRENGTH_ES = "Maria lleva a Sofia a la escuela todas las mañanas"


async def created(svc: RunningService, url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await svc.client.post(url, headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.sqlite_smoke
async def test_a_map_item_is_translated_by_one_person_verified_by_another_and_goes_stale_when_edited(
    assessment: RunningService, rivera: dict[str, str], okafor: dict[str, str], lopez_case: uuid.UUID
) -> None:
    the_map = await created(assessment, f"/v1/cases/{lopez_case}/maps", rivera, MAP)
    the_map = await share(assessment, lopez_case, rivera, "maps", the_map)
    strength = the_map["content"]["strengths"][0]
    url = f"/v1/cases/{lopez_case}/translations"
    body = {
        "record_kind": "map_item",
        "record_id": strength["id"],
        "language": "es",
        "text": STRENGTH_ES,
        "translated_by": "Ana Cruz",
    }
    translation = await created(assessment, url, rivera, body)
    assert (translation["state"], translation["current"], translation["verified"]) == ("needs_verifying", True, False)

    verify = f"{url}/{translation['id']}/verify"
    own = await assessment.client.post(verify, headers=rivera, json={"qualification": "bilingual_staff"})
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "verified_by"
    named = await assessment.client.post(
        verify, headers=okafor, json={"qualification": "bilingual_staff", "verified_by": "ana cruz"}
    )
    assert named.status_code == 422 and named.json()["errors"][0]["field"] == "verified_by"
    untyped = await assessment.client.post(verify, headers=okafor, json={"verified_by": "Grace Okafor"})
    assert untyped.status_code == 422 and untyped.json()["errors"][0]["field"] == "qualification"
    done = await assessment.client.post(
        verify, headers=okafor, json={"qualification": "bilingual_staff", "verified_by": "Grace Okafor"}
    )
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["verified_by"], done.json()["verifier_qualification"]) == (
        "verified",
        "Grace Okafor",
        "bilingual_staff",
    )

    family = {**rivera, "X-SOP-Audience": "family"}
    view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=family)).json()
    [carried] = view["map"]["content"]["strengths"][0]["translations"]
    assert carried == {
        "language": "es",
        "text": STRENGTH_ES,
        "verified": True,
        "current": True,
        "translated_by": "Ana Cruz",
        "source_field": "text",
    }

    # The worker edits the words: the translation is stale for the words as they read now.
    saved = await assessment.client.put(
        f"/v1/maps/{the_map['id']}",
        headers={**rivera, "If-Match": f'"{the_map["current_version"]}"'},
        json={"strengths": [{"id": strength["id"], "text": "Maria walks Sofia and Mateo to school"}]},
    )
    assert saved.status_code == 200, saved.text
    staff = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=rivera)).json()
    assert staff["map"]["content"]["strengths"][0]["translations"] == []
    [listed] = (
        await assessment.client.get(
            url, headers=rivera, params={"record_kind": "map_item", "record_id": strength["id"]}
        )
    ).json()["items"]
    assert (listed["state"], listed["current"]) == ("stale", False)
    again = await assessment.client.post(verify, headers=okafor, json={"qualification": "bilingual_staff"})
    assert again.status_code == 422


async def test_goals_and_the_childs_words_carry_their_translations_and_the_queue_lists_what_waits(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await created(assessment, f"/v1/cases/{lopez_case}/statements", rivera, maria_danger_statement)
    danger = await share(assessment, lopez_case, rivera, "statements", danger)
    goal = await created(
        assessment,
        f"/v1/cases/{lopez_case}/safety-goals",
        rivera,
        {
            "danger_statement_id": danger["id"],
            "caregiver_will_be_doing": "Maria will make sure a sober adult is awake with the children every night",
            "duration": "P3M",
            "owner": "joint",
        },
    )
    goal = await share(assessment, lopez_case, rivera, "safety-goals", goal)
    voice = await created(assessment, f"/v1/cases/{lopez_case}/child-voice", rivera, VOICE)
    url = f"/v1/cases/{lopez_case}/translations"

    queue = await assessment.client.get(
        f"/v1/cases/{lopez_case}/translation-queue", headers=rivera, params={"language": "es"}
    )
    assert queue.status_code == 200, queue.text
    waiting = {(i["record_kind"], i["source_field"], i["state"]) for i in queue.json()["items"]}
    assert waiting == {
        ("statement", "text", "untranslated"),
        ("safety_goal", "text", "untranslated"),
        ("child_voice", "houses.0.entries.0.words", "untranslated"),
    }

    goal_es = await created(
        assessment,
        url,
        rivera,
        {
            "record_kind": "safety_goal",
            "record_id": goal["id"],
            "language": "es",
            "text": "Maria se asegurará de que un adulto sobrio esté despierto con los niños cada noche, por 3 meses.",
            "translated_by": "Ana Cruz",
        },
    )
    words_es = await created(
        assessment,
        url,
        rivera,
        {
            "record_kind": "child_voice",
            "record_id": voice["id"],
            "source_field": "houses.0.entries.0.words",
            "language": "es",
            "text": "mami se queda despierta y vemos películas",
            "translated_by": "Ana Cruz",
        },
    )
    wrong = await assessment.client.post(
        url,
        headers=rivera,
        json={
            **{k: words_es[k] for k in ("record_kind", "record_id", "language", "text")},
            "translated_by": "Ana Cruz",
            "source_field": "consent",
        },
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "source_field"
    elsewhere = await assessment.client.post(
        f"/v1/cases/{uuid.uuid4()}/translations",
        headers=rivera,
        json={
            "record_kind": "safety_goal",
            "record_id": goal["id"],
            "language": "es",
            "text": "x",
            "translated_by": "Ana",
        },
    )
    assert elsewhere.status_code in (403, 404)
    # A record this case does not hold is the case boundary's 422 naming record_id, whatever the kind.
    for kind in ("safety_goal", "statement", "map_item"):
        missing = await assessment.client.post(
            url,
            headers=rivera,
            json={
                "record_kind": kind,
                "record_id": str(uuid.uuid4()),
                "language": "es",
                "text": "x",
                "translated_by": "Ana",
            },
        )
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "record_id", missing.text

    queue = await assessment.client.get(
        f"/v1/cases/{lopez_case}/translation-queue", headers=rivera, params={"language": "es"}
    )
    states = {(i["record_kind"], i["state"], i["translation_id"]) for i in queue.json()["items"]}
    assert ("safety_goal", "needs_verifying", goal_es["id"]) in states
    assert ("child_voice", "needs_verifying", words_es["id"]) in states
    for t in (goal_es, words_es):
        verified = await assessment.client.post(
            f"{url}/{t['id']}/verify", headers=okafor, json={"qualification": "court_interpreter"}
        )
        assert verified.status_code == 200, verified.text

    family = {**rivera, "X-SOP-Audience": "family"}
    view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=family)).json()
    assert [t["text"] for t in view["safety_goals"][0]["translations"]] == [goal_es["text"]]
    [record] = view["child_voice"]
    assert record["content"]["houses"][0]["entries"][0]["words"] == "mommy stays awake and we watch movies"
    assert [(t["source_field"], t["text"]) for t in record["translations"]] == [
        ("houses.0.entries.0.words", "mami se queda despierta y vemos películas")
    ]
    queue = await assessment.client.get(
        f"/v1/cases/{lopez_case}/translation-queue", headers=rivera, params={"language": "es"}
    )
    assert [i["record_kind"] for i in queue.json()["items"]] == ["statement"]
    # The family reads translations in the case view; the workflow is the agency's.
    assert (
        await assessment.client.get(
            f"/v1/cases/{lopez_case}/translation-queue", headers=family, params={"language": "es"}
        )
    ).status_code == 404
