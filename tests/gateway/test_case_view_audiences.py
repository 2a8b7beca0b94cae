"""Who may ask for which audience of the case view, and what each audience is shown: the cap (a plain
function), the refusals (nothing fetched beyond the access check), and each audience's redaction through
GraphQL — the reporter, the child's words without consent, SDM detail — and what the audit records."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sharing_steps import share_at

from sop_gateway.graphql.case_view import audiences_for
from sop_shared.auth import Principal
from sop_shared.policy import ActorType
from sop_shared.policy import Audience as A
from tests.gateway.principals import grant_partner, partner_bearer

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

REPORTER = "Ms. Alvarez, Sofia's teacher"

HARM_STATEMENT: dict[str, Any] = {
    "kind": "harm",
    "language": "en",
    "who_reported": REPORTER,
    "caregivers": [{"name": "Maria"}],
    "action_or_inaction": "was asleep and could not be woken",
    "when_or_how_often": "on the night of 12 October",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "impact_on_child": "were alone and frightened until Grandma Rosa came",
    "threat_codes": ["T4"],
}

# Mateo's Three Houses: he did not agree to share them with anyone beyond the agency.
UNSHARED_HOUSES: dict[str, Any] = {
    "kind": "three_houses",
    "child": {"name": "Mateo"},
    "language": "en",
    "consent": {"shared_with": []},
    "content": {
        "session_date": "2026-11-21",
        "parent_consent": "not_needed",
        "houses": [{"house": "worries", "entries": [{"words": "the dark kitchen at night"}]}],
    },
}

AUDIENCE_VIEW = """query($id: ID!, $audience: Audience!) { caseView(caseId: $id, audience: $audience) {
  worries { harm { text whoReported redacted } }
  childVoice { childName restricted content }
  sdm { safetyDecision detail }
} }"""


def principal(actor_type: ActorType, *roles: str) -> Principal:
    return Principal(subject="someone", actor_type=actor_type, roles=frozenset(roles))


# --- the cap, as a plain function ---


def test_a_worker_may_ask_for_any_audience_but_the_supervisors() -> None:
    assert audiences_for(principal(ActorType.staff, "worker")) == {A.staff, A.family, A.network, A.partner, A.court}


def test_a_supervisor_may_also_ask_for_the_supervisor_audience() -> None:
    assert A.supervisor in audiences_for(principal(ActorType.staff, "supervisor"))


def test_a_partner_may_ask_only_for_the_audiences_its_grant_on_this_case_names() -> None:
    partner = principal(ActorType.partner)
    assert audiences_for(partner) == {A.partner, A.court}
    assert audiences_for(partner, ["partner"]) == {A.partner}
    assert audiences_for(partner, ["court"]) == {A.court}
    # a decision can never widen what the kind of actor may ask for
    assert audiences_for(partner, ["staff", "partner"]) == {A.partner}


@pytest.mark.parametrize(
    ("actor_type", "audience"),
    [(ActorType.family, A.family), (ActorType.network, A.network), (ActorType.integration, A.staff)],
)
def test_family_network_and_integration_callers_speak_only_for_themselves(actor_type: ActorType, audience: A) -> None:
    assert audiences_for(principal(actor_type)) == {audience}


def test_a_case_decision_without_audiences_allows_none_and_unknown_names_are_ignored() -> None:
    worker = principal(ActorType.staff, "worker")
    assert audiences_for(worker, []) == frozenset()
    assert audiences_for(worker, ["family", "everyone"]) == {A.family}


# --- the cap through GraphQL ---


async def view(
    system: EmbeddedSystem,
    case_id: Any,
    audience: str,
    *,
    user: str = "fsw.rivera",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    variables = {"id": str(case_id), "audience": audience}
    if headers is None:
        response = await system.graphql(AUDIENCE_VIEW, variables, user=user)
    else:
        response = await system.client.post(
            "/graphql", json={"query": AUDIENCE_VIEW, "variables": variables}, headers=headers
        )
    assert response.status_code == 200, response.text
    return response.json()


def forbidden(body: dict[str, Any]) -> bool:
    return body["data"] is None and [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_a_worker_may_not_ask_for_the_supervisor_audience_and_nothing_is_fetched(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    body = await view(system, demo_case, "SUPERVISOR")
    assert forbidden(body)
    assert body["extensions"]["upstreamCalls"] == {}
    assert [r for r in await system.audit_rows() if r.resource == "case_view"] == []


async def test_a_partner_may_see_its_audience_only_and_is_refused_staff_and_court_with_nothing_fetched(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    agency = "Ozark Family Counseling"
    partner = await partner_bearer(system, agency)
    await grant_partner(system, demo_case, agency, by=system.bearer("fsw.rivera"))  # a grant for `partner`
    await system.events_delivered()  # the grant's event drops cached decisions: let it land before counting

    staff = await view(system, demo_case, "STAFF", headers=partner)
    assert forbidden(staff) and staff["extensions"]["upstreamCalls"] == {}

    court = await view(system, demo_case, "COURT", headers=partner)
    assert forbidden(court)
    assert court["extensions"]["upstreamCalls"] == {"network": 1}  # the access check, nothing else
    assert "Lopez" not in str(court) and "Sofia" not in str(court)
    again = await view(system, demo_case, "COURT", headers=partner)  # the decision is cached now
    assert forbidden(again) and again["extensions"]["upstreamCalls"] == {}

    allowed = await view(system, demo_case, "PARTNER", headers=partner)
    assert "errors" not in allowed, allowed
    # the view asks for nothing of the plans service, so it is not called
    assert allowed["extensions"]["upstreamCalls"] == {"assessment": 1, "network": 1}
    assert [r.audience for r in await system.audit_rows() if r.resource == "case_view"] == ["partner"]


# --- what each audience is shown ---


@pytest.fixture
async def reported_case(system: EmbeddedSystem, demo_case: uuid.UUID) -> uuid.UUID:
    """The demo family plus a harm statement naming its reporter and Mateo's unshared Three Houses."""
    worker = system.bearer("fsw.rivera")
    base = f"/api/assessment/v1/cases/{demo_case}"
    harm = await system.client.post(f"{base}/statements", json=HARM_STATEMENT, headers=worker)
    assert harm.status_code == 201, harm.text
    await share_at(system.client, f"{base}/statements/{harm.json()['id']}", worker, harm.json())
    houses = await system.client.post(f"{base}/child-voice", json=UNSHARED_HOUSES, headers=worker)
    assert houses.status_code == 201, houses.text
    return demo_case


@pytest.mark.parametrize(
    ("audience", "user", "sees_reporter", "sees_sofias_houses", "sees_sdm_detail"),
    [
        ("STAFF", "fsw.rivera", True, True, True),
        ("SUPERVISOR", "sup.okafor", True, True, True),
        ("FAMILY", "fsw.rivera", False, True, False),  # Sofia shared her houses with her family
        ("NETWORK", "fsw.rivera", False, False, False),
        ("PARTNER", "fsw.rivera", False, False, False),
        ("COURT", "fsw.rivera", False, False, True),
    ],
)
async def test_each_audience_sees_only_what_the_policy_table_and_the_childs_consent_allow(
    system: EmbeddedSystem,
    reported_case: uuid.UUID,
    audience: str,
    user: str,
    sees_reporter: bool,
    sees_sofias_houses: bool,
    sees_sdm_detail: bool,
) -> None:
    body = await view(system, reported_case, audience, user=user)
    assert "errors" not in body, body
    result = body["data"]["caseView"]
    harms = result["worries"]["harm"]
    if audience == "NETWORK":  # no harm statement unless the family opens it to their network (issue 14)
        assert harms == [] and "Alvarez" not in str(body)
    elif sees_reporter:
        [harm] = harms
        assert harm["whoReported"] == REPORTER and harm["redacted"] == []
    else:
        [harm] = harms
        assert harm["whoReported"] is None and "whoReported" in harm["redacted"]
        assert "Alvarez" not in str(body)
        assert harm["text"]  # the statement itself is still shown, without its reporter

    sofia, mateo = sorted(result["childVoice"], key=lambda r: r["restricted"])  # Sofia's shared one first
    agency = audience in ("STAFF", "SUPERVISOR")
    assert mateo["restricted"] is not agency  # Mateo shared his with nobody: only the agency reads it
    if not agency:
        assert (mateo["childName"], mateo["content"]) == (None, None)
        assert "the dark kitchen" not in str(body)
    if sees_sofias_houses:
        assert sofia["restricted"] is False and sofia["content"]["houses"]
    else:
        assert sofia["restricted"] is True and sofia["content"] is None
        assert "pancakes" not in str(body)

    # the decision itself is for everyone but the safety network (the policy table's sections: issue 14)
    assert result["sdm"]["safetyDecision"] == (None if audience == "NETWORK" else "CONDITIONALLY_SAFE")
    assert (result["sdm"]["detail"] is not None) is sees_sdm_detail

    [row] = [r for r in await system.audit_rows() if r.resource == "case_view"]
    assert row.audience == audience.lower()
    assert ("worries.whoReported" in row.fields) is sees_reporter
    assert ("childVoice.content" in row.fields) is (agency or sees_sofias_houses)
    assert ("sdm.detail" in row.fields) is sees_sdm_detail
