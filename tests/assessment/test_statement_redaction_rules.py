"""The redaction rules of statements, the case view's SDM summary and the translation rules, as plain functions:
what each audience is shown is decided by the one policy table (`sop_shared.policy.may_see`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from sop_assessment.case_view.rules import is_internal, is_overdue, latest_overall_rating, sdm_summary
from sop_assessment.models import StatementKind, TextSource
from sop_assessment.statements.redaction import WITHHELD_TEXT, is_withheld, statement_view, without_reporter
from sop_assessment.translations.rules import shown_translations, translation_errors
from sop_assessment.translations.schemas import StatementTranslationIn
from sop_shared.ids import new_id
from sop_shared.policy import Audience
from sop_shared.translations import Source, is_current

HARM: dict[str, Any] = {
    "kind": StatementKind.harm,
    "language": "en",
    "text_source": TextSource.composed,
    "composed_text": "Sofia's teacher reported that Maria left Sofia and Mateo alone at home overnight. Sofia and "
    "Mateo were scared.",
    "who_reported": "Sofia's teacher",
    "caregivers": [{"name": "Maria"}],
    "action_or_inaction": "left Sofia and Mateo alone at home overnight",
    "when_or_how_often": None,
    "impact_on_child": "were scared",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "threat_codes": [],
    "agrees": [],
    "disputes": [],
    "sensitivity_labels": [],
    "consented_audiences": [],
}
PART2_DANGER: dict[str, Any] = {
    "kind": StatementKind.danger,
    "language": "en",
    "text_source": TextSource.composed,
    "composed_text": "The agency is worried that Maria misses her treatment at the clinic.",
    "who_is_worried": "The agency",
    "caregiver_behaviour": "Maria misses her treatment at the clinic",
    "context_trigger": None,
    "feared_impact_on_child": None,
    "who_reported": None,
    "caregivers": [],
    "children": [{"name": "Sofia"}],
    "threat_codes": ["T4"],
    "agrees": ["Rosa"],
    "disputes": [],
    "sensitivity_labels": ["substance_use_part2"],
    "consented_audiences": [],
}


@pytest.mark.parametrize("audience", [Audience.staff, Audience.supervisor])
def test_staff_and_supervisors_see_who_reported(audience: Audience) -> None:
    view = statement_view(HARM, audience)
    assert view.values["who_reported"] == "Sofia's teacher" and view.redacted == [] and not view.withheld


@pytest.mark.parametrize("audience", [Audience.family, Audience.network, Audience.partner, Audience.court])
def test_everyone_else_reads_the_harm_without_who_reported_it(audience: Audience) -> None:
    view = statement_view(HARM, audience)
    assert view.values["who_reported"] is None and view.redacted == ["who_reported"]
    assert (
        view.values["composed_text"] == "Maria left Sofia and Mateo alone at home overnight. Sofia and Mateo "
        "were scared."
    )
    assert "teacher" not in str(view.values)


def test_in_the_workers_own_text_the_reporters_words_become_someone() -> None:
    text = "Sofia's teacher told us that Maria left them alone. We believe sofia's teacher."
    assert (
        without_reporter(text, "Sofia's teacher", "en") == "Someone told us that Maria left them alone. We "
        "believe someone."
    )
    assert without_reporter("La maestra de Sofía llamó.", "la maestra de Sofía", "es") == "Alguien llamó."
    worker = {**HARM, "text_source": TextSource.worker, "composed_text": text}
    assert "teacher" not in statement_view(worker, Audience.family).values["composed_text"]


@pytest.mark.parametrize("audience", list(Audience))
def test_a_part2_statement_without_consent_is_withheld_from_every_audience(audience: Audience) -> None:
    view = statement_view(PART2_DANGER, audience)
    assert view.withheld and view.values["composed_text"] == WITHHELD_TEXT["en"]
    assert view.values["caregiver_behaviour"] is None and view.values["who_is_worried"] is None
    assert view.values["children"] == [] and view.values["threat_codes"] == [] and view.values["agrees"] == []
    assert view.values["sensitivity_labels"] == [] and view.values["consented_audiences"] == []
    assert {"composed_text", "caregiver_behaviour", "children", "threat_codes", "sensitivity_labels"} <= set(
        view.redacted
    )
    assert "treatment" not in str(view.values)


@pytest.mark.parametrize(
    ("audience", "shown"),
    [
        (Audience.staff, True),
        (Audience.supervisor, False),
        (Audience.court, True),
        (Audience.family, False),
        (Audience.network, False),
        (Audience.partner, False),
    ],
)
def test_a_consent_counts_for_the_audiences_it_names_and_the_policy_table_decides(
    audience: Audience, shown: bool
) -> None:
    consented = {**PART2_DANGER, "consented_audiences": ["staff", "court", "family"]}
    # family is named in the consent, but the policy table never lets family see Part 2 records
    assert statement_view(consented, audience).withheld is not shown


def test_the_fixed_sentence_is_in_the_readers_language_english_where_none_is_reviewed() -> None:
    assert (
        statement_view(PART2_DANGER, Audience.family, language="es").values["composed_text"]
        == "Parte de esta preocupación es privada y no se muestra aquí."
    )
    mh = statement_view(PART2_DANGER, Audience.family, language="mh").values
    assert mh["composed_text"] == WITHHELD_TEXT["en"] and mh["language"] == "en"


def test_a_dv_address_label_is_for_staff_and_supervisors_only() -> None:
    dv = {**PART2_DANGER, "sensitivity_labels": ["dv_confidential_address"], "consented_audiences": ["court"]}
    assert not statement_view(dv, Audience.staff).withheld
    assert statement_view(dv, Audience.court).withheld


def test_pending_work_and_warnings_are_internal() -> None:
    assert is_internal(Audience.staff) and is_internal(Audience.supervisor)
    assert not any(is_internal(a) for a in (Audience.family, Audience.network, Audience.partner, Audience.court))


@dataclass
class Revision:
    instrument_key: str
    completed_at: datetime | None = None
    results: dict[str, Any] | None = None
    final_level: str | None = None
    due: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=new_id)


NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_the_sdm_summary_reads_the_latest_completed_safety_and_risk_assessments() -> None:
    old_safety = Revision(
        "safety_assessment", datetime(2026, 10, 1, tzinfo=UTC), {"decisions": {"safety_decision": {"final": "unsafe"}}}
    )
    safety = Revision(
        "safety_assessment",
        datetime(2026, 11, 2, tzinfo=UTC),
        {"decisions": {"safety_decision": {"final": "conditionally_safe"}}},
        due={"complete_by": {"label": "Complete", "anchor": "first_contact", "due": "2026-10-03"}},
    )
    risk = Revision(
        "risk_reassessment",
        datetime(2026, 11, 20, tzinfo=UTC),
        final_level="high",
        due={"reassess_by": {"label": "Reassess risk", "anchor": "completed", "due": "2027-02-18"}},
    )
    summary = sdm_summary([old_safety, safety, risk], kind_of=lambda a: a.instrument_key, now=NOW)
    assert (summary.safety_decision, summary.safety_assessed_at) == ("conditionally_safe", safety.completed_at)
    assert (summary.risk_level, summary.risk_assessed_at) == ("high", risk.completed_at)
    # completing the safety assessment met its complete_by; the reassessment is what comes next
    assert summary.due_dates == [
        {
            "kind": "reassess_by",
            "label": "Reassess risk",
            "instrument_key": "risk_reassessment",
            "due_at": "2027-02-18",
            "overdue": False,
        }
    ]
    assert [a.id for a in summary.latest] == [safety.id, risk.id]


def test_a_draft_shows_its_own_due_dates_and_an_empty_case_has_none() -> None:
    draft = Revision(
        "safety_assessment",
        due={
            "complete_by": {"label": "Complete the safety assessment", "anchor": "first_contact", "due": "2026-11-25"},
            "unknown_yet": {"label": "x", "anchor": "report_received", "due": None},
        },
    )
    summary = sdm_summary([draft], kind_of=lambda a: a.instrument_key, now=NOW)
    assert summary.safety_decision is None and summary.risk_level is None
    assert [(d["kind"], d["overdue"]) for d in summary.due_dates] == [("complete_by", True)]
    assert sdm_summary([], kind_of=lambda a: a.instrument_key, now=NOW).due_dates == []


def test_a_due_day_is_overdue_only_once_it_has_passed_and_a_due_hour_once_it_has_gone() -> None:
    assert not is_overdue("2026-11-29", NOW) and is_overdue("2026-11-28", NOW)
    assert is_overdue("2026-11-29T11:00:00+00:00", NOW) and not is_overdue("2026-11-29T13:00:00+00:00", NOW)


@dataclass
class Rating:
    target: str
    occasion_on: date
    score: int
    rater_key: str
    occasion: str = ""
    rater_name: str = "x"
    rater_role: str = "worker"
    id: uuid.UUID = field(default_factory=new_id)
    withdrawn_at: datetime | None = None


def test_the_latest_overall_rating_is_the_mean_of_its_occasion() -> None:
    ratings = [
        Rating("overall", date(2026, 11, 2), 3, "a"),
        Rating("overall", date(2026, 11, 16), 5, "a"),
        Rating("overall", date(2026, 11, 16), 6, "b"),
        Rating("some-statement", date(2026, 11, 20), 9, "a"),
    ]
    assert latest_overall_rating(ratings) == {"score": 5.5, "occasion_on": date(2026, 11, 16)}
    assert latest_overall_rating(ratings[-1:]) is None


def translation(**changes: Any) -> StatementTranslationIn:
    return StatementTranslationIn.model_validate(
        {"language": "es", "text": "Texto.", "translated_by": "Ana Cruz", **changes}
    )


def test_a_verified_translation_names_a_verifier_other_than_the_translator() -> None:
    def fields(body: StatementTranslationIn) -> list[str]:
        return [e["field"] for e in translation_errors(body, statement_language="en", statement_version=2)]

    assert fields(translation()) == []
    assert (
        fields(translation(verified=True, verified_by="Luis Ortega", verifier_qualification="court_interpreter")) == []
    )
    assert fields(translation(verified=True, verified_by="Luis Ortega")) == ["verifier_qualification"]
    assert fields(translation(verified=True)) == ["verified_by"]
    assert fields(translation(verified_by="Luis Ortega")) == ["verified_by"]
    assert fields(translation(verified=True, verified_by="ana cruz", verifier_qualification="bilingual_staff")) == [
        "verified_by"
    ]
    assert fields(translation(language="en-US")) == ["language"]
    assert fields(translation(statement_version=3)) == ["statement_version"]


@dataclass
class Translated:
    source_version: int
    names_reporter: bool = False
    language: str = "es"
    source_digest: str | None = None
    text: str = "Texto."
    verified: bool = False
    verifier_qualification: str | None = None


def test_only_current_translations_reach_the_case_view_and_none_of_a_withheld_statement() -> None:
    old, new, naming = Translated(1), Translated(2), Translated(2, names_reporter=True)
    source = Source(language="en", version=2, text="Words.")
    assert is_current(new, source) and not is_current(old, source)
    assert shown_translations(
        [old, new, naming], source=source, withheld=False, shows_reporter=True, current_only=True
    ) == [new, naming]
    assert shown_translations([old, new, naming], source=source, withheld=False, shows_reporter=False) == [old, new]
    assert shown_translations([new], source=source, withheld=True, shows_reporter=True) == []


@pytest.mark.parametrize("audience", list(Audience))
@pytest.mark.parametrize("consented", [[], ["court"], ["family", "network"]])
@pytest.mark.parametrize("statement", [HARM, PART2_DANGER], ids=["harm", "part2-danger"])
def test_withheld_is_decided_as_the_view_decides_it(
    statement: dict[str, Any], consented: list[str], audience: Audience
) -> None:
    values = {**statement, "consented_audiences": consented}
    assert is_withheld(values["sensitivity_labels"], consented, audience) == statement_view(values, audience).withheld
