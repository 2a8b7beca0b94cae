"""The upgrade that gives known triggers ids keeps every word, gives each trigger recorded before an id, and
announces each trauma history once with its triggers' ids (never the words), so the plans service knows them; the
downgrade takes the ids off — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert, select

from sop_shared.component import load_component
from sop_shared.db import Database, utcnow
from sop_shared.migrations import downgrade, upgrade

pytestmark = pytest.mark.sqlite_smoke

BEFORE = "3c0ac8e1f2d7"
TRIGGERS = [{"trigger": "Being alone at night", "what_helps": "Knowing Rosa is on her way"}, {"trigger": "Loud knocks"}]


async def test_triggers_get_ids_and_each_history_is_announced_once_without_its_words(database_url: str) -> None:
    component = load_component("assessment")
    await upgrade(component.package, database_url, BEFORE)
    histories, outbox = component.metadata.tables["trauma_history"], component.metadata.tables["outbox_event"]
    history_id, case_id, now = uuid.uuid4(), uuid.uuid4(), utcnow()
    database = Database(database_url)
    try:
        async with database.session() as session:
            await session.execute(
                insert(histories).values(
                    id=history_id,
                    case_id=case_id,
                    person_name="Sofia",
                    person_role="child",
                    history="Sofia found her mother asleep and could not wake her.",
                    triggers=TRIGGERS,
                    consented_audiences=["staff"],
                    created_by="fsw.rivera",
                    version=2,
                    created_at=now,
                    updated_at=now,
                )
            )
        await upgrade(component.package, database_url)
        async with database.session() as session:
            triggers = (await session.execute(select(histories.c.triggers))).scalar_one()
            events = (await session.execute(select(outbox.c.subject, outbox.c.payload))).all()
        assert [{k: v for k, v in t.items() if k != "id"} for t in triggers] == TRIGGERS
        assert all(uuid.UUID(t["id"]) for t in triggers)
        [(subject, payload)] = events
        assert subject == "sop.assessment.trauma_history.updated"
        assert (payload["trauma_history_id"], payload["version"], payload["trigger_count"]) == (str(history_id), 2, 2)
        assert payload["trigger_ids"] == [t["id"] for t in triggers]
        assert "Being alone" not in str(payload) and "Sofia" not in str(payload)

        await downgrade(component.package, database_url, BEFORE)
        async with database.session() as session:
            assert (await session.execute(select(histories.c.triggers))).scalar_one() == TRIGGERS
    finally:
        await database.dispose()
