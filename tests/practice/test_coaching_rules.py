"""Coaching's rules as plain functions (issue 15, part 3): how a referral moves, who may refer, what a session may
rate against the practice profile (kept as data, versioned), and how the assessment service's referrals map here."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from sop_practice.coaching import rules
from sop_practice.coaching.models import CloseOutcome, CoachingType, ReferralSource, ReferralStatus
from sop_practice.coaching.profile import DEFAULT_PROFILE, load_profiles, packaged_profiles
from sop_practice.models import Practitioner

S = ReferralStatus
TODAY = date(2026, 12, 6)


def practitioner(subject: str, *roles: str, unit: str | None = "Pulaski-3", active: bool = True) -> Practitioner:
    return Practitioner(subject=subject, name=subject, agency="DCFS", roles=list(roles), unit=unit, active=active)


def test_a_referral_moves_referred_assigned_in_coaching_closed_and_never_back() -> None:
    for current, new in [
        (S.referred, S.assigned),
        (S.referred, S.closed),
        (S.assigned, S.in_coaching),
        (S.assigned, S.closed),
        (S.in_coaching, S.closed),
    ]:
        rules.check_move(current, new)
    for current, new in [
        (S.referred, S.in_coaching),
        (S.in_coaching, S.assigned),
        (S.closed, S.referred),
        (S.closed, S.closed),
        (S.assigned, S.referred),
    ]:
        with pytest.raises(rules.ReferralMoveNotAllowed):
            rules.check_move(current, new)
    assert rules.after_assigning(S.referred) == S.assigned
    assert rules.after_assigning(S.in_coaching) == S.in_coaching  # a new coach mid-coaching
    with pytest.raises(rules.ReferralMoveNotAllowed):
        rules.after_assigning(S.closed)


def test_who_may_refer_a_worker_or_a_unit() -> None:
    rivera = practitioner("fsw.rivera", "worker")
    okafor = practitioner("sup.okafor", "supervisor")
    source = rules.referral_source
    assert source("fsw.rivera", rivera, worker=rivera, unit=None, supervises_worker=False) == ReferralSource.self
    assert source("sup.okafor", okafor, worker=rivera, unit=None, supervises_worker=True) == ReferralSource.supervisor
    assert source("fsw.lindqvist", None, worker=rivera, unit=None, supervises_worker=False) is None
    assert source("sup.okafor", okafor, worker=None, unit="Pulaski-3", supervises_worker=False) == "supervisor"
    assert source("sup.okafor", okafor, worker=None, unit="Benton-1", supervises_worker=False) is None
    assert source("fsw.rivera", rivera, worker=None, unit="Pulaski-3", supervises_worker=False) is None


def test_a_referral_names_one_worker_one_on_one_or_one_unit_as_a_group() -> None:
    rivera = practitioner("fsw.rivera", "worker")
    check = rules.check_referral
    assert check(worker_subject="fsw.rivera", unit=None, coaching_type=CoachingType.one_on_one, worker=rivera) == []
    assert check(worker_subject=None, unit="Pulaski-3", coaching_type=CoachingType.group, worker=None) == []
    both = check(worker_subject="fsw.rivera", unit="Pulaski-3", coaching_type=CoachingType.group, worker=rivera)
    assert [e["field"] for e in both] == ["worker_subject"]
    unknown = check(worker_subject="fsw.nobody", unit=None, coaching_type=CoachingType.group, worker=None)
    assert [e["field"] for e in unknown] == ["worker_subject", "coaching_type"]
    left = practitioner("fsw.rivera", "worker", active=False)
    assert check(worker_subject="fsw.rivera", unit=None, coaching_type=CoachingType.one_on_one, worker=left)
    assert rules.check_coach(practitioner("coach.tran", "coach", unit=None)) == []
    assert rules.check_coach(rivera)[0]["field"] == "coach_subject"


def test_the_practice_profile_is_data_and_a_session_rates_its_behaviours_on_its_scale() -> None:
    profile = packaged_profiles().get(DEFAULT_PROFILE)
    assert profile is not None and profile.version == "1"
    assert profile.ratings == {1, 2, 3, 4}
    ok = [rules.RatingIn("S1", 3), rules.RatingIn("M1", 2)]
    assert (
        rules.check_session(profile, kind="observation_mapping_meeting", held_on=TODAY, today=TODAY, ratings=ok) == []
    )
    wrong = [
        rules.RatingIn("Z9", 3),  # no such behaviour
        rules.RatingIn("C1", 3),  # not observed in a mapping meeting
        rules.RatingIn("S1", 7),  # off the scale
        rules.RatingIn("S1", 3),  # twice
    ]
    errors = rules.check_session(
        profile, kind="observation_mapping_meeting", held_on=date(2026, 12, 7), today=TODAY, ratings=wrong
    )
    assert [e["field"] for e in errors] == [
        "held_on",
        "ratings.0.behaviour",
        "ratings.1.behaviour",
        "ratings.2.rating",
        "ratings.3.behaviour",
    ]
    assert rules.check_goal_behaviour(profile, "N1") == []
    assert rules.check_goal_behaviour(profile, "nope")[0]["field"] == "behaviour"


def test_a_new_profile_version_is_a_new_file_and_the_newest_is_current(tmp_path: Path) -> None:
    packaged = json.loads((Path(rules.__file__).parent / "profiles/sop_practice/1.json").read_text())
    (tmp_path / "sop_practice").mkdir()
    for version in ("1", "2", "10"):
        (tmp_path / "sop_practice" / f"{version}.json").write_text(json.dumps({**packaged, "version": version}))
    catalog = load_profiles(tmp_path)
    assert catalog.get("sop_practice").version == "10"  # type: ignore[union-attr]
    assert catalog.get("sop_practice", "2") is not None and catalog.get("sop_practice", "3") is None
    (tmp_path / "sop_practice" / "11.json").write_text(json.dumps({**packaged, "version": "12"}))
    with pytest.raises(ValueError, match="must match the path"):
        load_profiles(tmp_path)
    broken = {**packaged, "behaviours": [*packaged["behaviours"], {**packaged["behaviours"][0], "domain": "x"}]}
    (tmp_path / "sop_practice" / "11.json").write_text(json.dumps({**broken, "version": "11"}))
    with pytest.raises(ValueError):
        load_profiles(tmp_path)


def test_a_coach_sees_the_snapshot_without_identifying_details_unless_the_supervisor_allowed() -> None:
    snapshot = {
        "question": "Is the plan enough?",
        "case_id": "x",
        "family": [{"name": "A. Fictional", "role": "mother"}],
    }
    assert rules.snapshot_for(snapshot, reader_sees_whole=True, identifying_allowed=False) == snapshot
    assert rules.snapshot_for(snapshot, reader_sees_whole=False, identifying_allowed=False) == {
        "question": "Is the plan enough?",
        "family": [{"role": "mother"}],
    }
    assert rules.snapshot_for(snapshot, reader_sees_whole=False, identifying_allowed=True) == snapshot
    assert rules.snapshot_for(None, reader_sees_whole=False, identifying_allowed=False) is None


def test_a_coach_sees_no_snapshot_when_the_policy_table_stops_allowing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sop_shared.policy.COACH_CASE_VIEW", {})
    assert rules.snapshot_for({"question": "?"}, reader_sees_whole=False, identifying_allowed=True) is None
    assert rules.snapshot_for({"question": "?"}, reader_sees_whole=True, identifying_allowed=False) == {"question": "?"}


def test_the_assessment_services_statuses_map_forward_only() -> None:
    assert rules.legacy_move(None, "requested") == (S.referred, None)
    assert rules.legacy_move(S.referred, "scheduled") == (S.assigned, None)
    assert rules.legacy_move(S.referred, "cancelled") == (S.closed, CloseOutcome.withdrawn)
    assert rules.legacy_move(S.assigned, "completed") == (S.closed, CloseOutcome.completed)
    assert rules.legacy_move(S.referred, "requested") is None  # nothing changes
    assert rules.legacy_move(S.in_coaching, "scheduled") is None  # further along here: stays
    assert rules.legacy_move(S.closed, "in_progress") is None
    assert rules.legacy_move(S.referred, "unknown") is None


def test_a_referral_that_waits_for_a_consultation_takes_no_pasted_snapshot() -> None:
    worker = practitioner("fsw.rivera", "worker")
    base = {"worker_subject": "fsw.rivera", "unit": None, "coaching_type": CoachingType.one_on_one, "worker": worker}
    assert rules.check_referral(**base, waits_for_consultation=True, pasted_snapshot=False) == []
    assert rules.check_referral(**base, waits_for_consultation=False, pasted_snapshot=True) == []  # deprecated
    refused = rules.check_referral(**base, waits_for_consultation=True, pasted_snapshot=True)
    assert [e["field"] for e in refused] == ["consultation_snapshot"]
    both_wrong = rules.check_referral(
        **{**base, "worker_subject": None}, waits_for_consultation=True, pasted_snapshot=True
    )
    assert [e["field"] for e in both_wrong] == ["consultation_snapshot", "worker_subject"]


def test_a_consultation_is_attached_only_when_the_worker_or_their_supervisor_brings_it_to_an_open_referral() -> None:
    def refusal(**given: object) -> str | None:
        case: dict[str, object] = {
            "bringer": "fsw.rivera",
            "bringer_supervises": False,
            "worker_subject": "fsw.rivera",
            "status": S.assigned,
            "waits_for": None,
            "consultation": "c-1",
        }
        return rules.refusal_to_attach(**{**case, **given})  # type: ignore[arg-type]

    assert refusal() is None  # the worker
    assert refusal(bringer="sup.okafor", bringer_supervises=True) is None  # her supervisor
    assert refusal(waits_for="c-1") is None  # the consultation it waits for
    assert refusal(bringer="fsw.lindqvist") == (
        "brought by someone who is neither the referral's worker nor the worker's supervisor"
    )
    assert refusal(status=S.closed) == "the referral is closed"
    assert refusal(waits_for="c-2") == "the referral waits for another consultation"
    assert refusal(worker_subject=None, bringer_supervises=True) is None  # a unit's referral: its supervisor
    assert refusal(worker_subject=None) is not None


def test_a_snapshot_says_where_it_came_from() -> None:
    assert rules.snapshot_source(None, brought=False) is None
    assert rules.snapshot_source({"q": "?"}, brought=False) == "pasted"
    assert rules.snapshot_source({"q": "?"}, brought=True) == "consultation"
