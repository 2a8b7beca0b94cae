"""A group's coaching session rates each worker in it on their own (issue 15 part 3, the leftover): every rating of
a unit's session names a worker of the unit, the same behaviour may be rated once for each worker, and the event
says each worker's ratings apart. A one-on-one session still rates only the referral's worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from practice_steps import COORDINATOR, staff, team
from sqlalchemy import select

from sop_practice.coaching import rules
from sop_practice.models import platform
from sop_shared.testing import InternalTokens, RunningService

YESTERDAY = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


async def routed(practice: RunningService, tokens: InternalTokens, **body: Any) -> str:
    made = await practice.client.post(
        "/v1/coaching-referrals", json=body, headers=staff(tokens, "sup.okafor", "supervisor")
    )
    assert made.status_code == 201, made.text
    url = f"/v1/coaching-referrals/{made.json()['id']}"
    assigned = await practice.client.post(
        f"{url}/assign",
        json={"coach_subject": "coach.tran"},
        headers={**staff(tokens, *COORDINATOR), "If-Match": '"1"'},
    )
    assert assigned.status_code == 200, assigned.text
    return url


def session(*ratings: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "observation_mapping_meeting", "held_on": YESTERDAY, "ratings": list(ratings)}


def test_a_rating_is_for_the_referrals_worker_or_a_named_worker_of_the_group() -> None:
    group = frozenset({"fsw.rivera", "fsw.lindqvist"})
    assert rules.rated_worker(None, referral_worker="fsw.rivera", group_workers=None) == ("fsw.rivera", None)
    assert rules.rated_worker("fsw.other", referral_worker="fsw.rivera", group_workers=None)[1]
    assert rules.rated_worker("fsw.lindqvist", referral_worker=None, group_workers=group) == ("fsw.lindqvist", None)
    assert rules.rated_worker(None, referral_worker=None, group_workers=group)[1]
    assert rules.rated_worker("fsw.other", referral_worker=None, group_workers=group)[1]


@pytest.mark.sqlite_smoke
async def test_a_groups_session_rates_each_worker_on_their_own(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    url = await routed(practice, tokens, unit="Pulaski-3", coaching_type="group", topic="Scaling with families")
    coach = staff(tokens, "coach.tran", "coach")
    held = await practice.client.post(
        f"{url}/sessions",
        json=session(
            {"worker_subject": "fsw.rivera", "behaviour": "M3", "rating": 3},
            {"worker_subject": "fsw.lindqvist", "behaviour": "M3", "rating": 1, "note": "Scaled with staff only"},
            {"worker_subject": "fsw.lindqvist", "behaviour": "S1", "rating": 2},
        ),
        headers=coach,
    )
    assert held.status_code == 201, held.text
    rated = {(r["worker_subject"], r["behaviour"]): r["rating"] for r in held.json()["ratings"]}
    assert rated == {("fsw.rivera", "M3"): 3, ("fsw.lindqvist", "M3"): 1, ("fsw.lindqvist", "S1"): 2}
    again = (await practice.client.get(f"{url}/sessions", headers=coach)).json()
    assert {(r["worker_subject"], r["behaviour"]) for r in again[0]["ratings"]} == set(rated)
    async with practice.app.state.database.session() as db:
        outbox = platform.outbox
        [event] = (
            await db.execute(
                select(outbox.c.payload).where(outbox.c.subject == "sop.practice.coaching_session.recorded")
            )
        ).scalars()
    assert event["ratings_by_worker"] == {"fsw.rivera": {"M3": 3}, "fsw.lindqvist": {"M3": 1, "S1": 2}}

    # In a group's session each rating names a worker of the unit, and rates a behaviour once for each worker.
    refused = await practice.client.post(
        f"{url}/sessions",
        json=session(
            {"behaviour": "M3", "rating": 3},
            {"worker_subject": "fsw.other", "behaviour": "M3", "rating": 3},
            {"worker_subject": "fsw.rivera", "behaviour": "S1", "rating": 3},
            {"worker_subject": "fsw.rivera", "behaviour": "S1", "rating": 2},
        ),
        headers=coach,
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "ratings.0.worker_subject",
        "ratings.1.worker_subject",
        "ratings.3.behaviour",
    ]


async def test_a_one_on_one_session_rates_only_the_referrals_worker(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    url = await routed(practice, tokens, worker_subject="fsw.rivera", topic="Danger statements")
    coach = staff(tokens, "coach.tran", "coach")
    other = await practice.client.post(
        f"{url}/sessions",
        json=session({"worker_subject": "fsw.lindqvist", "behaviour": "S1", "rating": 2}),
        headers=coach,
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "ratings.0.worker_subject"
    held = await practice.client.post(f"{url}/sessions", json=session({"behaviour": "S1", "rating": 2}), headers=coach)
    assert held.status_code == 201 and held.json()["ratings"][0]["worker_subject"] == "fsw.rivera"
