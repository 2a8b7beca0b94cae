"""`database_templates` (tests/real_services.MigratedTemplates) gives a fresh database a copy of a component's
schema migrated once per session: the copy is what Alembic would have made, every copy is a database of its own,
and a database something was already written to is migrated by Alembic, never replaced."""

from __future__ import annotations

import warnings
from typing import Any

import asyncpg
import pytest
from real_services import (
    MigratedTemplates,
    create_test_database,
    database_exists,
    drop_database,
    drop_retired,
    retired_databases,
    sessions_left,
)
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from sop_shared.migrations import upgrade

# Runs on SQLite too by default: the suite's own SQLite template copies.
pytestmark = pytest.mark.sqlite_smoke


async def _schema(url: str) -> dict[str, Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync_conn: Any) -> dict[str, Any]:
                found = inspect(sync_conn)
                return {
                    table: sorted(column["name"] for column in found.get_columns(table))
                    for table in found.get_table_names()
                }

            tables = await conn.run_sync(read)
            version = (await conn.execute(text("select version_num from alembic_version"))).scalar_one()
    finally:
        await engine.dispose()
    return {"tables": tables, "version": version}


async def _execute(url: str, statement: str) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def test_a_copied_schema_is_the_one_alembic_makes_and_each_copy_is_its_own(
    database_url: str,
    database_templates: MigratedTemplates,
    tmp_path: Any,
    request: Any,
) -> None:
    if request.node.callspec.params["database_url"] == "sqlite":
        by_alembic, second_copy = (f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in ("alembic", "second"))
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        made = [await create_test_database(admin_url, prefix) for prefix in ("alembic", "second")]
        by_alembic, second_copy = (db.url for db in made)
    try:
        await upgrade("sop_network", by_alembic)
        await database_templates.migrate("sop_network", database_url)
        await database_templates.migrate("sop_network", second_copy)
        expected = await _schema(by_alembic)
        assert expected["tables"], "the network service has tables"
        assert await _schema(database_url) == expected
        assert await _schema(second_copy) == expected
        await _execute(database_url, "create table written_by_this_test (id integer)")
        assert "written_by_this_test" not in (await _schema(second_copy))["tables"]
    finally:
        if request.node.callspec.params["database_url"] == "postgres":
            for db in made:
                await drop_database(admin_url, db.name)


async def test_a_database_already_written_to_is_migrated_not_replaced(
    database_url: str,
    database_templates: MigratedTemplates,
) -> None:
    await _execute(database_url, "create table kept (id integer)")
    await _execute(database_url, "insert into kept (id) values (7)")
    await database_templates.migrate("sop_network", database_url)
    assert await _execute(database_url, "select id from kept") == 7
    schema = await _schema(database_url)
    assert "kept" in schema["tables"] and "outbox_event" in schema["tables"]


async def test_a_database_made_a_copy_up_front_has_the_schema_alembic_makes(
    postgres_admin_url: str,
    database_templates: MigratedTemplates,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(
        MigratedTemplates,
        "COMPONENT_FIXTURES",
        {"network": "sop_network", "pg_network": "sop_network", "plans": "sop_plans"},
    )
    assert database_templates.component_started_by(["tmp_path", "network", "pg_network"]) == "sop_network"
    assert database_templates.component_started_by(["tmp_path", "database_url"]) is None
    assert database_templates.component_started_by(["network", "plans"]) is None  # two schemas: neither
    copy = await database_templates.create_copy(postgres_admin_url, "sop_network")
    by_alembic = await create_test_database(postgres_admin_url, "alembic")
    try:
        await upgrade("sop_network", by_alembic.url)
        await database_templates.migrate("sop_network", copy.url)  # already at head: nothing to do
        assert await _schema(copy.url) == await _schema(by_alembic.url)
    finally:
        for db in (copy, by_alembic):
            await drop_database(postgres_admin_url, db.name)


async def test_a_copy_given_back_is_reused_as_the_template_had_it(
    postgres_admin_url: str, database_templates: MigratedTemplates
) -> None:
    first = await database_templates.create_copy(postgres_admin_url, "sop_network")
    seeded = await _execute(first.url, "select seq from change_counter where id = 1")  # a row the migration made
    await _execute(first.url, "update change_counter set seq = seq + 41 where id = 1")
    await _execute(
        first.url,
        "insert into outbox_event (id, subject, payload, occurred_at, attempts)"
        " values ('01937a2e-5c00-7000-8000-000000000001', 'sop.test', '{}', now(), 0)",
    )
    await database_templates.give_back(first)

    again = await database_templates.create_copy(postgres_admin_url, "sop_network")
    assert again.name == first.name, "the copy given back is the one handed out next"
    assert await _execute(again.url, "select count(*) from outbox_event") == 0
    assert await _execute(again.url, "select seq from change_counter where id = 1") == seeded
    assert (await _schema(again.url))["version"] == (await _schema(first.url))["version"]
    await database_templates.give_back(again)


async def test_a_copy_whose_schema_a_test_changed_is_dropped_not_reused(
    postgres_admin_url: str, database_templates: MigratedTemplates
) -> None:
    changed = await database_templates.create_copy(postgres_admin_url, "sop_network")
    await _execute(changed.url, "create table written_by_this_test (id integer)")
    await database_templates.give_back(changed)
    assert changed.name in retired_databases()  # dropped with the others (real_services.retire_database)
    await drop_retired()
    assert not await database_exists(postgres_admin_url, changed.name)
    fresh = await database_templates.create_copy(postgres_admin_url, "sop_network")
    try:
        assert fresh.name != changed.name
        assert "written_by_this_test" not in (await _schema(fresh.url))["tables"]
    finally:
        await database_templates.give_back(fresh)


async def test_a_copy_someone_connected_to_after_it_was_given_back_is_warned_of_and_they_are_disconnected(
    postgres_admin_url: str, database_templates: MigratedTemplates
) -> None:
    """A task or process a test left running whose pool reconnects to its given-back copy would work on the next
    test's data: the copy is checked when handed out."""
    copy = await database_templates.create_copy(postgres_admin_url, "sop_network")
    await database_templates.give_back(copy)
    stray = await asyncpg.connect(copy.dsn)  # reconnected after the test was done with it
    try:
        with pytest.warns(UserWarning, match=f"connected to a database given back by its test: {copy.name}"):
            again = await database_templates.create_copy(postgres_admin_url, "sop_network")
        assert again.name == copy.name  # the same copy, reused (the last one given back)
        assert await sessions_left(postgres_admin_url, copy.name) == 0  # the stray session ended
    finally:
        stray.terminate()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nobody connected now: handed out again without a word
            await database_templates.give_back(again)
            assert (await database_templates.create_copy(postgres_admin_url, "sop_network")).name == copy.name
    finally:
        await database_templates.give_back(copy)
