"""Backup and restore (issue 17, docs/deployment.md "Backups and restore"): one service's PostgreSQL
database dumped with pg_dump while the platform runs and restored with pg_restore into a new database holds
the same rows, its keyed audit chain verifies against the newest signed checkpoint, and a dump taken
"mid-stream" (outbox events the relay had not yet published when it was taken, published since) reconciles
when the relay runs on the restored database: every event is published again, none is lost, and the
consumers, which already applied them, apply none twice."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
import real_services
from sqlalchemy import func, select, update

from sop_shared.audit import newest_checkpoint
from sop_shared.db import Database
from sop_shared.outbox import OutboxRelay

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

pytestmark = [
    pytest.mark.parametrize("gateway_backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True),
]


def _major_version(tool: str) -> int:
    found = re.search(r"(\d+)", subprocess.run([tool, "--version"], capture_output=True, text=True).stdout)
    return int(found[1]) if found else 0


async def pg_tools(database_dsn: str) -> Path:
    """The folder of a pg_dump and pg_restore that can read this server: the machine's (postgresql-client) when
    it is as new as the server, else those pgserver ships with the throwaway server the suite starts on a machine
    without PostgreSQL (pg_dump refuses a server newer than itself: a skip here would prove nothing)."""
    connection = await asyncpg.connect(database_dsn)
    try:
        server = int(await connection.fetchval("SHOW server_version_num")) // 10000
    finally:
        await connection.close()
    system = shutil.which("pg_dump")
    for folder in ([Path(system).parent] if system else []) + [real_services._pgserver_bin_dir()]:
        if (folder / "pg_restore").exists() and _major_version(str(folder / "pg_dump")) >= server:
            return folder
    pytest.fail(f"no pg_dump for a PostgreSQL {server} server (the machine's is older, pgserver has none)")


def dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


async def table_rows(database_dsn: str) -> dict[str, list[Any]]:
    """Every table's rows, in a stable order (all columns as text)."""
    connection = await asyncpg.connect(database_dsn)
    try:
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        rows = {}
        for (name,) in tables:
            quoted = '"' + name.replace('"', '""') + '"'
            rows[name] = [tuple(r) for r in await connection.fetch(f"SELECT t::text FROM {quoted} t ORDER BY t::text")]
        return rows
    finally:
        await connection.close()


async def test_a_service_database_restored_from_its_dump_is_equal_verifies_and_reconciles(
    system: EmbeddedSystem, demo_case: uuid.UUID, postgres_admin_url: str, tmp_path: Path
) -> None:
    assert (await system.case_view(demo_case))["data"]["caseView"]  # a read: audit rows in every component
    await system.events_delivered()
    network = system.services["network"]
    trail = network.state.audit_trail
    await trail.checkpoint()  # the chain head as it is now, signed and on the bus

    # The backup: the custom format, without owners (the restoring role owns what it restores).
    dump = tmp_path / "network.dump"
    source = dsn(system.database_urls["network"])
    tools = await pg_tools(source)
    subprocess.run([str(tools / "pg_dump"), "--format=custom", "--no-owner", "--file", str(dump), source], check=True)
    restored = await real_services.create_test_database(postgres_admin_url, prefix="restored_network")
    try:
        subprocess.run(
            [str(tools / "pg_restore"), "--no-owner", "--exit-on-error", "--dbname", restored.dsn, str(dump)],
            check=True,
        )
        # The same rows, table by table.
        before, after = await table_rows(source), await table_rows(restored.dsn)
        assert before.keys() == after.keys() and before == after
        assert before["audit_record"] and before["outbox_event"]

        database = Database(restored.url)
        try:
            # The audit chain verifies with the component's keys, up to its newest signed checkpoint.
            checkpoint = await newest_checkpoint(trail.bus, "network")
            assert checkpoint is not None
            async with database.session() as session:
                verdict = await trail.writer.verify(session, checkpoint, trail.keys.public_keys)
            assert verdict.intact, verdict
            assert verdict.checkpoint_seq == checkpoint.seq and verdict.records >= checkpoint.seq

            # Mid-stream: the newest events had not been published when the dump was taken.
            await reconcile_after_a_mid_stream_dump(system, database, network)
        finally:
            await database.dispose()
    finally:
        await real_services.drop_database(postgres_admin_url, restored.name)


async def reconcile_after_a_mid_stream_dump(system: EmbeddedSystem, database: Database, network: Any) -> None:
    platform = network.state.platform
    outbox = platform.outbox
    consumers = {name: app for name, app in system.services.items() if name != "network"}
    async with database.session() as session:
        recent = (await session.execute(select(outbox.c.id).order_by(outbox.c.id.desc()).limit(200))).scalars().all()
    # The newest events some other service consumes (events nobody subscribes to prove nothing here).
    consumed = {event for app in consumers.values() for event in await applied_ids(app, list(recent))}
    newest = [event for event in recent if event in consumed][:5]
    assert newest, "no event of the network service was consumed by another service"
    async with database.session() as session:
        await session.execute(update(outbox).where(outbox.c.id.in_(newest)).values(published_at=None))
    applied_before = {name: await processed(app, newest) for name, app in consumers.items()}

    published = await OutboxRelay(database, platform, network.state.bus).drain()

    assert published == len(newest)  # nothing lost: every unpublished event went out again
    async with database.session() as session:
        left = (await session.execute(select(func.count()).where(outbox.c.published_at.is_(None)))).scalar_one()
    assert left == 0
    applied_after = {name: await processed(app, newest) for name, app in consumers.items()}
    assert applied_after == applied_before  # nothing applied twice: each consumer had them, and drops them
    assert any(applied_before.values()), "no consumer had applied the re-published events"


async def applied_ids(app: Any, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    table = app.state.platform.processed_events
    async with app.state.database.session() as session:
        rows = await session.execute(select(table.c.event_id).where(table.c.event_id.in_(event_ids)))
        return set(rows.scalars())


async def processed(app: Any, event_ids: list[uuid.UUID]) -> dict[str, int]:
    """Per consumer of `app`, how many of these events it has applied (each at most once)."""
    table = app.state.platform.processed_events
    async with app.state.database.session() as session:
        rows = await session.execute(
            select(table.c.consumer, func.count()).where(table.c.event_id.in_(event_ids)).group_by(table.c.consumer)
        )
        return {consumer: count for consumer, count in rows.all()}
