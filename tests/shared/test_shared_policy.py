"""The policy table: case access only through a named relationship (deny by default), sensitive labels
hidden unless the table says otherwise, and scopes capped by actor type."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sop_shared.policy import (
    LABEL_VISIBILITY,
    ActorType,
    Audience,
    CaseAccessFacts,
    CaseRelationship,
    Ground,
    PartnerGrant,
    Scope,
    SensitivityLabel,
    StaffAssignment,
    audiences_allowed,
    decide_case_access,
    may_see,
    may_see_child_voice,
    scopes_for,
)

NOW = datetime(2026, 10, 2, 12, 0, tzinfo=UTC)
CASE = uuid.UUID("01890000-0000-7000-8000-0000000000aa")

FACTS = CaseAccessFacts(
    case_id=CASE,
    exists=True,
    assignments=(
        StaffAssignment("fsw.rivera", "worker"),
        StaffAssignment("sup.okafor", "supervisor"),
        StaffAssignment("fsw.former", "worker", active=False),
    ),
    grants=(
        PartnerGrant("HOPE-COUNSELING", frozenset({"case:read"}), expires_at=NOW + timedelta(days=30)),
        PartnerGrant("OLD-CLINIC", frozenset({"case:read"}), expires_at=NOW - timedelta(seconds=1)),
        PartnerGrant(
            "REVOKED-AGENCY",
            frozenset({"case:read"}),
            expires_at=NOW + timedelta(days=30),
            revoked_at=NOW - timedelta(days=1),
        ),
        PartnerGrant("OPEN-ENDED", frozenset({"case:read", "case:write", "approvals:decide"}), expires_at=None),
    ),
    member_subjects={"family:maria": "family", "network:abuela": "network"},
)


def decide(
    actor_type: ActorType = ActorType.staff,
    subject: str = "fsw.rivera",
    roles: tuple[str, ...] = ("worker",),
    agency: str | None = "DCFS",
    token_scopes: tuple[str, ...] = (),
    facts: CaseAccessFacts = FACTS,
    now: datetime = NOW,
) -> Any:
    return decide_case_access(
        actor_type=actor_type,
        subject=subject,
        roles=roles,
        agency=agency,
        token_scopes=token_scopes,
        facts=facts,
        now=now,
    )


def test_assigned_worker_is_allowed_with_worker_scopes() -> None:
    decision = decide()
    assert decision.allowed
    assert decision.relationships == (CaseRelationship.assigned_worker,)
    assert decision.scopes == {Scope.case_read, Scope.case_write}


def test_unassigned_worker_is_denied() -> None:
    decision = decide(subject="fsw.someone-else")
    assert not decision.allowed
    assert decision.scopes == frozenset() and decision.relationships == ()


def test_assigned_supervisor_gets_approvals_decide() -> None:
    decision = decide(subject="sup.okafor", roles=("supervisor",))
    assert decision.allowed
    assert decision.relationships == (CaseRelationship.assigned_supervisor,)
    assert Scope.approvals_decide in decision.scopes
    assert Scope.approvals_decide not in decide().scopes  # a worker never does


def test_a_supervisor_role_without_an_assignment_is_denied() -> None:
    assert not decide(subject="sup.elsewhere", roles=("supervisor",)).allowed


def test_an_inactive_assignment_is_denied() -> None:
    assert not decide(subject="fsw.former").allowed


def test_an_admin_role_alone_grants_nothing_even_when_assigned() -> None:
    assert not decide(roles=("admin",)).allowed


def test_a_missing_case_is_denied_for_everyone() -> None:
    missing = CaseAccessFacts(
        case_id=CASE,
        exists=False,
        assignments=FACTS.assignments,
        grants=FACTS.grants,
        member_subjects=FACTS.member_subjects,
    )
    assert not decide(facts=missing).allowed
    assert not decide(ActorType.partner, "partner:hope", (), "HOPE-COUNSELING", facts=missing).allowed
    assert not decide(ActorType.integration, "client:chris", (), None, ("cases:sync",), facts=missing).allowed
    assert not decide(ActorType.family, "family:maria", (), None, facts=missing).allowed


def test_partner_with_a_live_grant_is_allowed_read_only() -> None:
    decision = decide(ActorType.partner, "partner:hope", (), "HOPE-COUNSELING")
    assert decision.allowed
    assert decision.relationships == (CaseRelationship.partner_grant,)
    assert decision.scopes == {Scope.case_read}


def test_partner_grant_scopes_are_capped_for_partners() -> None:
    decision = decide(ActorType.partner, "partner:open", (), "OPEN-ENDED")
    assert decision.allowed and decision.scopes == {Scope.case_read}


def test_partner_with_an_expired_grant_is_denied() -> None:
    assert not decide(ActorType.partner, "partner:old", (), "OLD-CLINIC").allowed
    # expiry is exclusive: at the expiry instant the grant is over
    at_expiry = NOW + timedelta(days=30)
    assert not decide(ActorType.partner, "partner:hope", (), "HOPE-COUNSELING", now=at_expiry).allowed
    assert decide(
        ActorType.partner, "partner:hope", (), "HOPE-COUNSELING", now=at_expiry - timedelta(seconds=1)
    ).allowed


def test_partner_with_a_revoked_grant_is_denied() -> None:
    assert not decide(ActorType.partner, "partner:revoked", (), "REVOKED-AGENCY").allowed


def test_partner_of_another_agency_or_none_is_denied() -> None:
    assert not decide(ActorType.partner, "partner:x", (), "SOME-OTHER-AGENCY").allowed
    assert not decide(ActorType.partner, "partner:x", (), None).allowed


def test_a_partner_cannot_ride_on_staff_assignments() -> None:
    assert not decide(
        ActorType.partner,
        "fsw.rivera",
        ("worker",),
        "HOPE-COUNSELING",
        facts=CaseAccessFacts(CASE, True, assignments=FACTS.assignments),
    ).allowed


def test_family_and_network_members_read_their_own_case() -> None:
    family = decide(ActorType.family, "family:maria", (), None)
    assert family.allowed and family.relationships == (CaseRelationship.family_member,)
    assert family.scopes == {Scope.case_read, Scope.case_participate}
    network = decide(ActorType.network, "network:abuela", (), None)
    assert network.allowed and network.relationships == (CaseRelationship.network_member,)
    assert network.scopes == {Scope.case_read, Scope.case_participate}


def test_membership_must_match_the_actor_type_and_subject() -> None:
    assert not decide(ActorType.family, "network:abuela", (), None).allowed  # a network member is not family
    assert not decide(ActorType.network, "family:maria", (), None).allowed
    assert not decide(ActorType.family, "family:stranger", (), None).allowed
    assert not decide(ActorType.staff, "family:maria", ("worker",)).allowed


def test_integration_needs_cases_sync() -> None:
    synced = decide(ActorType.integration, "client:chris", (), None, ("cases:sync", "case:read"))
    assert synced.allowed and synced.relationships == (CaseRelationship.integration,)
    assert synced.scopes == {Scope.cases_sync, Scope.case_read}
    assert not decide(ActorType.integration, "client:chris", (), None, ("case:read",)).allowed
    assert not decide(ActorType.integration, "client:chris", ("supervisor",), None, ()).allowed
    # scopes beyond an integration's ceiling are dropped, not honoured
    capped = decide(ActorType.integration, "client:chris", (), None, ("cases:sync", "approvals:decide"))
    assert capped.scopes == {Scope.cases_sync}


def test_may_see_is_deny_by_default() -> None:
    for label in SensitivityLabel:
        for audience in Audience:
            if audience not in LABEL_VISIBILITY.get(label, {}):
                assert not may_see(label, audience)
                assert not may_see(label, audience, consented=True)
    assert not may_see(SensitivityLabel.reporter_identity, Audience.family, consented=True)
    assert not may_see(SensitivityLabel.reporter_identity, Audience.court, consented=True)
    assert not may_see(SensitivityLabel.dv_confidential_address, Audience.partner, consented=True)
    assert not may_see(SensitivityLabel.dv_confidential_address, Audience.family, consented=True)


def test_may_see_always_rules() -> None:
    assert may_see(SensitivityLabel.reporter_identity, Audience.staff)
    assert may_see(SensitivityLabel.reporter_identity, Audience.supervisor)
    assert may_see(SensitivityLabel.child_voice, Audience.staff)
    assert may_see(SensitivityLabel.education_record, Audience.court)


@pytest.mark.parametrize(
    ("label", "audience"),
    [
        (SensitivityLabel.child_voice, Audience.family),
        (SensitivityLabel.child_voice, Audience.network),
        (SensitivityLabel.child_voice, Audience.partner),
        (SensitivityLabel.child_voice, Audience.court),
        (SensitivityLabel.substance_use_part2, Audience.staff),
        (SensitivityLabel.substance_use_part2, Audience.court),
        (SensitivityLabel.education_record, Audience.partner),
    ],
)
def test_may_see_consent_rules(label: SensitivityLabel, audience: Audience) -> None:
    assert not may_see(label, audience)
    assert may_see(label, audience, consented=True)


def test_scopes_for_caps_by_actor_type() -> None:
    assert scopes_for(ActorType.staff, ["worker"]) == {Scope.case_read, Scope.case_write}
    assert scopes_for(ActorType.staff, ["supervisor"]) == {
        Scope.case_read,
        Scope.case_write,
        Scope.approvals_decide,
        Scope.audit_read,
    }
    assert scopes_for(ActorType.staff, ["admin"]) == frozenset()
    assert scopes_for(ActorType.staff, ["auditor", "worker"]) == {Scope.case_read, Scope.case_write, Scope.audit_read}
    # roles do not lift other actor types above their ceiling
    assert scopes_for(ActorType.partner, ["supervisor"]) == {Scope.case_read}
    assert scopes_for(ActorType.family, ["supervisor"], ["case:write", "approvals:decide"]) == {Scope.case_read}
    assert scopes_for(ActorType.network, [], ["case:write"]) == frozenset()
    assert scopes_for(ActorType.integration, [], ["cases:sync", "case:write", "audit:read"]) == {Scope.cases_sync}
    # unknown roles and scopes are ignored
    assert scopes_for(ActorType.staff, ["wizard"], ["root", "case:read"]) == {Scope.case_read}


def test_audiences_allowed() -> None:
    assert Audience.supervisor not in audiences_allowed(ActorType.staff, ["worker"])
    assert Audience.supervisor in audiences_allowed(ActorType.staff, ["worker", "supervisor"])
    assert audiences_allowed(ActorType.family, ["supervisor"]) == {Audience.family}
    assert audiences_allowed(ActorType.partner, []) == {Audience.partner, Audience.court}
    assert Audience.staff not in audiences_allowed(ActorType.network, [])


def test_a_partner_grant_shows_its_audience_and_purpose_and_cannot_name_a_staff_audience() -> None:
    court = PartnerGrant(
        "CASA", frozenset({"case:read"}), expires_at=None, audience="court", purpose="court report", grant_id=CASE
    )
    staff = PartnerGrant("SNEAKY", frozenset({"case:read"}), expires_at=None, audience="staff")
    facts = CaseAccessFacts(CASE, True, grants=(court, staff))
    decision = decide(ActorType.partner, "casa.1", (), "CASA", facts=facts)
    assert decision.allowed and decision.audiences == {Audience.court}
    assert decision.purposes == ("court report",) and decision.grant_ids == (CASE,)
    assert not decide(ActorType.partner, "sneaky.1", (), "SNEAKY", facts=facts).allowed


def test_a_revoked_grant_denies_even_if_the_revocation_is_stamped_later_than_now() -> None:
    grant = PartnerGrant("CASA", frozenset({"case:read"}), expires_at=None, revoked_at=NOW + timedelta(hours=1))
    facts = CaseAccessFacts(CASE, True, grants=(grant,))
    assert not decide(ActorType.partner, "casa.1", (), "CASA", facts=facts).allowed


def test_decisions_name_the_audiences_the_caller_may_be_shown() -> None:
    assert decide().audiences == audiences_allowed(ActorType.staff, ["worker"])
    assert Audience.supervisor in decide(subject="sup.okafor", roles=("supervisor",)).audiences
    assert decide(ActorType.family, "family:maria", (), None).audiences == {Audience.family}
    assert decide(ActorType.network, "network:abuela", (), None).audiences == {Audience.network}
    assert decide(subject="fsw.nobody").audiences == frozenset()


def test_child_voice_grounds_are_every_ground_the_table_lists_for_the_kind_and_audience() -> None:
    everything = set(Ground)
    assert may_see_child_voice("three_houses", Audience.staff, ())  # the agency sees every record
    assert not may_see_child_voice("three_houses", Audience.family, {Ground.consent})
    assert may_see_child_voice("three_houses", Audience.family, {Ground.consent, Ground.judged_safe})
    assert may_see_child_voice("words_and_pictures", Audience.family, {Ground.author})
    assert not may_see_child_voice("words_and_pictures", Audience.family, {Ground.consent, Ground.judged_safe})
    assert not may_see_child_voice("a_new_kind", Audience.family, everything)  # deny by default


def test_a_trauma_history_is_seen_like_part_2_data() -> None:
    assert LABEL_VISIBILITY[SensitivityLabel.trauma_history] == LABEL_VISIBILITY[SensitivityLabel.substance_use_part2]
