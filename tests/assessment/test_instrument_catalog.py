"""SDM instruments are data: every packaged file fits the schema and is labelled illustrative, a state's
licensed file loads from the configured folder without a code change, and a broken file is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sop_assessment.sdm.instrument import PACKAGED_DIR, Instrument, InstrumentFileError, load_catalog

EXPECTED = {
    "hotline_screening",
    "safety_assessment",
    "risk_assessment",
    "risk_reassessment",
    "reunification_reassessment",
    "strengths_and_needs",
    "fast",
}


def packaged(key: str) -> dict[str, Any]:
    return json.loads(next((PACKAGED_DIR / key).glob("*.json")).read_text())


def test_every_packaged_instrument_loads_and_says_it_is_illustrative() -> None:
    catalog = load_catalog()
    keys = {loaded.instrument.key for loaded in catalog.all()}
    assert EXPECTED <= keys
    for loaded in catalog.all():
        assert loaded.source == "packaged"
        assert loaded.instrument.illustrative is True
        assert "ILLUSTRATIVE" in loaded.instrument.notice and "illustrative)" in loaded.instrument.title
        assert len(loaded.sha256) == 64


def test_both_rating_styles_are_shipped() -> None:
    catalog = load_catalog()
    styles = {loaded.instrument.key: loaded.instrument.rating_style for loaded in catalog.all()}
    assert styles["strengths_and_needs"] == "letter_a_d" and styles["fast"] == "action_0_3"


def test_the_states_licensed_version_loads_from_the_configured_folder(tmp_path: Path) -> None:
    licensed = packaged("risk_assessment") | {
        "version": "ar-2027.1",
        "illustrative": False,
        "notice": "",
        "title": "Risk assessment (Arkansas, licensed)",
    }
    (tmp_path / "risk_assessment").mkdir()
    (tmp_path / "risk_assessment" / "ar-2027.1.json").write_text(json.dumps(licensed))
    catalog = load_catalog(tmp_path)
    loaded = catalog.get("risk_assessment", "ar-2027.1")
    assert loaded is not None and loaded.source == "configured" and not loaded.instrument.illustrative
    assert catalog.get("risk_assessment", "illustrative-1") is not None  # the packaged one stays


def test_a_file_whose_path_does_not_match_its_key_and_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "risk_assessment").mkdir()
    (tmp_path / "risk_assessment" / "ar-2027.2.json").write_text(json.dumps(packaged("risk_assessment")))
    with pytest.raises(InstrumentFileError, match="do not match"):
        load_catalog(tmp_path)


def test_a_missing_configured_folder_is_refused_loudly(tmp_path: Path) -> None:
    with pytest.raises(InstrumentFileError, match="does not exist"):
        load_catalog(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["indices"][0]["thresholds"].reverse(), "thresholds must rise"),
        (lambda d: d["items"][0].update(index="nowhere"), "unknown index"),
        (lambda d: d["overrides"].update(policy_level="extreme"), "policy_level"),
        (lambda d: d["overrides"].update(discretionary_steps=2), "less than or equal to 1"),
        (lambda d: d["decisions"][0]["rules"][0].update(outcome="maybe"), "not among"),
        (lambda d: d["decisions"][0]["rules"][0]["when"]["all"][1].update(answer="Z9"), "unknown item Z9"),
        (lambda d: d["items"].append(dict(d["items"][0])), "item codes repeat"),
        (lambda d: d["items"][0]["options"].append({"code": "a", "label": "again"}), "option codes repeat"),
        (lambda d: d["due"][0].update(working_days=2), "exactly one of"),
        (lambda d: d.update(surprise=True), "Extra inputs"),
    ],
)
def test_a_risk_instrument_that_breaks_the_schema_is_refused(change: Any, message: str) -> None:
    data = packaged("risk_assessment")
    change(data)
    with pytest.raises(ValueError, match=message):
        Instrument.model_validate(data)


def test_an_instrument_cannot_raise_a_signal_the_code_does_not_know() -> None:
    data = packaged("safety_assessment")
    data["decisions"][0]["signals"] = {"unsafe": ["call_the_police"]}
    with pytest.raises(ValueError, match="unknown signals"):
        Instrument.model_validate(data)
