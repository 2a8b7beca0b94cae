"""Every statement endpoint verifies the internal token: none is 401, another service's audience is 401,
a token for another case is 404 (indistinguishable from a missing statement), and reading is not writing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sharing_steps import share

from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService


@pytest.fixture
async def statement_id(
    assessment: RunningService, rivera: dict[str, str], lopez_case: uuid.UUID, maria_danger_statement: dict[str, Any]
) -> str:
    response = await assessment.client.post(
        f"/v1/cases/{lopez_case}/statements", json=maria_danger_statement, headers=rivera
    )
    assert response.status_code == 201, response.text
    shared = await share(assessment, lopez_case, rivera, "statements", response.json())  # partners read it too
    return str(shared["id"])


async def test_a_call_without_a_token_is_401(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    statement_id: str,
    maria_danger_statement: dict[str, Any],
) -> None:
    for method, path, body in (
        ("GET", f"/v1/cases/{lopez_case}/statements", None),
        ("GET", f"/v1/statements/{statement_id}", None),
        ("POST", f"/v1/cases/{lopez_case}/statements", maria_danger_statement),
    ):
        response = await assessment.client.request(method, path, json=body)
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_an_anonymous_caller_with_a_made_up_filter_still_gets_401(
    assessment: RunningService,
    lopez_case: uuid.UUID,
) -> None:
    response = await assessment.client.get(f"/v1/cases/{lopez_case}/statements", params={"everything": "1"})
    assert response.status_code == 401


async def test_a_token_for_another_services_audience_is_401(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    statement_id: str,
    tokens: InternalTokens,
) -> None:
    for path in (f"/v1/cases/{lopez_case}/statements", f"/v1/statements/{statement_id}"):
        response = await assessment.client.get(path, headers=tokens.headers("network", case_id=lopez_case))
        assert response.status_code == 401


async def test_an_expired_token_is_401(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    tokens.minter.lifetime_seconds = -60
    response = await assessment.client.get(
        f"/v1/cases/{lopez_case}/statements", headers=tokens.headers("assessment", case_id=lopez_case)
    )
    assert response.status_code == 401


async def test_a_token_for_another_case_cannot_tell_the_statement_exists(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    statement_id: str,
    tokens: InternalTokens,
    maria_danger_statement: dict[str, Any],
) -> None:
    elsewhere = tokens.headers("assessment", subject="fsw.lindqvist", case_id=uuid.uuid4())
    existing = await assessment.client.get(f"/v1/statements/{statement_id}", headers=elsewhere)
    missing = await assessment.client.get(f"/v1/statements/{uuid.uuid4()}", headers=elsewhere)
    assert existing.status_code == missing.status_code == 404
    assert (existing.json()["title"], existing.json()["detail"]) == (missing.json()["title"], missing.json()["detail"])
    listed = await assessment.client.get(f"/v1/cases/{lopez_case}/statements", headers=elsewhere)
    written = await assessment.client.post(
        f"/v1/cases/{lopez_case}/statements", json=maria_danger_statement, headers=elsewhere
    )
    assert listed.status_code == written.status_code == 404


async def test_a_token_scoped_to_no_case_sees_no_statements(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    statement_id: str,
    tokens: InternalTokens,
) -> None:
    unscoped = tokens.headers("assessment")
    assert (await assessment.client.get(f"/v1/statements/{statement_id}", headers=unscoped)).status_code == 404
    assert (await assessment.client.get(f"/v1/cases/{lopez_case}/statements", headers=unscoped)).status_code == 404


async def test_a_read_only_principal_reads_statements_but_cannot_write_one(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    statement_id: str,
    tokens: InternalTokens,
    maria_danger_statement: dict[str, Any],
) -> None:
    casa = tokens.headers(
        "assessment",
        subject="casa.volunteer",
        actor_type=ActorType.partner,
        roles=(),
        scopes=("case:read",),
        agency="CASA",
        case_id=lopez_case,
    )
    assert (await assessment.client.get(f"/v1/statements/{statement_id}", headers=casa)).status_code == 200
    assert (await assessment.client.get(f"/v1/cases/{lopez_case}/statements", headers=casa)).status_code == 200
    response = await assessment.client.post(
        f"/v1/cases/{lopez_case}/statements", json=maria_danger_statement, headers=casa
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
