"""Coaching referrals are supervision records (the policy table's `Section.supervision`): a family or network member
and a partner find none of the practice service's coaching routes — 404 problem+json, as for a record that does not
exist, never a 403, a 422 or an empty list — and each try is audited (`denied`, `section:supervision`), as the
assessment service does for consultations. The routes are read from the running app's OpenAPI document, so a new
one is walked too."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from practice_steps import team
from sqlalchemy import select

from sop_practice.models import platform
from sop_shared.ids import new_id
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

COACHING = ("/v1/coaching-referrals", "/v1/coaching-queue", "/v1/coaching-goals", "/v1/practice-profile")
PARAMETER = re.compile(r"{(\w+)}")


def bare(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in ("instance", "request_id")}


@pytest.mark.sqlite_smoke
async def test_a_family_or_network_member_or_a_partner_finds_no_coaching_route_and_each_try_is_audited(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    referral = await practice.client.post(
        "/v1/coaching-referrals",
        json={"worker_subject": "fsw.rivera", "topic": "Danger statements"},
        headers=tokens.headers("practice", subject="sup.okafor", roles=("supervisor",), agency=None),
    )
    assert referral.status_code == 201, referral.text
    known = {"referral_id": referral.json()["id"]}
    routes = sorted(
        (method.upper(), path)
        for path, item in practice.app.openapi()["paths"].items()
        if path.startswith(COACHING)
        for method in item
    )
    assert ("GET", "/v1/coaching-referrals") in routes and ("POST", "/v1/coaching-referrals/{referral_id}/goals") in (
        routes
    )
    case = new_id()
    members = {
        "family.maria": tokens.principal("family.maria", actor_type=ActorType.family, roles=(), case_id=case),
        "network.rosa": tokens.principal("network.rosa", actor_type=ActorType.network, roles=(), case_id=case),
        "partner.clinic": tokens.principal("partner.clinic", actor_type=ActorType.partner, roles=(), case_id=case),
    }
    tried = []
    for subject, principal in members.items():
        headers = {**tokens.headers("practice", principal), "If-Match": '"1"'}
        for method, path in routes:
            url = PARAMETER.sub(lambda m: known.get(m[1], str(uuid.uuid4())), path)
            body = {"worker_subject": "fsw.rivera", "topic": "x"} if method == "POST" else None
            answer = await practice.client.request(method, url, headers=headers, json=body)
            assert answer.status_code == 404, (subject, method, url, answer.status_code, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json"), (subject, method, url)
            if "{referral_id}" in path:  # the same answer as for a referral that does not exist
                missing = await practice.client.request(
                    method, PARAMETER.sub(lambda m: str(uuid.uuid4()), path), headers=headers, json=body
                )
                assert bare(missing.json()) == bare(answer.json()), (subject, method, url)
                tried.append((subject, missing.headers["X-Request-ID"]))
            tried.append((subject, answer.headers["X-Request-ID"]))
    async with practice.app.state.database.session() as session:
        rows = (await session.execute(select(platform.audit).where(platform.audit.c.action == "denied"))).all()
    denied = {(r.actor_subject, r.request_id): r.resource for r in rows}
    assert all(denied.get(t) == "section:supervision" for t in tried), [t for t in tried if t not in denied]
