"""The case boundary in the network service: a person, member or login of one family is never reachable
through another family's case — another case's id is refused exactly as a random one is (issue 10, finding
1) — on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sop_shared.clock import FixedClock
from sop_shared.ids import new_id
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

THE_LOPEZ_CASE = "/v1/cases/by-external/CHRIS/C-2026-0300"
THE_BAKER_CASE = "/v1/cases/by-external/CHRIS/C-2026-0301"


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in {"request_id", "instance"}}


@pytest.fixture
async def two_families(
    network: RunningService, sacwis: dict[str, str], maria_and_the_children: dict[str, Any]
) -> dict[str, Any]:
    """The Lopez family (case A) and the Baker family (case B), both on Ms. Rivera's caseload."""
    baker = copy.deepcopy(maria_and_the_children)
    for i, member in enumerate(baker["members"]):
        member["person"].update(external_id=f"P-2{i:03}", last_name="Baker")
    baker["members"][0]["person"]["first_name"] = "Dana"
    lopez = (await network.client.put(THE_LOPEZ_CASE, json=maria_and_the_children, headers=sacwis)).json()
    other = (await network.client.put(THE_BAKER_CASE, json=baker, headers=sacwis)).json()
    return {
        "a": uuid.UUID(lopez["id"]),
        "b": uuid.UUID(other["id"]),
        "maria": next(m["person"]["id"] for m in lopez["members"] if m["person"]["first_name"] == "Maria"),
        "dana": next(m["person"]["id"] for m in other["members"] if m["person"]["first_name"] == "Dana"),
    }


def new_member(**changes: Any) -> dict[str, Any]:
    return {"circle": "inner", "roles": ["safety person"], **changes}


async def test_another_familys_person_cannot_be_added_to_a_safety_network(
    network: RunningService,
    tokens: InternalTokens,
    two_families: dict[str, Any],
) -> None:
    case_b = two_families["b"]
    worker = tokens.headers("network", case_id=case_b)
    url = f"/v1/cases/{case_b}/network/members"
    foreign = await network.client.post(url, json=new_member(person_id=two_families["maria"]), headers=worker)
    random = await network.client.post(url, json=new_member(person_id=str(new_id())), headers=worker)
    assert foreign.status_code == random.status_code == 422
    assert without_request_id(foreign.json()) == without_request_id(random.json())
    assert foreign.json()["errors"] == [{"field": "person_id", "message": "no such person in this case"}]
    assert "Maria" not in foreign.text
    network_b = (await network.client.get(f"/v1/cases/{case_b}/network", headers=worker)).json()
    assert network_b["members"] == []
    # the family's own people may join their network
    own = await network.client.post(url, json=new_member(person_id=two_families["dana"]), headers=worker)
    assert own.status_code == 201, own.text


async def test_a_meeting_cannot_name_another_familys_network_members(
    network: RunningService,
    tokens: InternalTokens,
    two_families: dict[str, Any],
) -> None:
    case_a, case_b = two_families["a"], two_families["b"]
    worker_a = tokens.headers("network", case_id=case_a)
    maria_member = (
        await network.client.post(
            f"/v1/cases/{case_a}/network/members", json=new_member(person_id=two_families["maria"]), headers=worker_a
        )
    ).json()
    worker_b = tokens.headers("network", case_id=case_b)
    meeting = {"held_on": "2026-11-20", "decisions": ["Review the plan"]}
    url = f"/v1/cases/{case_b}/network/meetings"
    foreign = await network.client.post(
        url, json={**meeting, "attendee_member_ids": [maria_member["id"]]}, headers=worker_b
    )
    random = await network.client.post(url, json={**meeting, "attendee_member_ids": [str(new_id())]}, headers=worker_b)
    assert foreign.status_code == random.status_code == 422, foreign.text
    assert without_request_id(foreign.json()) == without_request_id(random.json())
    assert foreign.json()["errors"][0]["field"] == "attendee_member_ids.0"


async def test_a_worker_cannot_bind_anyone_to_a_login_of_her_choosing(
    network: RunningService,
    tokens: InternalTokens,
    two_families: dict[str, Any],
) -> None:
    case_a = two_families["a"]
    worker = tokens.headers("network", case_id=case_a)
    rebind = await network.client.put(
        f"/v1/cases/{case_a}/people/{two_families['maria']}/principal",
        json={"principal_subject": "family:someone.else"},
        headers=worker,
    )
    assert rebind.status_code == 422 and rebind.json()["errors"][0]["field"] == "principal_subject"
    new_person = new_member(
        person={"first_name": "Rosa", "last_name": "Delgado", "principal_subject": "network:someone.else"}
    )
    created = await network.client.post(f"/v1/cases/{case_a}/network/members", json=new_person, headers=worker)
    assert created.status_code == 422 and created.json()["errors"][0]["field"] == "person.principal_subject"


async def test_the_invited_person_binds_her_own_login_once_and_the_worker_can_end_it(
    network: RunningService,
    tokens: InternalTokens,
    two_families: dict[str, Any],
) -> None:
    case_a, maria = two_families["a"], two_families["maria"]
    worker = tokens.headers("network", case_id=case_a)
    invited = await network.client.post(f"/v1/cases/{case_a}/people/{maria}/login-invitations", json={}, headers=worker)
    assert invited.status_code == 201 and len(invited.json()["code"]) >= 16
    code = invited.json()["code"]
    as_staff = await network.client.post(
        "/v1/login-invitations/redeem", json={"code": code}, headers=tokens.headers("network")
    )
    assert as_staff.status_code == 404  # a worker cannot redeem it for herself
    maria_login = tokens.headers(
        "network",
        subject="family:maria.lopez",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        agency=None,
    )
    redeemed = await network.client.post("/v1/login-invitations/redeem", json={"code": code}, headers=maria_login)
    assert redeemed.status_code == 200 and redeemed.json() == {"case_id": str(case_a), "person_id": maria}
    again = await network.client.post(
        "/v1/login-invitations/redeem",
        json={"code": code},
        headers=tokens.headers(
            "network",
            subject="family:intruder",
            actor_type=ActorType.family,
            roles=(),
            scopes=("case:read",),
            agency=None,
        ),
    )
    assert again.status_code == 404
    access = (
        await network.client.get(
            f"/v1/cases/{case_a}/access",
            headers={
                **maria_login,
                **tokens.headers(
                    "network",
                    subject="family:maria.lopez",
                    actor_type=ActorType.family,
                    roles=(),
                    scopes=("case:read",),
                    agency=None,
                    case_id=case_a,
                ),
            },
        )
    ).json()
    assert access["allowed"]
    # a second invitation needs the login ended first, on the record
    assert (
        await network.client.post(f"/v1/cases/{case_a}/people/{maria}/login-invitations", json={}, headers=worker)
    ).status_code == 422
    ended = await network.client.put(
        f"/v1/cases/{case_a}/people/{maria}/principal", json={"principal_subject": None}, headers=worker
    )
    assert ended.status_code == 200 and ended.json()["principal_subject"] is None


async def test_an_expired_invitation_answers_like_an_unknown_code(
    network: RunningService,
    tokens: InternalTokens,
    two_families: dict[str, Any],
) -> None:
    case_a, maria = two_families["a"], two_families["maria"]
    network.app.state.clock = FixedClock(datetime.now(UTC) - timedelta(days=8))
    invited = await network.client.post(
        f"/v1/cases/{case_a}/people/{maria}/login-invitations",
        json={},
        headers=tokens.headers("network", case_id=case_a),
    )
    network.app.state.clock = FixedClock(datetime.now(UTC))
    maria_login = tokens.headers(
        "network",
        subject="family:maria.lopez",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        agency=None,
    )
    expired = await network.client.post(
        "/v1/login-invitations/redeem", json={"code": invited.json()["code"]}, headers=maria_login
    )
    unknown = await network.client.post("/v1/login-invitations/redeem", json={"code": "y" * 32}, headers=maria_login)
    assert expired.status_code == unknown.status_code == 404
    assert without_request_id(expired.json()) == without_request_id(unknown.json())


async def test_another_familys_person_cannot_be_invited_from_a_case(
    network: RunningService,
    tokens: InternalTokens,
    two_families: dict[str, Any],
) -> None:
    case_b = two_families["b"]
    worker_b = tokens.headers("network", case_id=case_b)
    foreign = await network.client.post(
        f"/v1/cases/{case_b}/people/{two_families['maria']}/login-invitations", json={}, headers=worker_b
    )
    random = await network.client.post(
        f"/v1/cases/{case_b}/people/{new_id()}/login-invitations", json={}, headers=worker_b
    )
    assert foreign.status_code == random.status_code == 404
    assert without_request_id(foreign.json()) == without_request_id(random.json())


async def test_a_request_with_case_references_verifies_its_token_once(
    network: RunningService,
    tokens: InternalTokens,
    two_families: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case-reference check and the endpoint share one verified principal (issue 10 follow-up)."""
    verifier = network.app.state.token_verifier
    real_verify = verifier.verify
    verified: list[str] = []

    def counting_verify(token: str) -> Any:
        verified.append(token)
        return real_verify(token)

    monkeypatch.setattr(verifier, "verify", counting_verify)
    case_b = two_families["b"]
    own = await network.client.post(
        f"/v1/cases/{case_b}/network/members",
        json=new_member(person_id=two_families["dana"]),
        headers=tokens.headers("network", case_id=case_b),
    )
    assert own.status_code == 201, own.text
    assert len(verified) == 1
