"""Alembic, driven from code: each component keeps its own migration history in `<package>/migrations`.

`upgrade(url, package)` runs from inside a running event loop (sop dev, tests) by handing Alembic a
connection; `env.py` in each component is three lines calling `run_env(metadata)`.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

from sop_shared.db import is_sqlite

FILE_TEMPLATE = "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s"


def alembic_config(package: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files(package) / "migrations"))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _configure(connection: Any, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(metadata: MetaData) -> None:
    """Body of every component's migrations/env.py."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection, metadata)
        return
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    async def online(url: str) -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.begin() as conn:
            await conn.run_sync(_configure, metadata)
        await engine.dispose()

    if url is None:  # _config always sets it; an env.py run by hand without it has nothing to migrate
        raise RuntimeError("alembic config has no sqlalchemy.url")
    asyncio.run(online(url))


async def _with_connection(package: str, url: str, action: Any) -> None:
    if is_sqlite(url):
        from pathlib import Path

        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: Any) -> None:
                config = alembic_config(package, url)
                config.attributes["connection"] = sync_conn
                action(config)

            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(package: str, url: str, revision: str = "heads") -> None:
    """Upgrade to every head: branches made in parallel apply until a merge revision joins them."""
    await _with_connection(package, url, lambda config: command.upgrade(config, revision))


async def downgrade(package: str, url: str, revision: str) -> None:
    await _with_connection(package, url, lambda config: command.downgrade(config, revision))


async def new_revision(package: str, url: str, message: str) -> None:
    """Autogenerate a revision by comparing the models with a database migrated to head."""
    await upgrade(package, url)
    await _with_connection(package, url, lambda config: command.revision(config, message=message, autogenerate=True))


def add_trace_context_columns() -> None:
    """The platform tables' trace columns (every component's `trace_context` migration): each audit record
    keeps the trace id of the request that wrote it, each outbox event the trace context (W3C traceparent)
    of the write that produced it, which the relay sends in the message's headers so the consumer's span
    joins the write's trace (docs/deployment.md, "Tracing"). Both nullable: older rows have none, and a keyed
    audit record's hash covers its trace id only when it has one, so older records verify as they did."""
    import sqlalchemy as sa
    from alembic import op

    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trace_context", sa.String(length=600), nullable=True))


def drop_trace_context_columns() -> None:
    from alembic import op

    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_column("trace_context")
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_column("trace_id")
