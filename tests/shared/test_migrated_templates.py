"""`database_templates` (tests/real_services.MigratedTemplates) gives a fresh database a copy of a component's
schema migrated once per session: the copy is what Alembic would have made, every copy is a database of its own,
and a database something was already written to is migrated by Alembic, never replaced."""

from __future__ import annotations

from typing import Any

from real_services import MigratedTemplates, create_test_database, drop_database
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from sop_shared.migrations import upgrade


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
    copy = await database_templates.create_copy(postgres_admin_url, "sop_network", "up_front")
    by_alembic = await create_test_database(postgres_admin_url, "alembic")
    try:
        await upgrade("sop_network", by_alembic.url)
        await database_templates.migrate("sop_network", copy.url)  # already at head: nothing to do
        assert await _schema(copy.url) == await _schema(by_alembic.url)
    finally:
        for db in (copy, by_alembic):
            await drop_database(postgres_admin_url, db.name)
