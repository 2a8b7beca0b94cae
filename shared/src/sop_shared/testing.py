"""Test support every component's tests use: run a component's app on a real database, call it over
HTTP (ASGI transport), and mint internal tokens as the gateway would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from sop_shared.auth import InternalTokenMinter, Principal
from sop_shared.component import Component
from sop_shared.events import EventBus, InProcessBus
from sop_shared.keys import INTERNAL_JWKS_FILE, INTERNAL_KEY_FILE, ensure_keys, load_signing_key
from sop_shared.migrations import upgrade
from sop_shared.policy import ActorType, scopes_for
from sop_shared.service import running


@dataclass
class InternalTokens:
    """Mints internal tokens with the test key pair, for any principal, audience and case."""

    keys_dir: Path

    def __post_init__(self) -> None:
        ensure_keys(self.keys_dir)
        self.minter = InternalTokenMinter(load_signing_key(self.keys_dir / INTERNAL_KEY_FILE))

    @property
    def jwks_file(self) -> Path:
        return self.keys_dir / INTERNAL_JWKS_FILE

    def principal(
        self,
        subject: str = "fsw.rivera",
        *,
        actor_type: ActorType = ActorType.staff,
        roles: Iterable[str] = ("worker",),
        scopes: Iterable[str] | None = None,
        case_id: uuid.UUID | None = None,
        agency: str | None = "DCFS",
    ) -> Principal:
        roles = frozenset(roles)
        held = frozenset(scopes) if scopes is not None else frozenset(s.value for s in scopes_for(actor_type, roles))
        return Principal(
            subject=subject, actor_type=actor_type, roles=roles, scopes=held, agency=agency, case_id=case_id
        )

    def headers(self, audience: str, principal: Principal | None = None, **kwargs: Any) -> dict[str, str]:
        principal = principal or self.principal(**kwargs)
        return {"Authorization": f"Bearer {self.minter.mint(principal, audience=audience)}"}


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    bus: EventBus
    database_url: str


Migrate = Callable[[str, str], Awaitable[None]]
"""Brings a database to a component's head revision: ``migrate(package, database_url)``, like ``upgrade``."""


@asynccontextmanager
async def run_component(
    component: Component,
    *,
    database_url: str,
    tokens: InternalTokens,
    data_dir: Path,
    bus: EventBus | None = None,
    migrate: Migrate = upgrade,
    **settings: Any,
) -> AsyncIterator[RunningService]:
    """Migrate a fresh database, start the component's app (lifespan included), yield an HTTP client.

    ``migrate`` lets a test suite copy a schema it migrated once instead of migrating every test's database
    (tests/real_services.MigratedTemplates)."""
    await migrate(component.package, database_url)
    bus = bus or InProcessBus()
    config = component.settings_class(
        database_url=database_url,
        data_dir=data_dir,
        environment="test",
        events_url="memory://",
        internal_jwks_file=tokens.jwks_file,
        relay_interval_seconds=0.05,
        log_json=False,
        **settings,
    )
    app = component.create_app(config, bus=bus)
    async with (
        running(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=f"http://{component.name}",
        ) as client,
    ):
        yield RunningService(app, client, bus, database_url)


async def migration_differences(component: Component, database_url: str) -> list[Any]:
    """What Alembic's autogenerate finds between the component's models and its migrations run to head on
    `database_url` (empty when every model change has its migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    await upgrade(component.package, database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return list(compare_metadata(context, component.metadata))

            return await conn.run_sync(diff)
    finally:
        await engine.dispose()
