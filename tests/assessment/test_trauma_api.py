"""Trauma-informed practice over HTTP, on SQLite and PostgreSQL: a child's and a caregiver's trauma history and
known triggers, read only with a recorded consent (like Part 2 data) and shown to the worker when planning; the
questions of the bank a worker used in a contact."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_assessment.contacts.models import Contact
from sop_assessment.models import platform
from sop_assessment.trauma.models import TraumaHistory
from sop_shared.testing import InternalTokens, RunningService

SOFIA: dict[str, Any] = {
    "person": {"name": "Sofia"},
    "person_role": "child",
    "history": "Sofia found her mother asleep and could not wake her, twice, at night.",
    "triggers": [
        {"trigger": "Being alone in the house at night", "what_helps": "Knowing Grandma Rosa is on her way"},
        {"trigger": "A door that will not open"},
    ],
    "consented_audiences": ["staff", "supervisor"],
    "consent_note": "Maria agreed for Sofia that her worker and supervisor may read this.",
}


def histories_of(case_id: uuid.UUID) -> str:
    return f"/v1/cases/{case_id}/trauma-histories"


async def stored(svc: RunningService) -> dict[str, int]:
    async with svc.app.state.database.session() as s:
        return {
            name: int((await s.execute(select(func.count()).select_from(table))).scalar_one())
            for name, table in (("histories", TraumaHistory), ("contacts", Contact), ("events", platform.outbox))
        }


@pytest.mark.sqlite_smoke
async def test_a_childs_trauma_history_is_read_only_by_the_audiences_a_consent_names(
    assessment: RunningService,
    rivera: dict[str, str],
    tokens: InternalTokens,
    lopez_case: uuid.UUID,
) -> None:
    created = await assessment.client.post(histories_of(lopez_case), headers=rivera, json=SOFIA)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["restricted"] is False and body["triggers"][0]["what_helps"] == "Knowing Grandma Rosa is on her way"
    url = f"{histories_of(lopez_case)}/{body['id']}"
    for audience in ("family", "network", "partner", "court"):
        seen = (await assessment.client.get(url, headers={**rivera, "X-SOP-Audience": audience})).json()
        assert (seen["restricted"], seen["history"], seen["triggers"], seen["person"]) == (True, None, None, None)
    # the consent is narrowed: the worker (staff) no longer reads it, like Part 2 data
    narrowed = await assessment.client.patch(
        url, headers={**rivera, "If-Match": '"1"'}, json={"consented_audiences": ["supervisor"]}
    )
    assert narrowed.status_code == 200 and narrowed.json()["restricted"] is True
    okafor = tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",), case_id=lopez_case)
    supervisor = (await assessment.client.get(url, headers={**okafor, "X-SOP-Audience": "supervisor"})).json()
    assert supervisor["restricted"] is False and supervisor["version"] == 2
    listed = (await assessment.client.get(histories_of(lopez_case), headers=rivera)).json()["items"]
    assert [(i["id"], i["restricted"]) for i in listed] == [(body["id"], True)]


async def test_the_worker_planning_is_shown_the_known_triggers_in_the_case_view(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    await assessment.client.post(histories_of(lopez_case), headers=rivera, json=SOFIA)
    private = {**SOFIA, "person": {"name": "Maria"}, "person_role": "caregiver", "consented_audiences": []}
    await assessment.client.post(histories_of(lopez_case), headers=rivera, json=private)
    view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=rivera)).json()
    assert [(t["person_name"], t["person_role"], t["trigger"]) for t in view["known_triggers"]] == [
        ("Sofia", "child", "Being alone in the house at night"),
        ("Sofia", "child", "A door that will not open"),
    ]
    family = (
        await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers={**rivera, "X-SOP-Audience": "family"})
    ).json()
    assert family["known_triggers"] is None and "alone in the house" not in str(family)


async def test_a_history_no_consent_can_open_to_the_family_is_refused_and_nothing_is_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    before = await stored(assessment)
    refused = await assessment.client.post(
        histories_of(lopez_case), headers=rivera, json={**SOFIA, "consented_audiences": ["family"]}
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["consented_audiences.0"]
    empty = await assessment.client.post(histories_of(lopez_case), headers=rivera, json={**SOFIA, "history": ""})
    assert empty.status_code == 422 and [e["field"] for e in empty.json()["errors"]] == ["history"]
    assert await stored(assessment) == before


@pytest.mark.sqlite_smoke
async def test_a_worker_records_which_questions_of_the_bank_were_used_in_a_contact(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    url = f"/v1/cases/{lopez_case}/contacts"
    contact = {
        "contact_on": "2026-11-24",
        "contact_type": "home_visit",
        "with_whom": [{"name": "Maria Lopez", "role": "caregiver"}, {"name": "Sofia", "role": "child"}],
        "questions_used": [
            {"key": "miracle_caregiver", "language": "es", "answer": "Me despertaría sin resaca y haría el desayuno."},
            {"key": "scaling_child_path"},
        ],
        "note": "Sofia stood near the safe end of the path.",
    }
    created = await assessment.client.post(url, headers=rivera, json=contact)
    assert created.status_code == 201, created.text
    assert [(q["key"], q["language"]) for q in created.json()["questions_used"]] == [
        ("miracle_caregiver", "es"),
        ("scaling_child_path", "en"),
    ]
    before = await stored(assessment)
    unknown = {**contact, "questions_used": [{"key": "scaling_child_path"}, {"key": "what_is_wrong_with_you"}]}
    refused = await assessment.client.post(url, headers=rivera, json=unknown)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["questions_used.1.key"]
    twice = {**contact, "questions_used": [{"key": "coping_child"}, {"key": "coping_child"}]}
    assert (await assessment.client.post(url, headers=rivera, json=twice)).status_code == 422
    assert await stored(assessment) == before
    listed = (await assessment.client.get(url, headers=rivera, params={"limit": 10})).json()
    assert [c["id"] for c in listed["items"]] == [created.json()["id"]]
    one = await assessment.client.get(f"{url}/{created.json()['id']}", headers=rivera)
    assert one.status_code == 200 and one.json() == created.json()
    elsewhere = await assessment.client.get(f"/v1/cases/{uuid.uuid4()}/contacts/{created.json()['id']}", headers=rivera)
    assert elsewhere.status_code == 404
