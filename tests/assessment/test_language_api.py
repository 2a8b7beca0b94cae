"""The plain-language check of any text and the glossary per language, over HTTP."""

from __future__ import annotations

from sop_shared.testing import RunningService


async def test_any_text_is_checked_with_findings_at_their_positions_and_nothing_stored(
    assessment: RunningService,
    rivera: dict[str, str],
) -> None:
    text = "Maria will stop drinking and the FSW will check for non-compliance."
    response = await assessment.client.post(
        "/v1/language/check", headers=rivera, json={"text": text, "kind": "safety_goal", "language": "en"}
    )
    assert response.status_code == 200, response.text
    findings = response.json()["findings"]
    assert [(f["code"], f["term"]) for f in findings if f["start"] is not None] == [
        ("negative_phrasing", "stop"),
        ("jargon", "FSW"),
        ("jargon", "non-compliance"),
    ]
    assert all(text[f["start"] : f["end"]] == f["term"] for f in findings if f["start"] is not None)
    assert isinstance(response.json()["reading_grade"], float)


async def test_the_check_names_the_missing_parts_when_given_the_parts(
    assessment: RunningService,
    rivera: dict[str, str],
) -> None:
    response = await assessment.client.post(
        "/v1/language/check",
        headers=rivera,
        json={
            "text": "Rosa is worried that Maria drinks.",
            "kind": "danger_statement",
            "parts": {"who_is_worried": "Rosa", "caregiver_behaviour": "Maria drinks", "impact_on_child": ""},
        },
    )
    assert [f["part"] for f in response.json()["findings"] if f["code"] == "missing_part"] == ["impact_on_child"]
    goal = await assessment.client.post(
        "/v1/language/check",
        headers=rivera,
        json={
            "text": "Maria calls Rosa.",
            "kind": "safety_goal",
            "parts": {"caregiver_will_be_doing": "Maria calls Rosa"},
        },
    )
    assert [f["part"] for f in goal.json()["findings"] if f["code"] == "missing_part"] == [
        "child_will_experience",
        "others_will_see",
    ]
    wrong = await assessment.client.post(
        "/v1/language/check",
        headers=rivera,
        json={"text": "x", "kind": "danger_statement", "parts": {"colour": "blue"}},
    )
    assert wrong.status_code == 422 and [e["field"] for e in wrong.json()["errors"]] == ["parts.colour"]
    bad_kind = await assessment.client.post("/v1/language/check", headers=rivera, json={"text": "x", "kind": "poem"})
    assert bad_kind.status_code == 422 and [e["field"] for e in bad_kind.json()["errors"]] == ["kind"]


async def test_the_check_works_for_any_signed_in_caller_but_not_without_a_token(
    assessment: RunningService,
) -> None:
    assert (await assessment.client.post("/v1/language/check", json={"text": "x"})).status_code == 401


async def test_the_glossary_gives_plain_meanings_in_english_and_spanish(
    assessment: RunningService,
    rivera: dict[str, str],
) -> None:
    english = (await assessment.client.get("/v1/glossary", headers=rivera)).json()
    spanish = (await assessment.client.get("/v1/glossary", params={"language": "es-US"}, headers=rivera)).json()
    assert english["language"] == "en" and spanish["language"] == "es"
    danger = next(e for e in spanish["entries"] if e["key"] == "danger_statement")
    assert danger["term"] == "declaración de peligro" and danger["meaning"] and danger["status"] == "draft"
    assert [e["key"] for e in english["entries"]] == [e["key"] for e in spanish["entries"]]
    assert all(e["meaning"] for e in english["entries"] + spanish["entries"])


async def test_marshallese_glossary_entries_are_flagged_missing_not_invented(
    assessment: RunningService,
    rivera: dict[str, str],
) -> None:
    body = (await assessment.client.get("/v1/glossary", params={"language": "mh"}, headers=rivera)).json()
    assert body["language_name"] == "Marshallese" and body["word_list"] is False
    assert body["entries"] and all(e["meaning"] is None and e["status"] == "missing" for e in body["entries"])
    unknown = await assessment.client.get("/v1/glossary", params={"language": "fr"}, headers=rivera)
    assert unknown.status_code == 422 and [e["field"] for e in unknown.json()["errors"]] == ["language"]


async def test_the_check_takes_goals_rules_map_items_and_commitments_and_reads_parts_from_free_text(
    assessment: RunningService,
    rivera: dict[str, str],
) -> None:
    rule = await assessment.client.post(
        "/v1/language/check",
        headers=rivera,
        json={"text": "Maria will attend AA and never drink.", "kind": "safety_plan_rule", "language": "en"},
    )
    assert rule.status_code == 200, rule.text
    assert [(f["code"], f["term"]) for f in rule.json()["findings"] if f["start"] is not None] == [
        ("service_compliance", "attend AA"),
        ("negative_phrasing", "never"),
    ]
    danger = await assessment.client.post(
        "/v1/language/check",
        headers=rivera,
        json={"text": "DCFS está preocupado porque María es alcohólica.", "kind": "danger_statement", "language": "es"},
    )
    findings = danger.json()["findings"]
    assert [f["part"] for f in findings if f["code"] == "missing_part"] == ["caregiver_behaviour", "impact_on_child"]
    assert [(f["term"], f["category"]) for f in findings if f["code"] == "jargon"] == [
        ("DCFS", "acronym"),
        ("alcohólica", "label"),
    ]
    for kind in ("map_item", "network_commitment"):
        plain = await assessment.client.post(
            "/v1/language/check", headers=rivera, json={"text": "Rosa brings dinner on Sundays.", "kind": kind}
        )
        assert plain.status_code == 200 and plain.json()["findings"] == [], kind
