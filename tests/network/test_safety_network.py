"""The safety network: members with circle, roles, commitments and checks; every change a new revision;
meetings; network members log in to their own case — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sop_shared.clock import FixedClock
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0200"


@pytest.fixture
async def case_id(network: RunningService, sacwis: dict[str, str], maria_and_the_children: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID((await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"])


def rosa(**changes: Any) -> dict[str, Any]:
    return {
        "person": {
            "first_name": "Rosa",
            "last_name": "Delgado",
            "date_of_birth": "1965-01-30",
            "preferred_language": "es",
        },
        "circle": "inner",
        "roles": ["after-school care", "safety person at night"],
        "availability": "weekdays after 14:00",
        "background_check": "cleared",
        "background_checked_on": "2026-10-10",
        "agreed_plan_version": 1,
        "active_from": "2026-10-12",
        "seen_danger_statements_on": "2026-10-11",
        **changes,
    }


@pytest.mark.sqlite_smoke
async def test_a_grandmother_joins_the_network_and_every_change_is_a_new_revision(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    worker = tokens.headers("network", case_id=case_id)
    created = await network.client.post(f"/v1/cases/{case_id}/network/members", json=rosa(), headers=worker)
    assert created.status_code == 201, created.text
    member = created.json()
    assert member["person"]["first_name"] == "Rosa" and member["version"] == 1
    update = {k: v for k, v in rosa().items() if k != "person"}
    update["roles"].append("Sunday dinner check-in")
    url = f"/v1/cases/{case_id}/network/members/{member['id']}"
    assert (await network.client.put(url, json=update, headers=worker)).status_code == 428
    assert (await network.client.put(url, json=update, headers={**worker, "If-Match": '"7"'})).status_code == 412
    revised = await network.client.put(url, json=update, headers={**worker, "If-Match": '"1"'})
    assert revised.status_code == 200 and revised.json()["version"] == 2
    history = (await network.client.get(f"{url}/history", headers=worker)).json()
    assert [h["version"] for h in history] == [1, 2]
    assert len(history[0]["snapshot"]["roles"]) == 2 and len(history[1]["snapshot"]["roles"]) == 3
    view = (await network.client.get(f"/v1/cases/{case_id}/view", headers=worker)).json()
    assert [m["person"]["first_name"] for m in view["safety_network"]["members"]] == ["Rosa"]


async def test_a_network_member_with_a_login_reads_the_case_while_active(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
    bind_login: Any,
) -> None:
    worker = tokens.headers("network", case_id=case_id)
    member = (
        await network.client.post(
            f"/v1/cases/{case_id}/network/members",
            json=rosa(active_from="2026-01-01", active_to="2026-12-31"),
            headers=worker,
        )
    ).json()
    redeemed = await bind_login(case_id, member["person"]["id"], "network:rosa.delgado", actor_type=ActorType.network)
    assert redeemed.status_code == 200, redeemed.text
    rosa_login = tokens.headers(
        "network",
        subject="network:rosa.delgado",
        actor_type=ActorType.network,
        roles=(),
        scopes=("case:read",),
        agency=None,
        case_id=case_id,
    )
    from datetime import UTC, datetime

    network.app.state.clock = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
    access = (await network.client.get(f"/v1/cases/{case_id}/access", headers=rosa_login)).json()
    assert access["allowed"] and access["relationships"] == ["network_member"]
    network.app.state.clock = FixedClock(datetime(2027, 1, 1, tzinfo=UTC))
    assert not (await network.client.get(f"/v1/cases/{case_id}/access", headers=rosa_login)).json()["allowed"]


async def test_a_network_meeting_records_attendees_decisions_and_the_next_meeting(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    worker = tokens.headers("network", case_id=case_id)
    member = (await network.client.post(f"/v1/cases/{case_id}/network/members", json=rosa(), headers=worker)).json()
    meeting = {
        "held_on": "2026-10-20",
        "attendee_member_ids": [member["id"]],
        "decisions": ["Rosa covers Tuesday nights too"],
        "next_meeting_on": "2026-11-03",
    }
    created = await network.client.post(f"/v1/cases/{case_id}/network/meetings", json=meeting, headers=worker)
    assert created.status_code == 201, created.text
    network_view = (await network.client.get(f"/v1/cases/{case_id}/network", headers=worker)).json()
    assert network_view["meetings"][0]["decisions"] == ["Rosa covers Tuesday nights too"]


async def test_bad_network_input_is_422_naming_each_field_and_nothing_is_written(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
    row_counts: Any,
) -> None:
    worker = tokens.headers("network", case_id=case_id)
    before = await row_counts(network.database_url)
    bad = rosa(circle="galaxy", active_from="2026-10-12", active_to="2026-10-01")
    response = await network.client.post(f"/v1/cases/{case_id}/network/members", json=bad, headers=worker)
    assert response.status_code == 422 and {"circle"} <= {e["field"] for e in response.json()["errors"]}
    rule = rosa(active_from="2026-10-12", active_to="2026-10-01", background_checked_on=None)
    response = await network.client.post(f"/v1/cases/{case_id}/network/members", json=rule, headers=worker)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"active_to", "background_checked_on"}
    meeting = {"held_on": "2026-10-20", "attendee_member_ids": [], "next_meeting_on": "2026-10-01"}
    response = await network.client.post(f"/v1/cases/{case_id}/network/meetings", json=meeting, headers=worker)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "next_meeting_on"
    after = await row_counts(network.database_url)
    assert after == before


async def test_a_worker_not_on_the_case_cannot_touch_its_network(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    stranger = tokens.headers("network", subject="fsw.lindqvist", case_id=case_id)
    assert (
        await network.client.post(f"/v1/cases/{case_id}/network/members", json=rosa(), headers=stranger)
    ).status_code == 404
    family = tokens.headers(
        "network",
        subject="family:x",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        agency=None,
        case_id=case_id,
    )
    assert (await network.client.get(f"/v1/cases/{case_id}/network", headers=family)).status_code == 404


PICKS_UP = {"text": "Picks Sofia and Mateo up from school and stays until Maria is home", "schedule": "weekdays 15:00"}


async def test_commitments_are_recorded_with_a_member_not_on_the_member(
    network: RunningService, case_id: uuid.UUID, tokens: InternalTokens, row_counts: Any
) -> None:
    """A commitment is one record (`network_commitment`), whoever wrote it: the member's own fields no longer
    carry commitments (422 naming the field, nothing written)."""
    worker = tokens.headers("network", case_id=case_id)
    before = await row_counts(network.database_url)
    refused = await network.client.post(
        f"/v1/cases/{case_id}/network/members", json=rosa(commitments=[PICKS_UP]), headers=worker
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "commitments"
    assert await row_counts(network.database_url) == before


async def test_what_the_worker_records_with_a_member_is_confirmed_in_the_same_act_and_checked(
    network: RunningService, case_id: uuid.UUID, tokens: InternalTokens, row_counts: Any
) -> None:
    """The worker records a commitment with a member: confirmed by that worker in the same act (shared at once),
    so words the plain-language check has findings on need `share_reason` (422, nothing written); the findings
    are the agency's."""
    worker = tokens.headers("network", case_id=case_id)
    member = (await network.client.post(f"/v1/cases/{case_id}/network/members", json=rosa(), headers=worker)).json()
    url = f"/v1/cases/{case_id}/network/members/{member['id']}/commitments"
    recorded = await network.client.post(url, json=PICKS_UP, headers=worker)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert (body["status"], body["origin"], body["sharing"], body["language"]) == (
        "confirmed",
        "worker",
        "shared",
        "en",
    )
    assert body["decided_by"] == "fsw.rivera" and body["person_id"] == member["person"]["id"]
    jargon = {"text": "Rosa drives Maria to her IOP and her UA every week"}
    before = await row_counts(network.database_url)
    refused = await network.client.post(url, json=jargon, headers=worker)
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["share_reason"]
    assert await row_counts(network.database_url) == before
    kept = await network.client.post(
        url, json={**jargon, "share_reason": "Maria asked for these words."}, headers=worker
    )
    assert kept.status_code == 201, kept.text
    assert "jargon" in {f["code"] for f in kept.json()["plain_language"]["findings"]}
    other_case = f"/v1/cases/{case_id}/network/members/{uuid.uuid4()}/commitments"
    assert (await network.client.post(other_case, json=PICKS_UP, headers=worker)).status_code == 404
    network_view = (await network.client.get(f"/v1/cases/{case_id}/network", headers=worker)).json()
    listed = network_view["members"][0]["commitments"]
    assert [c["text"] for c in listed] == [PICKS_UP["text"], jargon["text"]]
    assert [c["id"] for c in network_view["commitments"]] == [c["id"] for c in listed]


async def test_a_family_member_reads_the_recorded_commitments_without_the_agencys_findings(
    network: RunningService, members_case: uuid.UUID, people: dict[str, dict[str, str]]
) -> None:
    url = f"/v1/cases/{members_case}/network/members/{people['ids']['rosa_member']}/commitments"
    recorded = await network.client.post(
        url, json={"text": "Rosa drives Maria to her IOP", "share_reason": "Maria's words."}, headers=people["worker"]
    )
    assert recorded.status_code == 201, recorded.text
    shown = await network.client.get(f"/v1/cases/{members_case}/network", headers=people["maria"])
    assert shown.status_code == 200, shown.text
    [seen] = [c for m in shown.json()["members"] for c in m["commitments"]]
    assert seen["text"] == "Rosa drives Maria to her IOP"
    assert seen["plain_language"] is None and seen["share_reason"] is None and seen["decided_by"] is None
    staff = await network.client.get(f"/v1/cases/{members_case}/network", headers=people["worker"])
    [agency] = [c for m in staff.json()["members"] for c in m["commitments"]]
    assert agency["plain_language"]["findings"] and agency["share_reason"] == "Maria's words."
