"""The input policy on the plans service (see sop_shared.input_policy): a plan whose rule text carries a
control or bidirectional override character is refused with 422 naming the field; nothing is written."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_plans.models import SafetyPlan, platform
from sop_shared.db import Database
from sop_shared.testing import RunningService


async def _written(url: str) -> tuple[int, int]:
    db = Database(url)
    try:
        async with db.session() as s:
            return (
                (await s.execute(select(func.count()).select_from(SafetyPlan))).scalar_one(),
                (await s.execute(select(func.count()).select_from(platform.outbox))).scalar_one(),
            )
    finally:
        await db.dispose()


@pytest.mark.parametrize("bad", ["Rosa\x00", "\u202dRosa", "Rosa\x9b"])
async def test_a_refused_character_deep_in_a_plan_is_422_naming_the_field_and_nothing_is_written(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
    bad: str,
) -> None:
    lopez_ongoing_plan["rules"][1]["monitors"][1]["name"] = bad
    lopez_ongoing_plan["triggers"][0] = f"Maria does not answer {bad}'s evening call"
    response = await plans.client.post(
        f"/v1/cases/{case_id}/safety-plans",
        content=json.dumps(lopez_ongoing_plan),
        headers={**worker, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {"rules[1].monitors[1].name", "triggers[0]"}
    assert await _written(plans.database_url) == (0, 0)


async def test_a_refused_character_in_a_path_value_is_422(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
) -> None:
    response = await plans.client.get(f"/v1/cases/{case_id}/safety-plans/%E2%81%A6x", headers=worker)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["message"].startswith("contains a bidirectional control character")
