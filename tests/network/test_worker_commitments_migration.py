"""The migration that moves the commitments a worker recorded on a network member into `network_commitment`
keeps every word: each becomes a confirmed, shared commitment (origin `worker`) announced to plans as
confirmed; each translation moves to the commitment it translates, current or stale as it was (one of a
commitment removed before is kept as it was); the downgrade puts the words back on the member — on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import column, insert, select, table

from sop_shared.component import load_component
from sop_shared.db import Database
from sop_shared.migrations import downgrade, upgrade

pytestmark = pytest.mark.sqlite_smoke

BEFORE = "6e2b9d4f0a17"  # the revision before it (outcomes and extracts)
CALLS = {"text": "Calls Maria every evening at 8 to check in.", "schedule": "every evening, 20:00"}
TAKES = {"text": "Takes Sofia and Mateo to her house for the night whenever Maria has been drinking."}


def _legacy(component: Any, name: str, leave_out: tuple[str, ...] = (), add: tuple[Any, ...] = ()) -> Any:
    current = component.metadata.tables[name]
    return table(name, *[column(c.name, c.type) for c in current.c if c.name not in leave_out], *add)


async def test_recorded_commitments_move_to_the_table_with_their_translations_and_back(database_url: str) -> None:
    from sqlalchemy import JSON

    component = load_component("network")
    await upgrade(component.package, database_url, BEFORE)
    tables = component.metadata.tables
    member_v1 = _legacy(component, "network_member", add=(column("commitments", JSON),))
    translation = tables["translation"]
    case_id, person_id, member_id, quiet_id = (uuid.uuid4() for _ in range(4))
    when = datetime(2026, 10, 6, 12, tzinfo=UTC)
    translations = {
        "current": ("commitments.0.text", 3, "Llama a Maria cada noche a las 8."),
        "schedule": ("commitments.0.schedule", 3, "cada noche, 20:00"),
        "stale": ("commitments.1.text", 2, "Se lleva a los niños."),
        "removed": ("commitments.4.text", 1, "Una promesa que ya no está."),
    }
    ids = {name: uuid.uuid4() for name in translations}
    database = Database(database_url)
    try:
        async with database.session() as session:
            await session.execute(
                insert(tables["case"]).values(
                    id=case_id,
                    external_system="CHRIS",
                    external_id="C-MIG-1",
                    case_type="in_home",
                    status="open",
                    version=1,
                    created_at=when,
                    updated_at=when,
                )
            )
            await session.execute(
                insert(tables["person"]).values(
                    id=person_id,
                    first_name="Rosa",
                    last_name="Delgado",
                    preferred_language="es",
                    needs_interpreter=False,
                    version=1,
                    created_at=when,
                    updated_at=when,
                )
            )
            for mid, commitments, version in ((member_id, [CALLS, TAKES], 3), (quiet_id, [], 1)):
                await session.execute(
                    insert(member_v1).values(
                        id=mid,
                        case_id=case_id,
                        person_id=person_id if mid == member_id else await _another_person(session, tables, when),
                        circle="inner",
                        roles=[],
                        commitments=commitments,
                        background_check="not_started",
                        version=version,
                        created_at=when,
                        updated_at=when,
                    )
                )
            await session.execute(
                insert(tables["network_member_revision"]).values(
                    id=uuid.uuid4(),
                    member_id=member_id,
                    version=3,
                    snapshot={"person_id": str(person_id), "commitments": [CALLS, TAKES]},
                    changed_by="fsw.rivera",
                    changed_at=when,
                )
            )
            for name, (field, version, text) in translations.items():
                await session.execute(
                    insert(translation).values(
                        id=ids[name],
                        case_id=case_id,
                        record_kind="network_member",
                        record_id=member_id,
                        source_field=field,
                        source_version=version,
                        language="es",
                        text=text,
                        translated_by="Lucía Gómez",
                        names_reporter=False,
                        verified=False,
                        created_by="fsw.rivera",
                        created_at=when,
                    )
                )
        await upgrade(component.package, database_url)
        commitment = tables["network_commitment"]
        async with database.session() as session:
            moved = (
                await session.execute(select(commitment).order_by(commitment.c.proposed_at, commitment.c.id))
            ).all()
            after = {r.id: r for r in (await session.execute(select(translation))).all()}
            events = (
                await session.execute(select(tables["outbox_event"].c.subject, tables["outbox_event"].c.payload))
            ).all()
            changes = (await session.execute(select(tables["change_log"].c.subject))).scalars().all()
        assert [(c.text, c.schedule, c.origin, c.status, c.language) for c in moved] == [
            (CALLS["text"], CALLS["schedule"], "worker", "confirmed", "en"),
            (TAKES["text"], None, "worker", "confirmed", "en"),
        ]
        assert {(c.member_id, c.person_id, c.proposed_by, c.decided_by, c.shared_by) for c in moved} == {
            (member_id, person_id, "fsw.rivera", "fsw.rivera", "fsw.rivera")
        }
        assert all(c.shared_at is not None for c in moved)
        first, second = moved
        assert (after[ids["current"]].record_kind, after[ids["current"]].record_id) == ("network_commitment", first.id)
        assert (after[ids["current"]].source_field, after[ids["current"]].source_version) == ("text", 1)
        assert (after[ids["schedule"]].source_field, after[ids["schedule"]].record_id) == ("schedule", first.id)
        assert (after[ids["stale"]].record_id, after[ids["stale"]].source_version) == (second.id, 0)
        assert (after[ids["removed"]].record_kind, after[ids["removed"]].source_field) == (
            "network_member",
            "commitments.4.text",
        )
        assert {t.text for t in after.values()} == {text for _, _, text in translations.values()}
        confirmed = [p for s, p in events if s == "sop.network.network_commitment.confirmed"]
        assert sorted(p["commitment_id"] for p in confirmed) == sorted(str(c.id) for c in moved)
        assert changes.count("sop.network.network_commitment.confirmed") == 2

        # Since the upgrade, the worker withdrew the second one (it no longer holds).
        async with database.session() as session:
            await session.execute(
                commitment.update()
                .where(commitment.c.id == second.id)
                .values(status="withdrawn", shared_at=None, withdraw_reason="Rosa moved away.")
            )
        await downgrade(component.package, database_url, BEFORE)
        async with database.session() as session:
            back = (await session.execute(select(member_v1).where(member_v1.c.id == member_id))).one()
            back_translations = {r.id: r for r in (await session.execute(select(translation))).all()}
            left = (
                await session.execute(
                    select(
                        _legacy(
                            component,
                            "network_commitment",
                            ("origin", "decline_reason_language", "withdrawn_by", "withdrawn_at", "withdraw_reason"),
                        )
                    )
                )
            ).all()
            history = (
                await session.execute(
                    select(tables["network_member_revision"].c.snapshot).where(
                        tables["network_member_revision"].c.member_id == member_id,
                        tables["network_member_revision"].c.version == back.version,
                    )
                )
            ).scalar_one()
    finally:
        await database.dispose()
    assert back.commitments == [CALLS] and back.version == 4  # a withdrawn one is not listed again
    assert [(c["text"], c["status"]) for c in history["recorded_commitments"]] == [
        (CALLS["text"], "confirmed"),
        (TAKES["text"], "withdrawn"),
    ]
    assert history["recorded_commitments"][1]["withdraw_reason"] == "Rosa moved away."
    assert left == []
    current = back_translations[ids["current"]]
    assert (current.record_kind, current.record_id, current.source_field, current.source_version) == (
        "network_member",
        member_id,
        "commitments.0.text",
        4,
    )
    assert back_translations[ids["stale"]].source_field == f"withdrawn.{second.id}.text"
    assert back_translations[ids["stale"]].source_version == 0
    assert {t.text for t in back_translations.values()} == {text for _, _, text in translations.values()}


async def _another_person(session: Any, tables: Any, when: datetime) -> uuid.UUID:
    person_id = uuid.uuid4()
    await session.execute(
        insert(tables["person"]).values(
            id=person_id,
            first_name="Samuel",
            last_name="Greene",
            preferred_language="en",
            needs_interpreter=False,
            version=1,
            created_at=when,
            updated_at=when,
        )
    )
    return person_id
