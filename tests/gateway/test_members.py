"""Families and safety networks as participants (issue 14): the demo family's own logins through the
development member portal, what a member sees of their own case, and what they may do on it as themselves."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
import pytest

from sop_gateway.app import _trusted_issuers
from sop_gateway.settings import GatewaySettings
from sop_shared.dev_identity import DEV_ISSUER, DEV_MEMBER_PORTAL_ISSUER

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

MARIA, ROSA, WORKER = "maria.lopez", "rosa.delgado", "fsw.rivera"
VIEW = """query($id: ID!, $audience: Audience) {
  caseView(caseId: $id, audience: $audience) { audience language case { recordId } caregivers { firstName } }
}"""


async def _view(system: EmbeddedSystem, case_id: Any, user: str, audience: str | None = None) -> dict[str, Any]:
    variables = {"id": str(case_id), **({"audience": audience} if audience else {})}
    response = await system.graphql(VIEW, variables, user=user)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_demo_members_sign_in_through_the_member_portal_not_the_staff_issuer(system: EmbeddedSystem) -> None:
    for user, kind in ((MARIA, "family"), (ROSA, "network")):
        claims = jwt.decode(system.token(user), options={"verify_signature": False})
        assert claims["iss"] == DEV_MEMBER_PORTAL_ISSUER != DEV_ISSUER
        assert (claims["sub"], claims["sop_actor_type"], claims["roles"]) == (user, kind, [])
        assert "agency" not in claims


async def test_the_demo_family_and_network_member_see_their_own_case(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    maria = await _view(system, demo_case, MARIA, "FAMILY")
    rosa = await _view(system, demo_case, ROSA, "NETWORK")
    assert "errors" not in maria and "errors" not in rosa, (maria, rosa)
    assert maria["data"]["caseView"]["case"]["recordId"] == str(demo_case)
    assert rosa["data"]["caseView"]["caregivers"] == [{"firstName": "Maria"}]
    # each only in their own audience
    staff = await _view(system, demo_case, MARIA, "STAFF")
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    as_family = await _view(system, demo_case, ROSA, "FAMILY")
    assert as_family["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_member_may_not_see_another_case_and_the_refusal_is_audited(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    other = uuid.uuid4()
    refused = await _view(system, other, MARIA, "FAMILY")
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    rows = await system.audit_rows()
    assert [r for r in rows if r.actor_subject == MARIA and r.action == "denied" and r.case_id == other]


def test_the_member_portal_is_trusted_in_development_only(tmp_path: Path) -> None:
    def issuers(**settings: Any) -> dict[str, frozenset[str]]:
        trusted = _trusted_issuers(GatewaySettings(data_dir=tmp_path, **settings), None)
        return {i.issuer: frozenset(i.actor_types) for i in trusted}

    assert issuers(environment="development")[DEV_MEMBER_PORTAL_ISSUER] == {"family", "network"}
    assert issuers(environment="development")[DEV_ISSUER] == {"staff", "integration"}
    # a real identity provider configured: no development portal beside it
    assert DEV_MEMBER_PORTAL_ISSUER not in issuers(environment="development", oidc_jwks_url="https://idp.invalid/jwks")
    production = issuers(
        environment="production",
        internal_signing_key_file=tmp_path / "k.pem",
        database_url="sqlite+aiosqlite:///x.db",
        network_url="http://n",
        assessment_url="http://a",
        plans_url="http://p",
        practice_url="http://q",
        oidc_jwks_file=tmp_path / "jwks.json",
    )
    assert DEV_MEMBER_PORTAL_ISSUER not in production


SEEN = """query($id: ID!) {
  caseView(caseId: $id) {
    audience language
    worries { danger { text } }
    needsToHappen { safetyGoals { text } }
    sdm { safetyDecision riskLevel }
    safetyScale { latest { raterRole score } trajectory { raters { raterRole } } }
    safetyPlan { rules { text monitors } }
  }
}"""


async def _seen(system: EmbeddedSystem, case_id: Any, user: str) -> dict[str, Any]:
    response = await system.graphql(SEEN, {"id": str(case_id)}, user=user)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    view: dict[str, Any] = body["data"]["caseView"]
    return view


async def test_each_member_sees_their_own_audience_in_their_own_language_by_default(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    maria = await _seen(system, demo_case, MARIA)
    rosa = await _seen(system, demo_case, ROSA)
    worker = await _seen(system, demo_case, "fsw.rivera")
    assert (maria["audience"], maria["language"]) == ("FAMILY", "es")  # Maria reads Spanish
    assert (rosa["audience"], rosa["language"]) == ("NETWORK", "es")
    assert (worker["audience"], worker["language"]) == ("STAFF", "en")
    assert maria["worries"]["danger"][0]["text"].startswith("La abuela Rosa")
    # asked for English, she gets English
    response = await system.graphql(
        'query($id: ID!) { caseView(caseId: $id, language: "en") { language } }', {"id": str(demo_case)}, user=MARIA
    )
    assert response.json()["data"]["caseView"]["language"] == "en"


async def test_the_network_sees_the_danger_statements_the_goal_and_its_own_rules_not_sdm_levels_or_every_rater(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    rosa = await _seen(system, demo_case, ROSA)
    maria = await _seen(system, demo_case, MARIA)
    worker = await _seen(system, demo_case, "fsw.rivera")
    assert rosa["worries"]["danger"] and rosa["needsToHappen"]["safetyGoals"]
    assert rosa["sdm"] == {"safetyDecision": None, "riskLevel": None}
    assert worker["sdm"]["safetyDecision"] is not None  # the agency sees its SDM decision
    # every rater's score: the worker's is kept from the network, the family's and the network's stay
    worker_roles = {r["raterRole"] for r in worker["safetyScale"]["latest"]}
    rosa_roles = {r["raterRole"] for r in rosa["safetyScale"]["latest"]}
    assert "WORKER" in worker_roles and rosa_roles and rosa_roles <= {"CAREGIVER", "NETWORK"}
    rosa_series = {s["raterRole"] for t in rosa["safetyScale"]["trajectory"] for s in t["raters"]}
    assert rosa_series <= {"CAREGIVER", "NETWORK"}
    # the family sees every rater (the family view's chart), as before
    assert "WORKER" in {r["raterRole"] for r in maria["safetyScale"]["latest"]}
    # the rules Rosa helps with: both demo rules name her (she watches one and carries out the other)
    assert len(rosa["safetyPlan"]["rules"]) == len(worker["safetyPlan"]["rules"]) == 2


def test_the_network_sections_are_decided_in_the_policy_table() -> None:
    from sop_shared.policy import Audience, Section, may_see_section

    for section in Section:
        assert not may_see_section(section, Audience.network)
        for audience in (Audience.staff, Audience.supervisor):
            assert may_see_section(section, audience)
        # the family's and the court's sections, except the agency's supervision records
        for audience in (Audience.family, Audience.court):
            assert may_see_section(section, audience) is (section != Section.supervision)
    assert not may_see_section(Section.supervision, Audience.partner)


async def test_the_family_view_page_is_the_members_own_in_their_language(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    maria = await system.client.get(f"/v1/cases/{demo_case}/family-view", headers=system.bearer(MARIA))
    assert maria.status_code == 200, maria.text
    assert maria.headers["content-language"] == "es" and "¿Qué nos preocupa?" in maria.text
    rosa = await system.client.get(f"/v1/cases/{demo_case}/family-view", headers=system.bearer(ROSA))
    assert rosa.status_code == 200, rosa.text
    other = await system.client.get(f"/v1/cases/{uuid.uuid4()}/family-view", headers=system.bearer(MARIA))
    assert other.status_code == 404
    rows = await system.audit_rows()
    pages = [r for r in rows if r.resource == "family_view" and r.actor_subject in (MARIA, ROSA)]
    assert {(r.actor_subject, r.audience) for r in pages} == {(MARIA, "family"), (ROSA, "network")}


# --- a member acts as themselves -----------------------------------------------------------------------------


async def _plan(system: EmbeddedSystem, case_id: Any, user: str) -> dict[str, Any]:
    listed = await system.client.get(f"/api/plans/v1/cases/{case_id}/safety-plans", headers=system.bearer(user))
    assert listed.status_code == 200, listed.text
    plan: dict[str, Any] = listed.json()["items"][0]
    return plan


async def _danger(system: EmbeddedSystem, case_id: Any) -> dict[str, Any]:
    listed = await system.client.get(f"/api/assessment/v1/cases/{case_id}/statements", headers=system.bearer(MARIA))
    assert listed.status_code == 200, listed.text
    statement: dict[str, Any] = next(s for s in listed.json()["items"] if s["kind"] == "danger")
    return statement


INTERPRETER = {"name": "Lucía Gómez", "qualification": "certified_interpreter", "mode": "phone"}


@pytest.mark.sqlite_smoke("the member's own writes on SQLite")
async def test_maria_signs_the_version_shown_to_her_with_the_interpreter_rule(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    plan = await _plan(system, demo_case, MARIA)
    url = f"/api/plans/v1/cases/{demo_case}/safety-plans/{plan['id']}/member-signatures"
    shown = {"version_number": plan["current_version_number"], "content_hash": plan["content_hash"]}
    signing = {**shown, "method": "typed_name", "typed_name": "Maria Lopez", "affirmation": "Estoy de acuerdo."}
    # the plan is in English; Maria reads Spanish: no interpreter on the record, no signature
    refused = await system.client.post(url, json=signing, headers=system.bearer(MARIA))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["field"] == "interpreter"
    # who signs is her token's person: a body naming a person (hers or anyone's) is refused
    person = {"signer_person_id": str(uuid.uuid4()), "interpreter": INTERPRETER}
    named = await system.client.post(url, json={**signing, **person}, headers=system.bearer(MARIA))
    assert named.status_code == 422 and "signer_person_id" in named.text
    # a version she was not shown (stale): refused, nothing recorded
    stale = await system.client.post(
        url, json={**signing, "content_hash": "0" * 64, "interpreter": INTERPRETER}, headers=system.bearer(MARIA)
    )
    assert stale.status_code == 409, stale.text
    signed = await system.client.post(url, json={**signing, "interpreter": INTERPRETER}, headers=system.bearer(MARIA))
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert (body["signer_role"], body["decision"], body["signer_name"]) == ("caregiver", "signed", "Maria Lopez")
    assert body["recorded_by"] == MARIA and body["signer_language"] == "es"
    # staff record signatures through their own route; the member route is the member's alone
    staff = await system.client.post(url, json={**signing, "interpreter": INTERPRETER}, headers=system.bearer(WORKER))
    assert staff.status_code == 403, staff.text
    rows = await system.audit_rows()
    assert [r for r in rows if r.actor_subject == MARIA and r.resource.startswith("plans:") and r.action == "create"]


async def test_a_member_refuses_to_sign_with_a_reason_and_needs_no_interpreter_for_it(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    plan = await _plan(system, demo_case, ROSA)
    url = f"/api/plans/v1/cases/{demo_case}/safety-plans/{plan['id']}/member-signatures"
    shown = {"version_number": plan["current_version_number"], "content_hash": plan["content_hash"]}
    without = await system.client.post(url, json={**shown, "decision": "refused"}, headers=system.bearer(ROSA))
    assert without.status_code == 422 and "refusal_reason" in without.text
    reason = "No puedo cuidar a los niños los martes."
    refused = await system.client.post(
        url, json={**shown, "decision": "refused", "refusal_reason": reason}, headers=system.bearer(ROSA)
    )
    assert refused.status_code == 201, refused.text
    assert (refused.json()["signer_role"], refused.json()["refusal_reason"]) == ("network", reason)


async def test_rosa_checks_in_on_the_rules_she_watches_and_says_when_one_was_broken(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    plan = await _plan(system, demo_case, ROSA)
    url = f"/api/plans/v1/cases/{demo_case}/safety-plans/{plan['id']}/member-check-ins"
    rule = plan["rules"][1]["id"]  # "Rosa calls Maria every evening at 8"
    version = plan["current_version_number"]
    broken = {"version_number": version, "rule_id": rule, "kept": False, "note": "Maria no contestó a las 8."}
    made = await system.client.post(url, json=broken, headers=system.bearer(ROSA))
    assert made.status_code == 201, made.text
    assert made.json()["kept"] is False and made.json()["reported_by"]["name"] == "Rosa Delgado"
    assert made.json()["note"] == broken["note"]
    # Maria carries that rule out but does not watch it
    maria = await system.client.post(url, json=broken, headers=system.bearer(MARIA))
    assert maria.status_code == 422 and maria.json()["errors"][0]["field"] == "rule_id"
    # a version she was not shown
    stale = await system.client.post(url, json={**broken, "version_number": version + 1}, headers=system.bearer(ROSA))
    assert stale.status_code == 409, stale.text
    # someone to report for: refused (the reporter is her token's person)
    other = {**broken, "reported_by": {"name": "Samuel Greene"}}
    assert (await system.client.post(url, json=other, headers=system.bearer(ROSA))).status_code == 422


async def test_maria_rates_the_danger_she_was_shown_and_says_what_would_move_it_one_up(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    statement = await _danger(system, demo_case)
    url = f"/api/assessment/v1/cases/{demo_case}/member-scale-ratings"
    rating = {
        "statement_id": statement["id"],
        "statement_version": statement["version"],
        "score": 5,
        "one_step_up": "Que Rosa venga cada noche este mes.",
    }
    missing = await system.client.post(
        url, json={k: v for k, v in rating.items() if k != "one_step_up"}, headers=system.bearer(MARIA)
    )
    assert missing.status_code == 422 and "one_step_up" in missing.text
    stale = await system.client.post(
        url, json={**rating, "statement_version": statement["version"] + 1}, headers=system.bearer(MARIA)
    )
    assert stale.status_code == 409, stale.text
    as_someone = await system.client.post(
        url, json={**rating, "rater_person_id": str(uuid.uuid4())}, headers=system.bearer(MARIA)
    )
    assert as_someone.status_code == 422
    made = await system.client.post(url, json=rating, headers=system.bearer(MARIA))
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["rater_role"], body["mode"], body["score"]) == ("caregiver", "written_independent", 5)
    assert body["one_step_up"] == rating["one_step_up"] and body["rater_person_id"] is not None
    again = await system.client.post(url, json=rating, headers=system.bearer(MARIA))
    assert again.status_code == 409  # one rating per rater, statement and occasion


async def test_a_member_disagrees_with_a_statement_in_her_own_words_kept_verbatim(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    statement = await _danger(system, demo_case)
    url = f"/api/assessment/v1/cases/{demo_case}/statements/{statement['id']}/responses"
    words = "  No bebo todas las noches.\nSolo los fines de semana, y nunca con los niños solos.  "
    body = {"statement_version": statement["version"], "stance": "disagree", "words": words, "language": "es"}
    blank = await system.client.post(url, json={**body, "words": "   "}, headers=system.bearer(MARIA))
    assert blank.status_code == 422 and "words" in blank.text
    made = await system.client.post(url, json=body, headers=system.bearer(MARIA))
    assert made.status_code == 201, made.text
    assert made.json()["words"] == words and made.json()["stance"] == "disagree"
    rosa = await system.client.post(
        url, json={**body, "stance": "agree", "words": "Estoy de acuerdo."}, headers=system.bearer(ROSA)
    )
    assert rosa.status_code == 201, rosa.text
    stale = await system.client.post(
        url, json={**body, "statement_version": statement["version"] + 1}, headers=system.bearer(MARIA)
    )
    assert stale.status_code == 409
    worker = await system.client.get(url, headers=system.bearer(WORKER))
    assert [(r["responder_role"], r["words"]) for r in worker.json()["items"]] == [
        ("caregiver", words),
        ("network", "Estoy de acuerdo."),
    ]
    first = await system.client.get(url, params={"limit": 1}, headers=system.bearer(WORKER))
    assert [r["words"] for r in first.json()["items"]] == [words] and first.json()["next_cursor"]
    rest = await system.client.get(
        url, params={"limit": 1, "cursor": first.json()["next_cursor"]}, headers=system.bearer(WORKER)
    )
    assert [r["words"] for r in rest.json()["items"]] == ["Estoy de acuerdo."] and rest.json()["next_cursor"] is None
    mine = await system.client.get(url, headers=system.bearer(ROSA))
    assert [r["responder_role"] for r in mine.json()["items"]] == ["network"]
    # the worker may not answer for the family
    assert (await system.client.post(url, json=body, headers=system.bearer(WORKER))).status_code == 403


async def test_a_member_acts_only_on_her_own_case(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    other = uuid.uuid4()
    response = await system.client.post(
        f"/api/assessment/v1/cases/{other}/member-scale-ratings",
        json={"score": 5, "one_step_up": "Más ayuda."},
        headers=system.bearer(MARIA),
    )
    assert response.status_code == 404
    rows = await system.audit_rows()
    assert [r for r in rows if r.actor_subject == MARIA and r.action == "denied" and r.case_id == other]


RESPOND = """mutation($input: RespondToStatementInput!) {
  respondToStatement(input: $input) { response { stance words responderRole } userErrors { field message code } }
}"""


async def test_the_member_actions_are_graphql_mutations_too(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    statement = await _danger(system, demo_case)
    variables = {
        "input": {
            "caseId": str(demo_case),
            "statementId": statement["id"],
            "statementVersion": statement["version"],
            "stance": "PARTLY",
            "words": "Es verdad a medias.",
        }
    }
    answered = await system.graphql(RESPOND, variables, user=MARIA)
    assert answered.status_code == 200, answered.text
    payload = answered.json()["data"]["respondToStatement"]
    assert payload["userErrors"] == [] and payload["response"]["words"] == "Es verdad a medias."
    stale = await system.graphql(
        RESPOND, {"input": {**variables["input"], "statementVersion": statement["version"] + 1}}, user=MARIA
    )
    assert stale.json()["data"]["respondToStatement"]["userErrors"][0]["code"] == "CONFLICT"
    staff = await system.graphql(RESPOND, variables, user=WORKER)
    assert staff.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_the_access_decision_names_the_members_own_person_and_never_a_staff_one() -> None:
    from datetime import UTC, datetime

    from sop_shared.policy import ActorType, CaseAccessFacts, Scope, StaffAssignment, decide_case_access

    case, maria = uuid.uuid4(), uuid.uuid4()
    facts = CaseAccessFacts(
        case,
        True,
        assignments=(StaffAssignment(WORKER, "worker"),),
        member_subjects={MARIA: "family"},
        member_people={MARIA: maria},
    )

    def decide(actor: ActorType, subject: str, roles: tuple[str, ...] = ()) -> Any:
        return decide_case_access(
            actor_type=actor,
            subject=subject,
            roles=roles,
            agency=None,
            token_scopes=(),
            facts=facts,
            now=datetime.now(UTC),
        )

    member = decide(ActorType.family, MARIA)
    assert member.person_id == maria and Scope.case_participate in member.scopes
    worker = decide(ActorType.staff, WORKER, ("worker",))
    assert worker.person_id is None and Scope.case_participate not in worker.scopes
    assert not decide(ActorType.network, MARIA).allowed  # a family login is not a network one


PROPOSE = """mutation($input: ProposeCommitmentAsMemberInput!) {
  proposeCommitmentAsMember(input: $input) { commitment { id status version } userErrors { field message code } }
}"""
DECIDE = """mutation($input: DecideNetworkCommitmentInput!) {
  decideNetworkCommitment(input: $input) { commitment { id status sharing } userErrors { field message code } }
}"""
COMMITMENTS = """query($id: ID!) {
  caseView(caseId: $id) { network { members { firstName commitments {
    recordId text status origin language declineReason declineReasonLanguage } } } }
}"""
RECORD = """mutation($input: RecordNetworkCommitmentInput!) {
  recordNetworkCommitment(input: $input) { commitment { id status origin } userErrors { field message code } }
}"""


async def _commitments(system: EmbeddedSystem, case_id: Any, user: str) -> list[dict[str, Any]]:
    response = await system.graphql(COMMITMENTS, {"id": str(case_id)}, user=user)
    body = response.json()
    assert "errors" not in body, body
    members = body["data"]["caseView"]["network"]["members"]
    return [c for m in members for c in m["commitments"]]


async def _own_commitments(system: EmbeddedSystem, case_id: Any, user: str) -> list[dict[str, Any]]:
    return [c for c in await _commitments(system, case_id, user) if c["origin"] == "MEMBER"]


async def test_rosa_proposes_her_own_commitment_and_the_family_reads_it_once_the_worker_confirms(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    words = "Duermo en casa de Maria los viernes y sábados."
    proposed = await system.graphql(PROPOSE, {"input": {"caseId": str(demo_case), "text": words}}, user=ROSA)
    payload = proposed.json()["data"]["proposeCommitmentAsMember"]
    assert payload["userErrors"] == [] and payload["commitment"]["status"] == "PROPOSED"
    commitment = payload["commitment"]
    # Maria (family) may not propose one; nor may she read Rosa's proposal yet. Rosa reads her own.
    by_maria = await system.graphql(PROPOSE, {"input": {"caseId": str(demo_case), "text": words}}, user=MARIA)
    assert by_maria.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _own_commitments(system, demo_case, MARIA) == []
    assert [c["status"] for c in await _own_commitments(system, demo_case, ROSA)] == ["PROPOSED"]

    decide = {"caseId": str(demo_case), "commitmentId": commitment["id"], "decision": "CONFIRMED"}
    stale = await system.graphql(DECIDE, {"input": {**decide, "expectedVersion": 7}}, user=WORKER)
    assert stale.json()["data"]["decideNetworkCommitment"]["userErrors"][0]["code"] == "VERSION_CONFLICT"
    confirmed = await system.graphql(DECIDE, {"input": {**decide, "expectedVersion": 1}}, user=WORKER)
    decided = confirmed.json()["data"]["decideNetworkCommitment"]
    assert decided["userErrors"] == [] and decided["commitment"]["status"] == "CONFIRMED"
    seen = await _own_commitments(system, demo_case, MARIA)
    assert [(c["text"], c["status"], c["language"]) for c in seen] == [(words, "CONFIRMED", "es")]


def test_the_family_opens_sections_and_single_statements_to_their_network_in_the_policy_table() -> None:
    from sop_shared.policy import Audience, NetworkSharing, Section, may_see_section, may_see_statement

    opened = NetworkSharing(sections=frozenset({Section.every_rater}), statement_ids=frozenset({uuid.UUID(int=7)}))
    assert may_see_section(Section.every_rater, Audience.network, opened)
    assert not may_see_section(Section.sdm_levels, Audience.network, opened)  # only what the family opened
    assert may_see_statement("danger", uuid.UUID(int=1), Audience.network)  # the default: danger statements
    assert not may_see_statement("harm", uuid.UUID(int=1), Audience.network, opened)
    assert may_see_statement("harm", uuid.UUID(int=7), Audience.network, opened)
    assert may_see_statement("harm", uuid.UUID(int=1), Audience.family)
    everything = NetworkSharing(sections=frozenset(Section))
    opened_all = [s for s in Section if may_see_section(s, Audience.network, everything)]
    assert opened_all == [s for s in Section if s != Section.supervision]  # never the agency's supervision


CHOOSE = """mutation($input: ChooseWhatNetworkSeesInput!) {
  chooseWhatNetworkSees(input: $input) { sharing { sections statementIds version } userErrors { field message code } }
}"""
HARM_SEEN = """query($id: ID!) {
  caseView(caseId: $id) { worries { harm { recordId } } sdm { safetyDecision } safetyScale { latest { raterRole } } }
}"""


async def _rosa_reads(system: EmbeddedSystem, case_id: Any) -> dict[str, Any]:
    """What Rosa reads: the case view, and the assessment's REST lists as she may call them."""
    view = (await system.graphql(HARM_SEEN, {"id": str(case_id)}, user=ROSA)).json()["data"]["caseView"]
    api = f"/api/assessment/v1/cases/{case_id}"
    harm = await system.client.get(f"{api}/statements?kind=harm", headers=system.bearer(ROSA))
    ratings = await system.client.get(f"{api}/scale-ratings", headers=system.bearer(ROSA))
    sdm = await system.client.get(f"{api}/sdm-assessments", headers=system.bearer(ROSA))
    return {
        "view_harm": [s["recordId"] for s in view["worries"]["harm"]],
        "view_raters": {r["raterRole"] for r in view["safetyScale"]["latest"]},
        "view_sdm": view["sdm"]["safetyDecision"],
        "rest_harm": [s["id"] for s in harm.json()["items"]],
        "rest_raters": {r["rater_role"] for r in ratings.json()["items"]},
        "rest_sdm": sdm.status_code,
    }


async def test_maria_chooses_what_her_network_sees_and_rosa_reads_just_that_in_the_view_and_the_rest_lists(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    api = f"/api/assessment/v1/cases/{demo_case}/statements"
    worker = system.bearer(WORKER)
    made = await system.client.post(
        api,
        headers=worker,
        json={
            "kind": "harm",
            "language": "en",
            "who_reported": "A neighbour",
            "action_or_inaction": "left Sofia and Mateo alone at night",
            "when_or_how_often": "twice in October",
            "impact_on_child": "they were scared",
        },
    )
    assert made.status_code == 201, made.text
    harm = made.json()
    shared = await system.client.post(
        f"{api}/{harm['id']}/share",
        headers={**worker, "If-Match": f'"{harm["version"]}"'},
        json={"reason": "Read with Maria"},
    )
    assert shared.status_code == 200, shared.text

    before = await _rosa_reads(system, demo_case)  # the default: no harm, no worker's score, no SDM
    assert before["view_harm"] == before["rest_harm"] == [] and before["view_sdm"] is None
    assert before["view_raters"] <= {"CAREGIVER", "NETWORK"} and before["rest_raters"] <= {"caregiver", "network"}
    assert before["rest_sdm"] == 404

    variables = {
        "input": {
            "caseId": str(demo_case),
            "sections": ["EVERY_RATER", "SDM_LEVELS"],
            "statementIds": [harm["id"]],
            "expectedVersion": 0,
        }
    }
    by_rosa = await system.graphql(CHOOSE, variables, user=ROSA)
    assert by_rosa.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    chosen = (await system.graphql(CHOOSE, variables, user=MARIA)).json()
    assert chosen["data"]["chooseWhatNetworkSees"]["userErrors"] == [], chosen
    assert chosen["data"]["chooseWhatNetworkSees"]["sharing"]["version"] == 1

    after = await _rosa_reads(system, demo_case)
    assert after["view_harm"] == after["rest_harm"] == [harm["id"]]
    assert "WORKER" in after["view_raters"] and "worker" in after["rest_raters"]
    assert after["view_sdm"] is not None and after["rest_sdm"] == 200


async def test_family_and_network_read_only_the_commitments_ready_to_share_whoever_wrote_them(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    """The worker's record and a member's own are one kind of record: Maria and Rosa read the worker's (confirmed,
    shared, in the demo), never one that waits or was refused; a worker's words with findings are not recorded
    without `shareReason`; Rosa reads why her own was declined."""
    recorded_by_worker = [c for c in await _commitments(system, demo_case, MARIA) if c["origin"] == "WORKER"]
    assert recorded_by_worker and {c["status"] for c in recorded_by_worker} == {"CONFIRMED"}
    rosa_member = await system.graphql(
        "query($id: ID!) { caseView(caseId: $id) { network { members { recordId firstName } } } }",
        {"id": str(demo_case)},
        user=WORKER,
    )
    rosa_id = next(
        m["recordId"] for m in rosa_member.json()["data"]["caseView"]["network"]["members"] if m["firstName"] == "Rosa"
    )
    jargon = "Rosa monitors the DV perpetrator per the SDM safety plan and ensures compliance."
    refused = await system.graphql(
        RECORD, {"input": {"caseId": str(demo_case), "memberId": rosa_id, "text": jargon}}, user=WORKER
    )
    assert [e["field"] for e in refused.json()["data"]["recordNetworkCommitment"]["userErrors"]] == [
        ["input", "shareReason"]
    ]
    proposed = await system.graphql(
        PROPOSE, {"input": {"caseId": str(demo_case), "text": "Llevo a Sofía al médico."}}, user=ROSA
    )
    commitment = proposed.json()["data"]["proposeCommitmentAsMember"]["commitment"]
    texts = {c["text"] for c in await _commitments(system, demo_case, MARIA)}
    assert jargon not in texts and "Llevo a Sofía al médico." not in texts
    reason = "Maria takes Sofia to the doctor. Can you help in the evenings?"
    declined = await system.graphql(
        DECIDE,
        {
            "input": {
                "caseId": str(demo_case),
                "commitmentId": commitment["id"],
                "decision": "DECLINED",
                "reason": reason,
                "expectedVersion": 1,
            }
        },
        user=WORKER,
    )
    assert declined.json()["data"]["decideNetworkCommitment"]["userErrors"] == []
    [own] = await _own_commitments(system, demo_case, ROSA)
    assert (own["status"], own["declineReason"], own["declineReasonLanguage"]) == ("DECLINED", reason, "en")
    for reader in (MARIA, ROSA):
        shown = await _commitments(system, demo_case, reader)
        assert jargon not in {c["text"] for c in shown}
        assert all(c["status"] == "CONFIRMED" for c in shown if c["origin"] == "WORKER")
    assert all(c["origin"] == "WORKER" for c in await _commitments(system, demo_case, MARIA))
