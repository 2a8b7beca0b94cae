"""Coaching in the practice service (issue 15, part 3), on SQLite and PostgreSQL: a supervisor or a worker refers,
the training coordinator routes the referral to a coach's queue, the coach records sessions rated against the
practice profile and sets goals, and closes it; who/when/why kept for every move, stale writes refused, and a coach
seeing the consultation snapshot only as the policy table allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from practice_steps import COORDINATOR, person, register, staff, team

from sop_shared.testing import InternalTokens, RunningService

# Fictional: what a worker brings to coaching from a consultation.
SNAPSHOT = {
    "question": "Is the safety plan enough while Dad is at home?",
    "danger_statement": "We are worried that the children could be hurt when the adults fight.",
    "case_id": "0190a1b2-0000-7000-8000-000000000001",
    "family": [{"name": "Ana Fictional", "role": "mother", "date_of_birth": "1990-01-01"}],
}
DEIDENTIFIED = {
    "question": SNAPSHOT["question"],
    "danger_statement": SNAPSHOT["danger_statement"],
    "family": [{"role": "mother"}],
}
YESTERDAY = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def tran(tokens: InternalTokens) -> dict[str, str]:
    return staff(tokens, "coach.tran", "coach")


def okafor(tokens: InternalTokens) -> dict[str, str]:
    return staff(tokens, "sup.okafor", "supervisor")


def rivera(tokens: InternalTokens) -> dict[str, str]:
    return staff(tokens, "fsw.rivera", "worker")


async def refer(practice: RunningService, tokens: InternalTokens, **body: Any) -> dict[str, Any]:
    payload = {"worker_subject": "fsw.rivera", "topic": "Danger statements", "reason": "Asked in consultation", **body}
    answer = await practice.client.post("/v1/coaching-referrals", json=payload, headers=okafor(tokens))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def move(
    practice: RunningService, headers: dict[str, str], referral: dict[str, Any], step: str, **body: Any
) -> dict[str, Any]:
    answer = await practice.client.post(
        f"/v1/coaching-referrals/{referral['id']}/{step}",
        json=body,
        headers={**headers, "If-Match": f'"{referral["version"]}"'},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.sqlite_smoke
async def test_a_referral_goes_through_the_coordinator_to_a_coach_and_on_to_a_session(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    await register(practice, tokens, person("coach.diaz", "coach", unit=None))
    referral = await refer(practice, tokens, consultation_snapshot=SNAPSHOT)
    assert referral["status"] == "referred" and referral["source"] == "supervisor"
    assert referral["consultation_snapshot"] == SNAPSHOT  # the supervisor who brought it sees it whole

    # The coordinator's queue: waiting to be routed, the snapshot without identifying details.
    waiting = (await practice.client.get("/v1/coaching-queue", headers=staff(tokens, *COORDINATOR))).json()
    assert [i["id"] for i in waiting["items"]] == [referral["id"]]
    assert waiting["items"][0]["consultation_snapshot"] == DEIDENTIFIED

    # Routing: only the coordinator, only to a coach, only from the version read.
    url = f"/v1/coaching-referrals/{referral['id']}"
    assign = {"coach_subject": "coach.tran"}
    refused = await practice.client.post(f"{url}/assign", json=assign, headers={**okafor(tokens), "If-Match": '"1"'})
    assert refused.status_code == 403
    not_a_coach = await practice.client.post(
        f"{url}/assign",
        json={"coach_subject": "fsw.lindqvist"},
        headers={**staff(tokens, *COORDINATOR), "If-Match": '"1"'},
    )
    assert not_a_coach.status_code == 422 and not_a_coach.json()["errors"][0]["field"] == "coach_subject"
    referral = await move(practice, staff(tokens, *COORDINATOR), referral, "assign", **assign)
    assert referral["status"] == "assigned" and referral["coach_subject"] == "coach.tran"
    stale = await practice.client.post(
        f"{url}/assign",
        json={"coach_subject": "coach.diaz", "why": "caseload"},
        headers={**staff(tokens, *COORDINATOR), "If-Match": '"1"'},
    )
    assert stale.status_code == 412 and stale.json()["current_version"] == 2

    # The coach's queue: hers only, the snapshot de-identified; another coach's queue is empty.
    queue = (await practice.client.get("/v1/coaching-queue", headers=tran(tokens))).json()["items"]
    assert [(i["id"], i["status"]) for i in queue] == [(referral["id"], "assigned")]
    assert queue[0]["consultation_snapshot"] == DEIDENTIFIED
    assert (await practice.client.get("/v1/coaching-queue", headers=staff(tokens, "coach.diaz", "coach"))).json()[
        "items"
    ] == []
    assert (await practice.client.get("/v1/coaching-queue", headers=rivera(tokens))).status_code == 403
    coach_read = await practice.client.get(url, headers=tran(tokens))
    assert coach_read.status_code == 200 and coach_read.json()["consultation_snapshot"] == DEIDENTIFIED
    for outsider in (staff(tokens, "coach.diaz", "coach"), staff(tokens, "fsw.lindqvist", "worker")):
        assert (await practice.client.get(url, headers=outsider)).status_code == 404

    # The worker's supervisor allows the identifying details for this consultation: the coach sees them.
    denied = await practice.client.post(
        f"{url}/identifying-details", json={"allowed": True, "why": "x"}, headers={**tran(tokens), "If-Match": '"2"'}
    )
    assert denied.status_code == 403
    referral = await move(practice, okafor(tokens), referral, "identifying-details", allowed=True, why="Needed to help")
    assert (await practice.client.get(url, headers=tran(tokens))).json()["consultation_snapshot"] == SNAPSHOT

    # A session: behaviours rated against the profile; a wrong rating names its field, nothing written.
    session_url = f"{url}/sessions"
    wrong = await practice.client.post(
        session_url,
        json={
            "kind": "observation_mapping_meeting",
            "held_on": YESTERDAY,
            "ratings": [{"behaviour": "S1", "rating": 9}],
        },
        headers=tran(tokens),
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "ratings.0.rating"
    assert (await practice.client.get(session_url, headers=tran(tokens))).json() == []
    held = await practice.client.post(
        session_url,
        json={
            "kind": "observation_mapping_meeting",
            "held_on": YESTERDAY,
            "notes": "Observed the mapping with the family and two network members.",
            "ratings": [
                {"behaviour": "S1", "rating": 2, "note": "Said who is worried, not about what"},
                {"behaviour": "M3", "rating": 3},
            ],
        },
        headers=tran(tokens),
    )
    assert held.status_code == 201, held.text
    assert held.json()["profile_version"] == "1"
    assert {(r["behaviour"], r["label"]) for r in held.json()["ratings"]} == {("S1", "emerging"), ("M3", "proficient")}
    assert (
        await practice.client.post(session_url, json={"kind": "feedback", "held_on": YESTERDAY}, headers=okafor(tokens))
    ).status_code == 403

    # A goal and its follow-up (If-Match).
    goal = await practice.client.post(
        f"{url}/goals",
        json={
            "text": "Write the danger statement with what could happen to the children",
            "behaviour": "S1",
            "session_id": held.json()["id"],
            "follow_up_on": (datetime.now(UTC).date() + timedelta(days=14)).isoformat(),
        },
        headers=tran(tokens),
    )
    assert goal.status_code == 201, goal.text
    queue = (await practice.client.get("/v1/coaching-queue", headers=tran(tokens))).json()["items"]
    assert (queue[0]["status"], queue[0]["sessions"], queue[0]["open_goals"]) == ("in_coaching", 1, 1)
    follow_url = f"/v1/coaching-goals/{goal.json()['id']}/follow-up"
    met = await practice.client.post(
        follow_url,
        json={"status": "met", "note": "Statements now say what could happen"},
        headers={**tran(tokens), "If-Match": '"1"'},
    )
    assert met.status_code == 200 and met.json()["status"] == "met"
    again = await practice.client.post(
        follow_url, json={"status": "not_met", "note": "x"}, headers={**tran(tokens), "If-Match": '"1"'}
    )
    assert again.status_code == 412

    # Closed by the coach; the history says who moved it, when and why.
    referral = (await practice.client.get(url, headers=rivera(tokens))).json()
    assert referral["consultation_snapshot"] == SNAPSHOT  # the worker who brought it
    closed = await move(practice, tran(tokens), referral, "close", outcome="completed", why="Goal met")
    assert closed["status"] == "closed" and closed["outcome"] == "completed"
    assert [(h["action"], h["to_status"], h["by"]) for h in closed["history"]] == [
        ("referred", "referred", "sup.okafor"),
        ("assigned", "assigned", "coord.ellis"),
        ("identifying_details_allowed", "assigned", "sup.okafor"),
        ("started", "in_coaching", "coach.tran"),
        ("closed", "closed", "coach.tran"),
    ]
    assert closed["history"][-1]["why"] == "Goal met"
    reopened = await practice.client.post(
        f"{url}/assign",
        json={"coach_subject": "coach.diaz", "why": "x"},
        headers={**staff(tokens, *COORDINATOR), "If-Match": f'"{closed["version"]}"'},
    )
    assert reopened.status_code == 409


async def test_a_worker_refers_themselves_and_nobody_refers_someone_elses_worker(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    own = await practice.client.post(
        "/v1/coaching-referrals", json={"worker_subject": "fsw.rivera", "topic": "Three Houses"}, headers=rivera(tokens)
    )
    assert own.status_code == 201 and own.json()["source"] == "self"
    keyed = {**okafor(tokens), "Idempotency-Key": "refer-lindqvist-1"}
    body = {"worker_subject": "fsw.rivera", "topic": "Scaling questions"}
    first = await practice.client.post("/v1/coaching-referrals", json=body, headers=keyed)
    repeat = await practice.client.post("/v1/coaching-referrals", json=body, headers=keyed)
    assert first.status_code == repeat.status_code == 201 and repeat.json()["id"] == first.json()["id"]
    assert repeat.headers["idempotent-replayed"] == "true"
    colleague = await practice.client.post(
        "/v1/coaching-referrals",
        json={"worker_subject": "fsw.rivera", "topic": "x"},
        headers=staff(tokens, "fsw.lindqvist", "worker"),
    )
    assert colleague.status_code == 403
    unknown = await practice.client.post(
        "/v1/coaching-referrals", json={"worker_subject": "fsw.nobody", "topic": "x"}, headers=okafor(tokens)
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "worker_subject"
    group = await practice.client.post(
        "/v1/coaching-referrals",
        json={"unit": "Pulaski-3", "coaching_type": "group", "topic": "Scaling"},
        headers=okafor(tokens),
    )
    assert group.status_code == 201, group.text
    mine = (await practice.client.get("/v1/coaching-referrals", headers=rivera(tokens))).json()["items"]
    assert [r["id"] for r in mine] == [own.json()["id"], first.json()["id"]]
    everyone = (await practice.client.get("/v1/coaching-referrals", headers=staff(tokens, *COORDINATOR))).json()
    assert len(everyone["items"]) == 3
    # Who referred may withdraw it; the worker's colleague may not even see it.
    withdrawn = await move(practice, rivera(tokens), own.json(), "close", outcome="withdrawn", why="Found a mentor")
    assert withdrawn["status"] == "closed"
    profile = (await practice.client.get("/v1/practice-profile", headers=tran(tokens))).json()
    assert profile["key"] == "sop_practice" and len(profile["behaviours"]) >= 10
