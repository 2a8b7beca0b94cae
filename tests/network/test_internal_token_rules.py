"""Every endpoint verifies the internal token: none is 401, another service's audience is 401, a token
for another case is 404, and an expired or forged token is 401."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest

from sop_shared.keys import generate_signing_key
from sop_shared.testing import InternalTokens, RunningService

UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0002"


@pytest.fixture
async def case_id(network: RunningService, sacwis: dict[str, str], maria_and_the_children: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID((await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"])


async def test_a_call_without_a_token_is_401(network: RunningService, case_id: uuid.UUID) -> None:
    for path in (f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/access"):
        response = await network.client.get(path)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await network.client.put(UPSERT, json={})).status_code in (401, 422)


async def test_a_token_for_another_services_audience_is_401(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    response = await network.client.get(f"/v1/cases/{case_id}", headers=tokens.headers("plans", case_id=case_id))
    assert response.status_code == 401


async def test_a_token_scoped_to_another_case_is_404(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    response = await network.client.get(f"/v1/cases/{case_id}", headers=tokens.headers("network", case_id=uuid.uuid4()))
    assert response.status_code == 404


async def test_an_expired_token_is_401(network: RunningService, case_id: uuid.UUID, tokens: InternalTokens) -> None:
    tokens.minter.lifetime_seconds = -60
    response = await network.client.get(f"/v1/cases/{case_id}", headers=tokens.headers("network", case_id=case_id))
    assert response.status_code == 401


async def test_a_token_signed_by_another_key_is_401(network: RunningService, case_id: uuid.UUID) -> None:
    forged_key = generate_signing_key()
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": "sop-gateway",
            "aud": "network",
            "sub": "fsw.rivera",
            "act": "staff",
            "iat": now,
            "exp": now + 60,
            "scope": "case:read",
            "case": str(case_id),
        },
        forged_key.private_key,
        algorithm="EdDSA",
        headers={"kid": forged_key.kid},
    )
    response = await network.client.get(f"/v1/cases/{case_id}", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_only_the_integration_scope_may_upsert_cases(
    network: RunningService,
    tokens: InternalTokens,
    maria_and_the_children: dict[str, Any],
) -> None:
    response = await network.client.put(UPSERT, json=maria_and_the_children, headers=tokens.headers("network"))
    assert response.status_code == 403
