"""Only a commitment the worker confirmed enters a plan: a plan rule may carry a safety-network member's own
commitment (`commitment_id`), which plans knows only from the network's `network_commitment.confirmed` event —
a proposal, a declined one, a withdrawn one, another case's or a random id is 422 naming the rule's field — on
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sop_shared.db import utcnow
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.testing import RunningService


async def announce(plans: RunningService, case_id: uuid.UUID, commitment_id: uuid.UUID, what: str) -> None:
    """What the network service announces when Rosa proposes a commitment and when the worker decides it."""
    await plans.bus.publish(
        Event(
            id=new_id(),
            subject=f"sop.network.network_commitment.{what}",
            occurred_at=utcnow(),
            case_id=case_id,
            data={"case_id": str(case_id), "commitment_id": str(commitment_id), "status": what},
        )
    )


def with_commitment(plan: dict[str, Any], commitment_id: uuid.UUID) -> dict[str, Any]:
    plan["rules"][0]["commitment_id"] = str(commitment_id)
    return plan


@pytest.mark.sqlite_smoke
async def test_a_rule_carries_only_a_confirmed_commitment(
    plans: RunningService, case_id: uuid.UUID, worker: dict[str, str], lopez_ongoing_plan: dict[str, Any]
) -> None:
    url = f"/v1/cases/{case_id}/safety-plans"
    commitment_id = new_id()
    await announce(plans, case_id, commitment_id, "proposed")
    proposal = await plans.client.post(url, json=with_commitment(lopez_ongoing_plan, commitment_id), headers=worker)
    assert proposal.status_code == 422, proposal.text
    assert [e["field"] for e in proposal.json()["errors"]] == ["rules.0.commitment_id"]
    assert (await plans.client.get(url, headers=worker)).json()["items"] == []

    await announce(plans, case_id, commitment_id, "confirmed")
    created = await plans.client.post(url, json=with_commitment(lopez_ongoing_plan, commitment_id), headers=worker)
    assert created.status_code == 201, created.text
    rules = created.json()["rules"]
    assert rules[0]["commitment_id"] == str(commitment_id) and "commitment_id" not in rules[1]


@pytest.mark.sqlite_smoke
@pytest.mark.parametrize("order", [("confirmed", "withdrawn"), ("withdrawn", "confirmed")], ids=["in-order", "late"])
async def test_a_withdrawn_commitment_enters_no_new_plan_whichever_event_arrives_first(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
    order: tuple[str, str],
) -> None:
    url = f"/v1/cases/{case_id}/safety-plans"
    commitment_id = new_id()
    for what in order:  # the two events are applied by two consumers: either may come first
        await announce(plans, case_id, commitment_id, what)
    refused = await plans.client.post(url, json=with_commitment(lopez_ongoing_plan, commitment_id), headers=worker)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "rules.0.commitment_id", "message": "no such confirmed commitment in this case"}
    ]
    assert (await plans.client.get(url, headers=worker)).json()["items"] == []


async def test_another_cases_confirmed_commitment_is_refused_like_a_random_one(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
    lopez_records_in: Any,
) -> None:
    other_case, theirs = new_id(), new_id()
    await lopez_records_in(other_case)
    await announce(plans, other_case, theirs, "confirmed")
    url = f"/v1/cases/{case_id}/safety-plans"
    for commitment_id in (theirs, uuid.uuid4()):
        refused = await plans.client.post(url, json=with_commitment(lopez_ongoing_plan, commitment_id), headers=worker)
        assert refused.status_code == 422
        assert refused.json()["errors"] == [
            {"field": "rules.0.commitment_id", "message": "no such confirmed commitment in this case"}
        ]


async def test_a_rule_without_a_commitment_is_stored_and_hashed_as_before(
    plans: RunningService, case_id: uuid.UUID, worker: dict[str, str], lopez_ongoing_plan: dict[str, Any]
) -> None:
    from sop_plans.safety_plans.rules import content_hash

    created = await plans.client.post(f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan, headers=worker)
    assert created.status_code == 201, created.text
    plan = created.json()
    versions = await plans.client.get(f"/v1/safety-plans/{plan['id']}/versions/1", headers=worker)
    content = versions.json()["content"]
    assert all("commitment_id" not in rule for rule in content["rules"])
    # What is shown is what is hashed: the key is absent, as in every version stored before commitments.
    assert content_hash(content) == plan["content_hash"]


async def test_the_network_reads_a_whole_version_only_when_the_family_opened_every_rule(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
    tokens: Any,
) -> None:
    from sop_shared.policy import NetworkSharing, Section

    created = await plans.client.post(f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan, headers=worker)
    plan_id = created.json()["id"]
    as_network = {**worker, "X-SOP-Audience": "network"}
    for path in (f"/v1/safety-plans/{plan_id}/versions", f"/v1/safety-plans/{plan_id}/versions/1"):
        assert (await plans.client.get(path, headers=worker)).status_code == 200
        assert (await plans.client.get(path, headers=as_network)).status_code == 404
    opened = NetworkSharing(sections=frozenset({Section.every_rule}))
    with_choice = tokens.headers("plans", tokens.principal(case_id=case_id).scoped_to(case_id, network_sharing=opened))
    shown = await plans.client.get(
        f"/v1/safety-plans/{plan_id}/versions/1", headers={**with_choice, "X-SOP-Audience": "network"}
    )
    assert shown.status_code == 200 and len(shown.json()["content"]["rules"]) == 2
