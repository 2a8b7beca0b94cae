"""Every endpoint verifies the internal token: none is 401, another service's audience is 401, a token for
another case is 404 on the case path and on the plan path alike, and a read-only principal cannot write."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest

from sop_shared.keys import generate_signing_key
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService


@pytest.fixture
async def plan_id(
    plans: RunningService, case_id: uuid.UUID, worker: dict[str, str], lopez_ongoing_plan: dict[str, Any]
) -> uuid.UUID:
    response = await plans.client.post(f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan, headers=worker)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def _reads(case_id: uuid.UUID, plan_id: uuid.UUID) -> list[str]:
    return [
        f"/v1/cases/{case_id}/safety-plans",
        f"/v1/safety-plans/{plan_id}",
        f"/v1/safety-plans/{plan_id}/versions",
        f"/v1/safety-plans/{plan_id}/versions/1",
    ]


async def test_a_call_without_a_token_is_401(
    plans: RunningService,
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    for path in _reads(case_id, plan_id):
        response = await plans.client.get(path, params={"unknown": "x"})
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("application/problem+json")
    created = await plans.client.post(f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan)
    assert created.status_code == 401


async def test_a_token_for_another_services_audience_is_401(
    plans: RunningService,
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    network_token = tokens.headers("network", case_id=case_id)
    for path in _reads(case_id, plan_id):
        assert (await plans.client.get(path, headers=network_token)).status_code == 401, path


async def test_a_token_for_another_case_cannot_tell_the_plans_exist(
    plans: RunningService,
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
    tokens: InternalTokens,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    other_case = tokens.headers("plans", case_id=uuid.uuid4())
    for path in _reads(case_id, plan_id):
        assert (await plans.client.get(path, headers=other_case)).status_code == 404, path
    created = await plans.client.post(f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan, headers=other_case)
    assert created.status_code == 404
    # a plan of another case and a plan that never existed answer alike
    theirs = await plans.client.get(f"/v1/safety-plans/{plan_id}", headers=other_case)
    missing = await plans.client.get(f"/v1/safety-plans/{uuid.uuid4()}", headers=other_case)
    assert theirs.status_code == missing.status_code == 404
    assert (theirs.json()["title"], theirs.json()["detail"]) == (missing.json()["title"], missing.json()["detail"])


async def test_a_token_not_scoped_to_any_case_sees_no_plan(
    plans: RunningService,
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    unscoped = tokens.headers("plans")
    for path in _reads(case_id, plan_id):
        assert (await plans.client.get(path, headers=unscoped)).status_code == 404, path


async def test_a_read_only_principal_reads_plans_but_cannot_create_one(
    plans: RunningService,
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
    worker: dict[str, str],
    tokens: InternalTokens,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    submitted = await plans.client.post(f"/v1/safety-plans/{plan_id}/submit", headers=worker)
    assert submitted.status_code == 200, submitted.text  # a partner reads plans once they left the worker
    casa = tokens.headers(
        "plans",
        subject="casa.volunteer",
        actor_type=ActorType.partner,
        roles=(),
        scopes=("case:read",),
        agency="CASA",
        case_id=case_id,
    )
    for path in _reads(case_id, plan_id):
        assert (await plans.client.get(path, headers=casa)).status_code == 200, path
    response = await plans.client.post(f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan, headers=casa)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_expired_token_is_401(
    plans: RunningService,
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    tokens.minter.lifetime_seconds = -60
    response = await plans.client.get(f"/v1/safety-plans/{plan_id}", headers=tokens.headers("plans", case_id=case_id))
    assert response.status_code == 401


async def test_a_token_signed_by_another_key_is_401(
    plans: RunningService,
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
) -> None:
    forged_key = generate_signing_key()
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": "sop-gateway",
            "aud": "plans",
            "sub": "fsw.rivera",
            "sop_actor_type": "staff",
            "iat": now,
            "exp": now + 60,
            "scope": "case:read case:write",
            "case": str(case_id),
        },
        forged_key.private_key,
        algorithm="EdDSA",
        headers={"kid": forged_key.kid},
    )
    response = await plans.client.get(f"/v1/safety-plans/{plan_id}", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
