"""Every write of the practice in GraphQL: a worker, a supervisor and an integrator can do their whole job here.

Each mutation (and each list that is not one case's, `LISTS`) is one line: the service route it calls, what
the audit calls the record, and the name of the record in its payload. Its `input` and payload are derived
from the service's own OpenAPI operation (`writes.derive_mutation`), which the gateway keeps beside this module
(`upstream/<service>.openapi.json`, written by `make contracts`). See docs/api.md ("Mutations") for the
convention."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import strawberry

from sop_gateway.graphql import types as view_types
from sop_gateway.graphql.lists import ServiceList, ServiceRecord, list_field, record_field
from sop_gateway.graphql.openapi_types import DerivedTypes
from sop_gateway.graphql.writes import CaseMutation, mutation_type
from sop_shared.policy import Scope

UPSTREAM_CONTRACTS = Path(__file__).resolve().parent / "upstream"
SERVICES = ("network", "assessment", "plans", "practice")
CASE = "/v1/cases/{case_id}"
PLAN = f"{CASE}/safety-plans/{{plan_id}}"
SDM = f"{CASE}/sdm-assessments/{{assessment_id}}"
DECIDE = Scope.approvals_decide
MEMBER = Scope.case_participate

MUTATIONS: list[CaseMutation] = [
    # --- network: the case from SACWIS, the safety network, partners, logins ---
    CaseMutation(
        "upsertCaseByExternalId",
        "network",
        "PUT",
        "/v1/cases/by-external/{system}/{external_id}",
        "case",
        "case",
        scope=None,
        description="Create or update a case from SACWIS (needs cases:sync); the same input again changes nothing.",
    ),
    CaseMutation(
        "addCaseMember",
        "network",
        "POST",
        f"{CASE}/members",
        "case_member",
        "case",
        action="create",
        description="Record a child, a caregiver or another household member in a case the platform keeps (opened "
        "outside SACWIS), at the case's version; a case from SACWIS is a CONFLICT (SACWIS lists its people).",
    ),
    CaseMutation("addNetworkMember", "network", "POST", f"{CASE}/network/members", "network_member", "member"),
    CaseMutation(
        "reviseNetworkMember", "network", "PUT", f"{CASE}/network/members/{{member_id}}", "network_member", "member"
    ),
    CaseMutation("recordNetworkMeeting", "network", "POST", f"{CASE}/network/meetings", "network_meeting", "meeting"),
    CaseMutation(
        "chooseWhatNetworkSees",
        "network",
        "PUT",
        f"{CASE}/network/sharing",
        "network_sharing",
        "sharing",
        scope=Scope.case_read,  # the family (case:participate) or staff (case:write): the network service decides
        action="update",
        description="The family chooses what their safety network sees beyond the default (a caregiver as "
        "themselves, or the worker recording the family's decision).",
    ),
    CaseMutation(
        "decideNetworkCommitment",
        "network",
        "POST",
        f"{CASE}/network/commitments/{{commitment_id}}/decision",
        "network_commitment",
        "commitment",
        action="decide",
        description="The worker confirms a network member's own commitment (it is then shared and a plan rule may "
        "carry it) or declines it with the reason.",
    ),
    CaseMutation(
        "withdrawNetworkCommitment",
        "network",
        "POST",
        f"{CASE}/network/commitments/{{commitment_id}}/withdrawal",
        "network_commitment",
        "commitment",
        action="update",
        description="The worker withdraws a commitment that no longer holds, with the reason: kept for the record, "
        "no longer shared with the family and the network.",
    ),
    CaseMutation(
        "recordNetworkCommitment",
        "network",
        "POST",
        f"{CASE}/network/members/{{member_id}}/commitments",
        "network_commitment",
        "commitment",
        description="The worker records what a network member agreed to: confirmed by the worker in the same act, "
        "so shared at once (words with plain-language findings need `shareReason`); a plan rule may carry it.",
    ),
    CaseMutation("grantPartnerAccess", "network", "POST", f"{CASE}/grants", "grant", "grant"),
    CaseMutation(
        "revokePartnerGrant", "network", "POST", f"{CASE}/grants/{{grant_id}}/revoke", "grant", "grant", action="update"
    ),
    CaseMutation(
        "inviteToLogin",
        "network",
        "POST",
        f"{CASE}/people/{{person_id}}/login-invitations",
        "login_invitation",
        "invitation",
    ),
    # --- assessment: statements, the map, goals, ratings ---
    CaseMutation("createStatement", "assessment", "POST", f"{CASE}/statements", "statement", "statement"),
    CaseMutation(
        "updateStatement", "assessment", "PATCH", f"{CASE}/statements/{{statement_id}}", "statement", "statement"
    ),
    CaseMutation(
        "shareStatement",
        "assessment",
        "POST",
        f"{CASE}/statements/{{statement_id}}/share",
        "statement",
        "statement",
        action="update",
    ),
    CaseMutation(
        "translateStatement",
        "assessment",
        "POST",
        f"{CASE}/statements/{{statement_id}}/translations",
        "statement_translation",
        "translation",
    ),
    CaseMutation("createMap", "assessment", "POST", f"{CASE}/maps", "map", "map"),
    CaseMutation("reviseMap", "assessment", "PUT", f"{CASE}/maps/{{map_id}}", "map", "map"),
    CaseMutation(
        "completeMap", "assessment", "POST", f"{CASE}/maps/{{map_id}}/complete", "map", "map", action="update"
    ),
    CaseMutation("shareMap", "assessment", "POST", f"{CASE}/maps/{{map_id}}/share", "map", "map", action="update"),
    CaseMutation("createSafetyGoal", "assessment", "POST", f"{CASE}/safety-goals", "safety_goal", "safetyGoal"),
    CaseMutation(
        "updateSafetyGoal", "assessment", "PATCH", f"{CASE}/safety-goals/{{goal_id}}", "safety_goal", "safetyGoal"
    ),
    CaseMutation(
        "shareSafetyGoal",
        "assessment",
        "POST",
        f"{CASE}/safety-goals/{{goal_id}}/share",
        "safety_goal",
        "safetyGoal",
        action="update",
    ),
    CaseMutation("rateSafetyScale", "assessment", "POST", f"{CASE}/scale-ratings", "scale_rating", "scaleRating"),
    # --- assessment: SDM ---
    CaseMutation(
        "startSdmAssessment", "assessment", "POST", f"{CASE}/sdm-assessments", "sdm_assessment", "sdmAssessment"
    ),
    CaseMutation("updateSdmAssessment", "assessment", "PATCH", SDM, "sdm_assessment", "sdmAssessment"),
    CaseMutation(
        "completeSdmAssessment",
        "assessment",
        "POST",
        f"{SDM}/complete",
        "sdm_assessment",
        "sdmAssessment",
        action="update",
    ),
    CaseMutation(
        "overrideSdmAssessment",
        "assessment",
        "POST",
        f"{SDM}/override",
        "sdm_assessment",
        "sdmAssessment",
        action="update",
    ),
    CaseMutation(
        "approveSdmAssessment",
        "assessment",
        "POST",
        f"{SDM}/approve",
        "sdm_assessment",
        "sdmAssessment",
        scope=DECIDE,
        action="decide",
    ),
    CaseMutation("amendSdmAssessment", "assessment", "POST", f"{SDM}/amend", "sdm_assessment", "sdmAssessment"),
    # --- assessment: the child's voice, consultations, the supervisor's queue ---
    *(
        CaseMutation(
            f"record{kind}", "assessment", "POST", f"{CASE}/child-voice", "child_voice", "childVoice", variant=variant
        )
        for kind, variant in (
            ("ThreeHouses", "three_houses"),
            ("SafetyHouse", "safety_house"),
            ("WordsAndPictures", "words_and_pictures"),
        )
    ),
    CaseMutation(
        "updateChildVoice", "assessment", "PATCH", f"{CASE}/child-voice/{{record_id}}", "child_voice", "childVoice"
    ),
    CaseMutation("recordConsultation", "assessment", "POST", f"{CASE}/consultations", "consultation", "consultation"),
    CaseMutation(
        "bringConsultationToCoaching",
        "assessment",
        "POST",
        f"{CASE}/consultations/{{consultation_id}}/coaching",
        "consultation",
        "brought",
        scope=Scope.case_read,  # who may read the consultation brings it (the assessment service decides)
        action="share",
        description="The worker (or their supervisor) brings a consultation to their coaching referral at the "
        "practice service: its snapshot is sent there, where a coach sees it without identifying details unless "
        "the worker's supervisor allows them. The practice service attaches it only to the bringer's (or their "
        "worker's) referral, and keeps a refusal in the referral's history otherwise.",
    ),
    # --- assessment: trauma-informed practice ---
    CaseMutation(
        "recordTraumaHistory", "assessment", "POST", f"{CASE}/trauma-histories", "trauma_history", "traumaHistory"
    ),
    CaseMutation(
        "updateTraumaHistory",
        "assessment",
        "PATCH",
        f"{CASE}/trauma-histories/{{history_id}}",
        "trauma_history",
        "traumaHistory",
    ),
    CaseMutation("recordContact", "assessment", "POST", f"{CASE}/contacts", "contact", "contact"),
    CaseMutation("requestApproval", "assessment", "POST", f"{CASE}/approvals", "approval", "approval"),
    CaseMutation(
        "decideApproval",
        "assessment",
        "POST",
        f"{CASE}/approvals/{{approval_id}}/decision",
        "approval",
        "approval",
        scope=DECIDE,
        action="decide",
    ),
    CaseMutation(
        "resubmitApproval",
        "assessment",
        "POST",
        f"{CASE}/approvals/{{approval_id}}/resubmit",
        "approval",
        "approval",
        action="update",
    ),
    # --- plans: the safety plan's life, sign-offs, check-ins, next steps ---
    CaseMutation("createSafetyPlan", "plans", "POST", f"{CASE}/safety-plans", "safety_plan", "safetyPlan"),
    CaseMutation("editSafetyPlan", "plans", "PATCH", PLAN, "safety_plan", "safetyPlan"),
    CaseMutation("submitSafetyPlan", "plans", "POST", f"{PLAN}/submit", "safety_plan", "safetyPlan", action="update"),
    CaseMutation(
        "approveSafetyPlan",
        "plans",
        "POST",
        f"{PLAN}/approve",
        "safety_plan_approval",
        "safetyPlan",
        scope=DECIDE,
        action="decide",
    ),
    CaseMutation(
        "activateSafetyPlan", "plans", "POST", f"{PLAN}/activate", "safety_plan", "safetyPlan", action="update"
    ),
    CaseMutation(
        "terminateSafetyPlan", "plans", "POST", f"{PLAN}/terminate", "safety_plan", "safetyPlan", action="update"
    ),
    CaseMutation("reviewSafetyPlan", "plans", "POST", f"{PLAN}/reviews", "safety_plan_review", "review"),
    CaseMutation("signSafetyPlan", "plans", "POST", f"{PLAN}/signatures", "safety_plan_signature", "signature"),
    CaseMutation("recordCheckIn", "plans", "POST", f"{PLAN}/check-ins", "check_in", "checkIn"),
    CaseMutation("createNextStep", "plans", "POST", f"{CASE}/next-steps", "next_step", "nextStep"),
    CaseMutation("updateNextStep", "plans", "PATCH", f"{CASE}/next-steps/{{step_id}}", "next_step", "nextStep"),
    # --- a family or network member, as themselves (docs/members.md): the person is the token's, never the input's
    CaseMutation(
        "signSafetyPlanAsMember",
        "plans",
        "POST",
        f"{PLAN}/member-signatures",
        "safety_plan_signature",
        "signature",
        scope=MEMBER,
        description="A caregiver or network member signs (or refuses, with a reason) the plan version shown to them.",
    ),
    CaseMutation(
        "checkInAsMember",
        "plans",
        "POST",
        f"{PLAN}/member-check-ins",
        "check_in",
        "checkIn",
        scope=MEMBER,
        description="A member says whether a rule they watch was kept, or when it was broken (kept: false).",
    ),
    CaseMutation(
        "rateSafetyScaleAsMember",
        "assessment",
        "POST",
        f"{CASE}/member-scale-ratings",
        "scale_rating",
        "scaleRating",
        scope=MEMBER,
        description="A member's own safety-scale rating, with what would move it one up.",
    ),
    CaseMutation(
        "proposeCommitmentAsMember",
        "network",
        "POST",
        f"{CASE}/network/member-commitments",
        "network_commitment",
        "commitment",
        scope=MEMBER,
        description="A safety-network member's own commitment, in their own words: a proposal until the worker "
        "confirms it.",
    ),
    CaseMutation(
        "respondToStatement",
        "assessment",
        "POST",
        f"{CASE}/statements/{{statement_id}}/responses",
        "statement_response",
        "response",
        scope=MEMBER,
        description="A member agrees, partly agrees or disagrees with a statement, in their own words (kept verbatim).",
    ),
]


LISTS = [
    ServiceList(
        "approvalQueue",
        "assessment",
        "/v1/approvals",
        "The calling supervisor's queue: what is addressed to them (SDM overrides, safety plans submitted at the "
        "plans service, case decisions), oldest first; pending unless `status` says otherwise.",
    ),
    ServiceList(
        "coachingQueue",
        "practice",
        "/v1/coaching-queue",
        "A coach's queue (practice service): the coaching referrals routed to the calling coach, assigned or in "
        "coaching unless `status` says otherwise, oldest first; for the training coordinator, the referrals waiting "
        "to be routed. A consultation's snapshot shows only what the policy table lets a coach see: identifying "
        "details removed unless the worker's supervisor allowed them.",
    ),
]

# Records that are not one case's, read by a key (`ServiceRecord`): typed as the service answers them.
RECORDS = [
    ServiceRecord(
        "trainingRecord",
        "practice",
        "/v1/people/{subject}/training-record",
        (("worker", "subject"),),
        "A worker's training record (practice service): each required or completed course's standing on `asOf` "
        "(current, expiring, expired, due, overdue) and every completion. For the worker, their supervisor, their "
        "coach, the training coordinator and practice leads; anyone else hears NOT_FOUND.",
    ),
    ServiceRecord(
        "practice",
        "practice",
        "/v1/fidelity",
        (),
        "How SOP is practised (practice service, from the other services' events): for the cases opened in "
        "`period` (2026, 2026-Q4, 2026-11) of a unit, county or worker, counts and rates of cases with a map, a "
        "danger statement within `withinDays` of opening, a safety goal, safety-scale ratings from two "
        "perspectives, a network that heard the danger statements, the child's voice, a plan signed by a "
        "caregiver; SDM assessments on time; shared texts passing the plain-language check; translations verified. "
        "A count of 1 to 4 is never shown (`suppressed`). A supervisor reads their unit, a coach their caseload, "
        "practice leads and the coordinator any scope; anyone else hears FORBIDDEN.",
    ),
    ServiceRecord(
        "outcomes",
        "practice",
        "/v1/outcomes",
        (),
        "Outcomes from the SACWIS history the network service announces (practice service, from its events), for "
        "the cases of a unit and/or county (none: the state) in `period` (2026, 2026-Q4, 2026-11; required): "
        "repeat screened-in reports within 6 and 12 months of a case's closing and of its first report, removals "
        "after a safety plan was in force (while in force or within `afterDays` after), time to reunification "
        "(median days from removal to discharge to the family). Counts and rates only: a count of 1 to 4 is never"
        " shown (`suppressed`). Practice leads, administrators, auditors and the training coordinator "
        "(`reporting:outcomes`); anyone else hears FORBIDDEN.",
    ),
    ServiceRecord(
        "practiceTrend",
        "practice",
        "/v1/fidelity/trend",
        (),
        "The fidelity measures of a unit or a worker quarter by quarter, oldest first (`quarters` up to 12, ending "
        "with `until`, by default this quarter), each beside the state's rate (rates only, for supervisors, coaches, "
        "practice leads and the coordinator): what the practice dashboards draw. Who may read `practice` for the "
        "unit or worker may read this; anyone else hears FORBIDDEN.",
    ),
    ServiceRecord(
        "unitTrainingDue",
        "practice",
        "/v1/units/{unit}/training-due",
        (("unit", "unit"),),
        "A unit's due, overdue, expiring and expired training on `asOf`, soonest first (practice service): for the "
        "unit's supervisors, the training coordinator and practice leads; anyone else hears FORBIDDEN.",
    ),
    ServiceRecord(
        "coachCaseload",
        "practice",
        "/v1/coaches/{subject}/caseload",
        (("coach", "subject"),),
        "A coach's open caseload (units and workers) and every worker it covers (practice service): for the coach, "
        "the training coordinator and practice leads; anyone else hears FORBIDDEN.",
    ),
]


def kept_upstream_contracts() -> dict[str, dict[str, Any]]:
    """The services' write operations as `make contracts` last wrote them beside this module."""
    return {
        service: json.loads((UPSTREAM_CONTRACTS / f"{service}.openapi.json").read_text(encoding="utf-8"))
        for service in SERVICES
    }


def shared_enums() -> dict[str, type[Enum]]:
    """The schema's own enums by GraphQL name: a service's enum with the same name and values is the same one."""
    return {
        value.__name__: value
        for value in vars(view_types).values()
        if isinstance(value, type) and issubclass(value, Enum) and hasattr(value, "__strawberry_definition__")
    }


def build_derived(upstream: Mapping[str, dict[str, Any]] | None = None) -> tuple[type, type]:
    """The `Mutation` type and the lists for `Query`, derived from the services' operations (`upstream`, else the
    ones kept beside this module), sharing one set of types: a record is one type wherever it shows up."""
    documents = dict(upstream) if upstream is not None else kept_upstream_contracts()
    types = DerivedTypes(shared_enums())
    mutation = mutation_type(MUTATIONS, documents, types)
    fields = {spec.name: list_field(spec, documents[spec.service], types) for spec in LISTS}
    fields |= {spec.name: record_field(spec, documents[spec.service], types) for spec in RECORDS}
    lists: type = strawberry.type(type("ServiceLists", (), fields))
    return mutation, lists
