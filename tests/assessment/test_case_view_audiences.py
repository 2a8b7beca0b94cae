"""The case view for each audience and language, on SQLite and PostgreSQL: who reported stays with the agency,
a Part 2 statement needs a recorded consent, SDM detail is for staff and the court, internal work is internal,
the child's voice follows the child's consent, and the glossary comes in the reader's language."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sharing_steps import share
from sqlalchemy import func, select

from sop_assessment.models import Statement
from sop_shared.policy import ActorType, NetworkSharing
from sop_shared.testing import InternalTokens, RunningService

PART2 = "Part of this worry is private and is not shown here."
PART2_ES = "Parte de esta preocupación es privada y no se muestra aquí."
V = "illustrative-1"


def as_audience(headers: dict[str, str], audience: str) -> dict[str, str]:
    return {**headers, "X-SOP-Audience": audience}


@pytest.fixture
def maria(tokens: InternalTokens, lopez_case: uuid.UUID) -> dict[str, str]:
    """Maria, Sofia's mother, reading through the family view."""
    return tokens.headers(
        "assessment",
        subject="family.maria",
        actor_type=ActorType.family,
        roles=(),
        scopes=["case:read"],
        case_id=lopez_case,
    )


@pytest.fixture
def maria_part2_statement(maria_danger_statement: dict[str, Any]) -> dict[str, Any]:
    """The danger statement written from Maria's treatment records (42 CFR Part 2)."""
    return {
        **maria_danger_statement,
        "caregiver_behaviour": "Maria stopped going to her treatment at the clinic",
        "sensitivity_labels": ["substance_use_part2"],
    }


async def case_view(svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await svc.client.get(f"/v1/cases/{case_id}/case-view", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def write(
    svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], path: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Write a record and, for a statement or goal, mark it ready to share (the audiences here read shared ones)."""
    response = await svc.client.post(f"/v1/cases/{case_id}/{path}", headers=headers, json=body)
    assert response.status_code == 201, response.text
    if path in ("statements", "safety-goals", "maps"):
        return await share(svc, case_id, headers, path, response.json())
    return response.json()  # type: ignore[no-any-return]


async def test_staff_see_who_reported_and_family_network_partner_and_court_do_not(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria: dict[str, str],
    maria_harm_statement: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    harm = await write(assessment, lopez_case, rivera, "statements", maria_harm_statement)
    staff = await case_view(assessment, lopez_case, rivera)
    assert staff["audience"] == "staff"
    [shown] = staff["statements"]["harm"]
    assert shown["who_reported"] == "Sofia's teacher" and shown["redacted"] == []
    assert shown["composed_text"] == harm["composed_text"]
    # the network reads no harm statement unless the family opens it to them (this one, here)
    network = await case_view(assessment, lopez_case, as_audience(rivera, "network"))
    assert network["statements"]["harm"] == [] and network["statements"]["harm_paging"]["total_count"] == 0
    opened = NetworkSharing(statement_ids=frozenset({uuid.UUID(harm["id"])}))
    with_choice = tokens.headers(
        "assessment", tokens.principal(case_id=lopez_case).scoped_to(lopez_case, network_sharing=opened)
    )
    for audience, headers in (
        ("family", rivera),
        ("network", with_choice),
        ("partner", rivera),
        ("court", rivera),
    ):
        view = await case_view(assessment, lopez_case, as_audience(headers, audience))
        assert view["audience"] == audience
        [shown] = view["statements"]["harm"]
        assert shown["who_reported"] is None and shown["redacted"] == ["who_reported"], audience
        assert (
            shown["composed_text"] == "Maria left Sofia and Mateo alone at home overnight on 2 October 2026. "
            "Sofia and Mateo were scared and went to bed without dinner."
        )
        assert "teacher" not in json.dumps(view["statements"])
    # Maria's own call is the family view without asking, and she cannot ask for the staff one
    assert (await case_view(assessment, lopez_case, maria))["audience"] == "family"
    refused = await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=as_audience(maria, "staff"))
    assert refused.status_code == 403


async def test_the_statement_list_and_read_show_the_callers_audience_the_same(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria: dict[str, str],
    maria_harm_statement: dict[str, Any],
) -> None:
    harm = await write(assessment, lopez_case, rivera, "statements", maria_harm_statement)
    listed = (await assessment.client.get(f"/v1/cases/{lopez_case}/statements", headers=maria)).json()["items"]
    one = (await assessment.client.get(f"/v1/statements/{harm['id']}", headers=maria)).json()
    for shown in (listed[0], one):
        assert shown["who_reported"] is None and shown["redacted"] == ["who_reported"]
    staff = (await assessment.client.get(f"/v1/statements/{harm['id']}", headers=rivera)).json()
    assert staff["who_reported"] == "Sofia's teacher"


@pytest.mark.sqlite_smoke("JSON lists of labels and consents")
async def test_a_part2_statement_is_withheld_until_a_consent_names_the_audience(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_part2_statement: dict[str, Any],
) -> None:
    danger = await write(assessment, lopez_case, rivera, "statements", maria_part2_statement)
    assert danger["sensitivity_labels"] == ["substance_use_part2"] and danger["consented_audiences"] == []
    await write(
        assessment,
        lopez_case,
        rivera,
        "safety-goals",
        {
            "danger_statement_id": danger["id"],
            "duration": "P3M",
            "owner": "family",
            "caregiver_will_be_doing": "Maria will go to every treatment session",
        },
    )

    for audience in ("staff", "court", "family"):  # without a consent nobody is shown Part 2 content
        view = await case_view(assessment, lopez_case, as_audience(rivera, audience))
        [shown] = view["statements"]["danger"]
        assert shown["composed_text"] == PART2 and shown["caregiver_behaviour"] is None
        assert shown["children"] == [] and shown["threat_codes"] == [] and shown["plain_language"] is None
        assert {"composed_text", "caregiver_behaviour", "children", "plain_language"} <= set(shown["redacted"])
        [goal] = view["safety_goals"]
        assert goal["composed_text"] == PART2 and goal["caregiver_will_be_doing"] is None
        assert "treatment" not in json.dumps(view)
    spanish = await case_view(assessment, lopez_case, as_audience(rivera, "family"), language="es")
    assert spanish["statements"]["danger"][0]["composed_text"] == PART2_ES

    consent = await assessment.client.patch(
        f"/v1/statements/{danger['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json={"consented_audiences": ["staff", "court"]},
    )
    assert consent.status_code == 200, consent.text
    for audience, shown_to in (("staff", True), ("court", True), ("family", False), ("network", False)):
        view = await case_view(assessment, lopez_case, as_audience(rivera, audience))
        [shown] = view["statements"]["danger"]
        assert ("treatment" in shown["composed_text"]) is shown_to, audience
        assert (shown["redacted"] == []) is shown_to


async def test_sensitivity_labels_and_consents_are_checked_and_a_refused_write_stores_nothing(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    bad = await assessment.client.post(
        f"/v1/cases/{lopez_case}/statements",
        headers=rivera,
        json={**maria_danger_statement, "sensitivity_labels": ["gossip"], "consented_audiences": ["court", "court"]},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"sensitivity_labels.0"}
    twice = await assessment.client.post(
        f"/v1/cases/{lopez_case}/statements",
        headers=rivera,
        json={**maria_danger_statement, "consented_audiences": ["court", "court"]},
    )
    assert twice.status_code == 422 and twice.json()["errors"][0]["field"] == "consented_audiences.1"
    async with assessment.app.state.database.session() as s:
        assert (await s.execute(select(func.count()).select_from(Statement))).scalar_one() == 0
    danger = await write(assessment, lopez_case, rivera, "statements", maria_danger_statement)
    patch = await assessment.client.patch(
        f"/v1/statements/{danger['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json={"consented_audiences": ["grandma"]},
    )
    assert patch.status_code == 422 and patch.json()["errors"][0]["field"] == "consented_audiences.0"
    assert (await assessment.client.get(f"/v1/statements/{danger['id']}", headers=rivera)).headers["ETag"] == '"1"'


async def test_sdm_detail_is_for_staff_and_court_and_the_decision_and_due_dates_for_everyone(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    sdm = f"/v1/cases/{lopez_case}/sdm-assessments"
    safety = {f"T{n}": False for n in range(1, 12)} | {"V1": False, "V2": False, "V3": False}
    done = await write(
        assessment,
        lopez_case,
        rivera,
        "sdm-assessments",
        {"instrument_key": "safety_assessment", "instrument_version": V, "answers": safety},
    )
    assert (
        await assessment.client.post(f"/v1/sdm-assessments/{done['id']}/complete", headers=rivera)
    ).status_code == 200
    risk = {**{f"N{n}": "a" for n in range(1, 10)}, **{f"A{n}": "a" for n in range(1, 9)}, "threats_remain": False}
    risk_draft = await write(
        assessment,
        lopez_case,
        rivera,
        "sdm-assessments",
        {"instrument_key": "risk_assessment", "instrument_version": V, "answers": risk},
    )
    completed = await assessment.client.post(f"/v1/sdm-assessments/{risk_draft['id']}/complete", headers=rivera)
    assert completed.status_code == 200, completed.text
    # a second safety assessment is under way: its own due date is what comes next, and it is overdue
    first_contact = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    await write(
        assessment,
        lopez_case,
        rivera,
        "sdm-assessments",
        {
            "instrument_key": "safety_assessment",
            "instrument_version": V,
            "answers": {},
            "anchors": {"first_contact": first_contact},
        },
    )
    assert (await assessment.client.get(sdm, headers=rivera)).status_code == 200

    staff = (await case_view(assessment, lopez_case, rivera))["sdm"]
    assert staff["safety_decision"] == "safe" and staff["risk_level"] == completed.json()["final_level"]
    assert staff["safety_assessed_at"] and staff["risk_assessed_at"]
    assert [(d["kind"], d["instrument_key"], d["overdue"]) for d in staff["due_dates"]] == [
        ("complete_by", "safety_assessment", True)
    ]
    assert sorted(d["id"] for d in staff["detail"]) == sorted([done["id"], risk_draft["id"]])
    court = (await case_view(assessment, lopez_case, as_audience(rivera, "court")))["sdm"]
    assert court["detail"] is not None
    family = (await case_view(assessment, lopez_case, as_audience(rivera, "family")))["sdm"]
    assert family["detail"] is None and family["safety_decision"] == "safe"
    assert family["due_dates"] == staff["due_dates"]


async def test_pending_approvals_and_warnings_are_internal_to_the_agency(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    await write(assessment, lopez_case, rivera, "maps", {"context": "in_home", "title": "Lopez family"})
    staff = await case_view(assessment, lopez_case, rivera)
    assert staff["pending_approvals"] == 0 and staff["warnings"] == []
    for audience in ("family", "network", "partner", "court"):
        view = await case_view(assessment, lopez_case, as_audience(rivera, audience))
        assert view["pending_approvals"] is None and view["warnings"] is None
        assert view["map"]["warnings"] == []


async def test_the_childs_voice_is_shown_as_the_child_agreed(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    houses = await write(
        assessment,
        lopez_case,
        rivera,
        "child-voice",
        {
            "kind": "three_houses",
            "child": {"name": "Sofia"},
            "language": "en",
            "consent": {"shared_with": ["family"], "note": "Sofia said her mom can see it."},
            "content": {
                "session_date": "2026-11-20",
                "parent_consent": "not_needed",
                "houses": [
                    {"house": "worries", "entries": [{"words": "when mommy sleeps on the couch"}]},
                    {"house": "good_things", "entries": [{"words": "Grandma Rosa makes pancakes"}]},
                    {"house": "dreams", "entries": [{"words": "we watch movies"}]},
                ],
            },
        },
    )
    # the child's consent alone does not share her houses with her caregivers: the worker's judgement is needed too
    family = (await case_view(assessment, lopez_case, as_audience(rivera, "family")))["child_voice"]
    assert family[0]["restricted"] is True and "pancakes" not in json.dumps(family)
    judged = await assessment.client.patch(
        f"/v1/child-voice/{houses['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json={"sharing_judgement": {"safe": True, "reason": "Maria knows these worries and wants to hear them."}},
    )
    assert judged.status_code == 200, judged.text
    family = (await case_view(assessment, lopez_case, as_audience(rivera, "family")))["child_voice"]
    assert family[0]["restricted"] is False and "pancakes" in json.dumps(family)
    assert family[0]["sharing_judgement"] is None  # the worker's note is the agency's
    network = (await case_view(assessment, lopez_case, as_audience(rivera, "network")))["child_voice"]
    assert network[0]["restricted"] is True and network[0]["content"] is None


async def test_the_glossary_comes_in_the_readers_language_and_a_bad_language_is_refused(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    english = await case_view(assessment, lopez_case, rivera)
    assert english["language"] == "en" and english["glossary"]["language"] == "en"
    spanish = (await case_view(assessment, lopez_case, rivera, language="es"))["glossary"]
    danger = next(e for e in spanish["entries"] if e["key"] == "danger_statement")
    assert danger["term"] == "declaración de peligro" and danger["status"] != "missing"
    marshallese = (await case_view(assessment, lopez_case, rivera, language="mh"))["glossary"]
    assert marshallese["entries"] and {e["status"] for e in marshallese["entries"]} == {"missing"}
    bad = await assessment.client.get(
        f"/v1/cases/{lopez_case}/case-view", headers=rivera, params={"language": "english please"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "language"
