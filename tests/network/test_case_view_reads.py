"""The gateway's case-view slice (`GET /v1/cases/{case_id}/view`) read in a handful of statements: the same
answer as the reads it replaces — the decision (`decide_for`, `member_access_out`), the case (`read_case`) and
the safety network (`read_safety_network`), which the service's other routes still use — for a populated
fictional case and every audience (staff, the mother reading Spanish, a network member, a partner, a worker not
on the case), on SQLite and PostgreSQL; and what the read costs in statements."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from sqlalchemy import event

from sop_network.access.api import member_access_out
from sop_network.access.service import decide_for
from sop_network.cases.service import read_case
from sop_network.safety_network.service import read_safety_network
from sop_network.schemas import CaseViewSlice
from sop_shared.auth import Principal
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

MEMBERS_UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0300"  # the case of `members_case` (conftest)


WEEKEND = "Duermo en casa de Maria los viernes y sábados y llamo a la trabajadora si Maria ha bebido."


def partner_headers(tokens: InternalTokens, case_id: uuid.UUID) -> dict[str, str]:
    return tokens.headers(
        "network",
        subject="counselor.ames",
        actor_type=ActorType.partner,
        roles=(),
        scopes=("case:read",),
        agency="HOPE-COUNSELING",
        case_id=case_id,
    )


@pytest.fixture
async def populated(
    network: RunningService,
    members_case: uuid.UUID,
    people: dict[str, Any],
    sacwis: dict[str, str],
    tokens: InternalTokens,
    maria_and_the_children: dict[str, Any],
) -> dict[str, Any]:
    """The Lopez case with everything the slice shows: contacts (one a DV-confidential address), a network of two
    (Rosa with a login, a neighbour without), a meeting, commitments in every state with a verified translation,
    the family's sharing choice, and a partner's grant."""
    case_id, worker, client = members_case, people["worker"], network.client
    with_contacts = copy.deepcopy(maria_and_the_children)
    with_contacts["members"][0]["person"]["contact_methods"] = [
        {"kind": "phone", "value": "501-555-0142"},
        {"kind": "address", "value": "12 Elm St, Little Rock", "dv_confidential": True},
    ]
    assert (await client.put(MEMBERS_UPSERT, json=with_contacts, headers=sacwis)).status_code == 200
    base = f"/v1/cases/{case_id}"
    neighbour = await client.post(
        f"{base}/network/members",
        json={
            "person": {"first_name": "James", "last_name": "Carter", "preferred_language": "en"},
            "circle": "outer",
            "roles": ["school pick-up"],
            "availability": "weekdays",
        },
        headers=worker,
    )
    assert neighbour.status_code == 201, neighbour.text
    rosa_member = people["ids"]["rosa_member"]
    meeting = {
        "held_on": "2026-10-20",
        "attendee_member_ids": [rosa_member, neighbour.json()["id"]],
        "decisions": ["Rosa covers Tuesday nights too"],
        "next_meeting_on": "2026-11-03",
    }
    assert (await client.post(f"{base}/network/meetings", json=meeting, headers=worker)).status_code == 201
    recorded = await client.post(
        f"{base}/network/members/{neighbour.json()['id']}/commitments",
        json={"text": "Picks Sofia and Mateo up from school", "schedule": "weekdays 15:00"},
        headers=worker,
    )
    assert recorded.status_code == 201, recorded.text
    own = f"{base}/network/member-commitments"
    confirmed = (await client.post(own, json={"text": WEEKEND}, headers=people["rosa"])).json()
    decided = await client.post(
        f"{base}/network/commitments/{confirmed['id']}/decision",
        json={"decision": "confirmed", "share_reason": "Son las palabras de Rosa."},
        headers={**worker, "If-Match": '"1"'},
    )
    assert decided.status_code == 200, decided.text
    assert (
        await client.post(own, json={"text": "Llevo a Sofia al médico."}, headers=people["rosa"])
    ).status_code == 201
    english = await client.post(
        f"{base}/translations",
        json={
            "record_kind": "network_commitment",
            "record_id": confirmed["id"],
            "language": "en",
            "text": "I sleep at Maria's on Fridays and Saturdays.",
            "translated_by": "Lucía Gómez",
        },
        headers=worker,
    )
    assert english.status_code == 201, english.text
    supervisor = tokens.headers("network", subject="sup.okafor", roles=("supervisor",), case_id=case_id)
    verified = await client.post(
        f"{base}/translations/{english.json()['id']}/verify",
        json={"qualification": "certified_translator"},
        headers=supervisor,
    )
    assert verified.status_code == 200, verified.text
    sharing = await client.put(
        f"{base}/network/sharing", json={"sections": ["every_rater"]}, headers={**people["maria"], "If-Match": '"0"'}
    )
    assert sharing.status_code == 200, sharing.text
    grant = await client.post(
        f"{base}/grants",
        json={
            "agency": "HOPE-COUNSELING",
            "scopes": ["case:read"],
            "audience": "partner",
            "purpose": "family counseling referral",
            "consent_reference": "CONSENT-2026-77",
            "expires_at": "2030-01-01T00:00:00Z",
        },
        headers=worker,
    )
    assert grant.status_code == 201, grant.text
    outsider = tokens.headers("network", subject="fsw.nobody", case_id=case_id)
    return {
        "case_id": case_id,
        "audiences": {
            "staff": worker,
            "supervisor": supervisor,
            "family (es)": people["maria"],
            "network": people["rosa"],
            "partner": partner_headers(tokens, case_id),
            "not on the case": outsider,
        },
    }


async def reference_slice(network: RunningService, headers: dict[str, str]) -> Any:
    """The slice as the reads the view replaced compose it, on the service's own database and clock."""
    principal: Principal = network.app.state.token_verifier.verify(headers["Authorization"].removeprefix("Bearer "))
    case_id = principal.case_id
    assert case_id is not None
    async with network.app.state.database.session() as session:
        decision = await decide_for(session, principal, case_id, network.app.state.clock.now())
        case = await read_case(session, case_id, decision.audiences) if decision.allowed else None
        safety_network = (
            await read_safety_network(session, case_id, decision.audiences, decision.person_id) if case else None
        )
        access = await member_access_out(session, case_id, principal, decision)
        return CaseViewSlice(access=access, case=case, safety_network=safety_network).model_dump(mode="json")


@pytest.mark.sqlite_smoke
async def test_the_slice_answers_as_the_reads_it_replaced_for_every_audience(
    network: RunningService, populated: dict[str, Any], tokens: InternalTokens
) -> None:
    case_id = populated["case_id"]
    for audience, headers in populated["audiences"].items():
        read = await network.client.get(f"/v1/cases/{case_id}/view", headers=headers)
        assert read.status_code == 200, (audience, read.text)
        assert read.json() == await reference_slice(network, headers), audience
    staff = (await network.client.get(f"/v1/cases/{case_id}/view", headers=populated["audiences"]["staff"])).json()
    family = (
        await network.client.get(f"/v1/cases/{case_id}/view", headers=populated["audiences"]["family (es)"])
    ).json()
    # the populated case shows what the comparison is about (else an empty answer would pass)
    assert len(staff["case"]["members"]) == 3 and len(staff["safety_network"]["members"]) == 2
    assert len(staff["safety_network"]["commitments"]) == 3 and staff["safety_network"]["meetings"]
    maria = next(m for m in staff["case"]["members"] if m["person"]["first_name"] == "Maria")
    assert len(maria["person"]["contact_methods"]) == 2
    assert family["access"]["language"] == "es" and len(family["safety_network"]["commitments"]) == 2
    assert any(c["translations"] for c in family["safety_network"]["commitments"])
    assert not (
        await network.client.get(f"/v1/cases/{case_id}/view", headers=populated["audiences"]["not on the case"])
    ).json()["case"]


@pytest.mark.sqlite_smoke
async def test_a_caseload_pages_slices_and_the_slice_by_external_id_answer_as_the_slice(
    network: RunningService, populated: dict[str, Any]
) -> None:
    """`POST /v1/case-views` gives each case the slice (its access without the member's language), a missing
    case denied; `GET /v1/case-views/by-external/…` the slice itself."""
    case_id = populated["case_id"]
    missing = uuid.uuid4()
    for audience, headers in populated["audiences"].items():
        view = (await network.client.get(f"/v1/cases/{case_id}/view", headers=headers)).json()
        page = await network.client.post(
            "/v1/case-views", json={"case_ids": [str(missing), str(case_id)]}, headers=headers
        )
        assert page.status_code == 200, (audience, page.text)
        denied, item = page.json()["items"]
        assert item == {**view, "access": {**view["access"], "language": None}}, audience
        assert (denied["access"]["allowed"], denied["case"], denied["safety_network"]) == (False, None, None)
        by_external = await network.client.get(
            f"/v1/case-views/by-external/{MEMBERS_UPSERT.rsplit('/', 2)[1]}/{MEMBERS_UPSERT.rsplit('/', 1)[1]}",
            headers=headers,
        )
        if view["case"] is None:
            assert by_external.status_code == 404, audience
        else:
            assert by_external.json() == view, audience


async def test_the_slice_costs_a_handful_of_statements(
    network: RunningService, populated: dict[str, Any], tokens: InternalTokens
) -> None:
    engine = network.app.state.database.engine.sync_engine
    case_id = populated["case_id"]

    async def statements(headers: dict[str, str]) -> list[str]:
        seen: list[str] = []

        def count(*args: Any) -> None:
            if "outbox_event" not in str(args[2]):  # the outbox relay works beside the request
                seen.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert (await network.client.get(f"/v1/cases/{case_id}/view", headers=headers)).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return seen

    for audience in ("staff", "family (es)", "network", "partner"):
        seen = await statements(populated["audiences"][audience])
        audit = [s for s in seen if "audit" in s]
        # the audit record: on PostgreSQL the head advanced and the row inserted by one statement in a transaction
        # of its own (the service wrote the head last); SQLite: three statements
        assert len(audit) == (1 if network.app.state.database.dialect == "postgresql" else 3), (audience, audit)
        assert len(seen) - len(audit) <= 1, (audience, seen)
