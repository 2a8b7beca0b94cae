"""The migration that makes a plan's `end_reason` a code keeps the plans ended before it readable: the old
sentences become codes ("replaced by plan <id>" → `replaced_by_plan` with the replacing plan's id; "expired"
stays; a terminate reason → `terminated`, its words kept as `end_note`), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import column, insert, select, table

from sop_shared.component import load_component
from sop_shared.db import Database, utcnow
from sop_shared.migrations import upgrade

pytestmark = pytest.mark.sqlite_smoke

BEFORE_CODES = "6e2d9b41c7a8"


async def test_old_end_reasons_become_codes_and_the_person_s_words_are_kept(database_url: str) -> None:
    component = load_component("plans")
    await upgrade(component.package, database_url, BEFORE_CODES)
    plans = component.metadata.tables["safety_plan"]
    legacy = table(plans.name, *[column(c.name, c.type) for c in plans.c if c.name != "end_note"])
    case_id, now = uuid.uuid4(), utcnow()
    newest, replaced, expired, ended, ended_by_migration = (uuid.uuid4() for _ in range(5))
    old_reasons = {
        newest: None,
        replaced: f"replaced by plan {newest}",
        expired: "expired",
        ended: "The family moved out of state; the case is closing.",
        ended_by_migration: f"replaced by plan {newest}",  # written by plan_practice_rules, id left empty
    }
    database = Database(database_url)
    try:
        async with database.session() as session:
            for plan_id, reason in old_reasons.items():
                await session.execute(
                    insert(legacy).values(
                        id=plan_id,
                        case_id=case_id,
                        plan_type="ongoing",
                        status="active" if reason is None else ("expired" if reason == "expired" else "terminated"),
                        title="Plan",
                        effective_from=now,
                        danger_statement_ids=[],
                        threat_codes=[],
                        current_version_number=1,
                        owner="fsw.rivera",
                        rule_set_id="ar-dcfs-2026",
                        replaced_plan_ids=[],
                        version=1,
                        created_by="fsw.rivera",
                        created_at=now,
                        updated_at=now,
                        end_reason=reason,
                        replaced_by_plan_id=newest if plan_id == replaced else None,
                    )
                )
        await upgrade(component.package, database_url)
        async with database.session() as session:
            rows = (
                await session.execute(
                    select(plans.c.id, plans.c.end_reason, plans.c.end_note, plans.c.replaced_by_plan_id)
                )
            ).all()
    finally:
        await database.dispose()
    after = {row.id: (row.end_reason, row.end_note, row.replaced_by_plan_id) for row in rows}
    assert after == {
        newest: (None, None, None),
        replaced: ("replaced_by_plan", None, newest),
        expired: ("expired", None, None),
        ended: ("terminated", "The family moved out of state; the case is closing.", None),
        ended_by_migration: ("replaced_by_plan", None, newest),
    }
