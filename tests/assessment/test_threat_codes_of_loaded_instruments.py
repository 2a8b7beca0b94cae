"""Threat codes name threats of the loaded SDM instruments (issue 14): a statement with an unknown code is
refused (422 naming the field, nothing written), and the service announces its instruments' threat codes once
per catalog content (`sop.assessment.sdm_instruments.published`) for the plans service's own check."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from sop_assessment.models import platform
from sop_assessment.sdm.published import catalog_threats, publish_catalog, threat_codes_of
from sop_assessment.sdm.service import catalog_of
from sop_shared.testing import RunningService
from sop_shared.threat_codes import INSTRUMENTS_PUBLISHED, unknown_threat_codes


def test_unknown_codes_are_named_by_field_and_nothing_is_checked_without_instruments() -> None:
    known = {"T1", "T4"}
    assert unknown_threat_codes([("threat_codes.0", "T4"), ("x", None)], known) == []
    [error] = unknown_threat_codes([("threat_codes.0", "T4"), ("threat_codes.1", "S4")], known)
    assert error["field"] == "threat_codes.1" and "S4" in error["message"]
    assert unknown_threat_codes([("threat_codes.0", "S4")], set()) == []


async def test_the_packaged_instruments_threats_are_the_safety_assessments(assessment: RunningService) -> None:
    catalog = catalog_of(assessment.app)
    assert {f"T{i}" for i in range(1, 12)} <= threat_codes_of(catalog)
    by_key = {i["key"]: i for i in catalog_threats(catalog)}
    assert by_key["safety_assessment"]["threat_codes"][:2] == ["T1", "T2"]
    assert by_key["risk_assessment"]["threat_codes"] == []


async def test_a_statement_naming_an_unknown_threat_is_refused_on_create_and_on_patch(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    stored: Callable[[], Awaitable[dict[str, int]]],
) -> None:
    url = f"/v1/cases/{lopez_case}/statements"
    before = await stored()
    refused = await assessment.client.post(
        url, json={**maria_danger_statement, "threat_codes": ["T4", "Z99"]}, headers=rivera
    )
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["threat_codes.1"]
    assert await stored() == before  # nothing written
    made = await assessment.client.post(url, json=maria_danger_statement, headers=rivera)
    assert made.status_code == 201, made.text
    patch = await assessment.client.patch(
        f"/v1/statements/{made.json()['id']}",
        json={"threat_codes": ["Q1"]},
        headers={**rivera, "If-Match": '"1"'},
    )
    assert patch.status_code == 422, patch.text
    assert [e["field"] for e in patch.json()["errors"]] == ["threat_codes.0"]


async def test_the_catalog_is_announced_once_per_content(assessment: RunningService) -> None:
    async def announced() -> list[dict[str, Any]]:
        async with assessment.app.state.database.session() as s:
            query = select(platform.outbox.c.payload).where(platform.outbox.c.subject == INSTRUMENTS_PUBLISHED)
            return [row.payload for row in (await s.execute(query)).all()]

    [event] = await announced()  # at start-up
    safety = next(i for i in event["instruments"] if i["key"] == "safety_assessment")
    assert "T4" in safety["threat_codes"] and len(safety["sha256"]) == 64
    assert await publish_catalog(assessment.app.state.database, catalog_of(assessment.app)) is False  # same content
    assert len(await announced()) == 1
