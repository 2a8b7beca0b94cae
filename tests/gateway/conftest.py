"""The embedded system for gateway tests, built in the test the way `sop dev` builds it: the three services
and the gateway in this process on an in-process bus, each component on its own database (four SQLite
files, or four fresh PostgreSQL databases on the real server), reached over HTTP through an ASGI transport.

Fixtures
    gateway_backend   parametrized ``sqlite`` / ``postgres``: the four database URLs
    system            the running embedded system on ``gateway_backend`` (both backends)
    sqlite_system     the same on SQLite only, for checks that do not depend on the database
    start_system      factory: ``async with start_system(**gateway_settings) as system`` (SQLite);
                      ``start_system(demo_family=True, ...)`` starts it with the demo family (``system.demo_case``)
    demo_case         ``system`` with the demo family seeded (its case id)
    sqlite_demo_case  ``sqlite_system`` with the demo family seeded (its case id)

Every database is a copy: of schemas migrated once per session (``database_templates``), or of four databases
migrated and seeded with the demo family once per session and backend (``gateway_templates``). On PostgreSQL the
copies are reused from test to test, put back as their template had them (``real_services.ReusedCopies``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import real_services
from fastapi import FastAPI
from sqlalchemy import func, select

from sop_assessment.component import component as assessment_component
from sop_gateway.component import component as gateway_component
from sop_gateway.demo import seed_demo_family
from sop_gateway.models import platform
from sop_gateway.settings import GatewaySettings
from sop_network.component import component as network_component
from sop_plans.component import component as plans_component
from sop_practice.component import component as practice_component
from sop_shared.audit import ChainVerdict
from sop_shared.audit_keys import audit_keys_dir, audit_signing_key_file, ensure_audit_keys
from sop_shared.dev_identity import mint_dev_token
from sop_shared.events import EventBus, InProcessBus
from sop_shared.keys import DEV_ISSUER_JWKS_FILE, INTERNAL_KEY_FILE, ensure_keys
from sop_shared.migrations import upgrade
from sop_shared.service import running
from sop_shared.testing import Migrate

SERVICE_COMPONENTS = {
    "network": network_component,
    "assessment": assessment_component,
    "plans": plans_component,
    "practice": practice_component,
}
COMPONENTS = (*SERVICE_COMPONENTS, "gateway")

CASE_VIEW = """query($id: ID!, $audience: Audience = STAFF) { caseView(caseId: $id, audience: $audience) {
  case { recordId externalSystem externalId county status }
  children { firstName lastName role }
  caregivers { firstName relationshipToChildren needsInterpreter preferredLanguage }
  worries { harm { recordId }
    danger { recordId kind text threatCodes plainLanguage { language readingGrade findings { code } } } }
  safetyPlan { recordId planType status title rules { text threatCode responsible monitors frequency howVerified } }
} }"""


@dataclass
class EmbeddedSystem:
    """The gateway app (lifespan running) with the three service apps behind it, and a client for it."""

    gateway: FastAPI
    services: dict[str, FastAPI]
    client: httpx.AsyncClient
    data_dir: Path
    database_urls: dict[str, str]
    demo_case: uuid.UUID | None = None  # set when the system was started from the seeded template

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    def token(self, user: str, **kwargs: Any) -> str:
        return mint_dev_token(self.keys_dir, user, **kwargs)

    def bearer(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    async def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        user: str | None = "fsw.rivera",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {**(self.bearer(user) if user else {}), **(headers or {})}
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )

    async def case_view(self, case_id: Any, *, user: str = "fsw.rivera", audience: str = "STAFF") -> dict[str, Any]:
        response = await self.graphql(CASE_VIEW, {"id": str(case_id), "audience": audience}, user=user)
        assert response.status_code == 200, response.text
        return response.json()

    async def events_delivered(self) -> None:
        """Wait until every service has published (and so delivered, on the in-process bus) what it wrote:
        the gateway's access cache has then heard of every change."""
        await _outbox_drained(self)

    def forget_access_decisions(self, ttl_seconds: float | None = None) -> None:
        """A cold access cache, as if the last decision had expired; `ttl_seconds` for a test that must not
        depend on how fast a loaded machine answers (the default lifetime is a few seconds)."""
        self.gateway.state.access_cache = type(self.gateway.state.access_cache)(
            ttl_seconds=ttl_seconds or self.gateway.state.settings.access_cache_seconds,
            on_denied=self.gateway.state.access_cache.on_denied,
        )

    async def audit_rows(self) -> list[Any]:
        async with self.gateway.state.database.session() as session:
            return list((await session.execute(select(platform.audit).order_by(platform.audit.c.seq))).all())

    async def verify_audit_chain(self) -> ChainVerdict:
        """The gateway's keyed chain, compared with its newest signed checkpoint (if it published one)."""
        return await self.gateway.state.audit_trail.verify()


def sqlite_urls(directory: Path) -> dict[str, str]:
    return {name: f"sqlite+aiosqlite:///{(directory / f'{name}.db').as_posix()}" for name in COMPONENTS}


@asynccontextmanager
async def embedded_system(
    data_dir: Path,
    database_urls: dict[str, str],
    *,
    production: bool = False,
    migrate: Migrate = upgrade,
    bus: EventBus | None = None,
    **gateway_settings: Any,
) -> AsyncIterator[EmbeddedSystem]:
    """What `sop dev` does, minus uvicorn: keys, migrations, apps on one in-process bus, lifespans running.

    `migrate` is Alembic's upgrade unless the test passes `database_templates.migrate`, which copies each
    component's schema migrated once per session into databases nothing has been written to yet.

    `bus`: the one event bus every component shares (default: in-process; a test may pass NATS JetStream).

    `production=True` runs the gateway with production settings (every required one given: the keys and the
    dev issuer's JWKS as files, service URLs that are never dialled because the service apps are passed)."""
    keys = data_dir / "keys"
    ensure_keys(keys)
    if production:
        ensure_audit_keys(keys, "gateway")
        gateway_settings = {
            "environment": "production",
            "internal_signing_key_file": keys / INTERNAL_KEY_FILE,
            "audit_keys_dir": audit_keys_dir(keys, "gateway"),
            "audit_signing_key_file": audit_signing_key_file(keys, "gateway"),
            "oidc_jwks_file": keys / DEV_ISSUER_JWKS_FILE,
            "network_url": "http://network.invalid",
            "assessment_url": "http://assessment.invalid",
            "plans_url": "http://plans.invalid",
            "practice_url": "http://practice.invalid",
            **gateway_settings,
        }
    bus = bus if bus is not None else InProcessBus()
    for name, component in (*SERVICE_COMPONENTS.items(), ("gateway", gateway_component)):
        await migrate(component.package, database_urls[name])
    services = {
        name: component.create_app(
            component.settings_class(
                data_dir=data_dir,
                database_url=database_urls[name],
                environment="development",
                events_url="memory://",
                relay_interval_seconds=0.05,
                log_json=False,
            ),
            bus=bus,
        )
        for name, component in SERVICE_COMPONENTS.items()
    }
    settings = GatewaySettings(
        **{
            "environment": "development",
            "data_dir": data_dir,
            "database_url": database_urls["gateway"],
            "log_json": False,
            **gateway_settings,
        }
    )
    gateway = gateway_component.create_app(settings, bus=bus, service_apps=services)
    async with AsyncExitStack() as stack:
        for app in [*services.values(), gateway]:
            await stack.enter_async_context(running(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway")
        )
        yield EmbeddedSystem(gateway, services, client, data_dir, database_urls)


@pytest.fixture(autouse=True)
def _no_sop_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test alone, never from SOP_* variables of the shell running it."""
    for name in [
        n for n in os.environ if n.startswith("SOP_") and n not in ("SOP_TEST_POSTGRES_URL", "SOP_TEST_NATS_URL")
    ]:
        monkeypatch.delenv(name)


@dataclass
class Template:
    """Four databases migrated once (and, for the "demo" kind, with the demo family seeded), copied for each
    test: SQLite files are copied, PostgreSQL databases are made with CREATE DATABASE … TEMPLATE."""

    data_dir: Path
    database_urls: dict[str, str]
    demo_case: uuid.UUID | None = None


class Templates:
    """Built lazily the first time a test asks for one kind on one backend; dropped at the end of the session.
    Migrating four databases and seeding the demo family through the API costs seconds; a copy costs little."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.built: dict[tuple[str, str], Template] = {}
        self.admin_url: str | None = None

    async def get(self, backend: str, kind: str, request: pytest.FixtureRequest, migrate: Migrate) -> Template:
        if (backend, kind) not in self.built:
            directory = self.base / f"{backend}-{kind}"
            directory.mkdir(parents=True)
            if backend == "sqlite":
                urls = sqlite_urls(directory)
            else:
                self.admin_url = request.getfixturevalue("postgres_admin_url")
                urls = {
                    name: (await real_services.create_test_database(self.admin_url, prefix=f"gwt_{name}")).url
                    for name in COMPONENTS
                }
            demo_case = None
            async with embedded_system(directory / "data", urls, migrate=migrate) as template_system:
                if kind == "demo":
                    demo_case = await seed_demo_family(template_system.gateway)
                    await _outbox_drained(template_system)
            self.built[(backend, kind)] = Template(directory / "data", urls, demo_case)
        return self.built[(backend, kind)]

    async def copy(
        self, template: Template, backend: str, destination: Path, copies: real_services.ReusedCopies | None = None
    ) -> dict[str, str]:
        """Databases holding what the template's hold; on PostgreSQL ones given back by earlier tests (``copies``,
        see `gateway_backend`) where there are."""
        shutil.copytree(template.data_dir, destination / "data")
        if backend == "sqlite":
            urls = sqlite_urls(destination)
            for name in COMPONENTS:
                source = Path(template.database_urls[name].split(":///", 1)[1])
                for suffix in ("", "-wal", "-shm"):
                    if Path(f"{source}{suffix}").exists():
                        shutil.copyfile(f"{source}{suffix}", f"{urls[name].split(':///', 1)[1]}{suffix}")
            return urls
        assert self.admin_url is not None and copies is not None
        admin_url = self.admin_url
        # The four (and the four given back, in `gateway_backend`) side by side: the server works in parallel.
        made = await asyncio.gather(*(copies.take(admin_url, template.database_urls[name]) for name in COMPONENTS))
        return {name: db.url for name, db in zip(COMPONENTS, made, strict=True)}

    def drop_all(self) -> None:
        if self.admin_url is None:
            return
        admin_url = self.admin_url

        async def drop() -> None:
            for (backend, _kind), template in self.built.items():
                if backend == "postgres":
                    for url in template.database_urls.values():
                        await real_services.drop_database(admin_url, url)

        try:
            asyncio.run(drop())
        except (OSError, RuntimeError) as exc:  # a throwaway server may already be gone with its databases
            print(f"gateway templates not dropped: {exc}")


async def _outbox_drained(system: EmbeddedSystem, timeout: float = 60.0) -> None:
    """Wait until every service's relay has published what seeding wrote, so copies start quiet; a relay that
    has not caught up by the timeout fails the test, naming the service (a test reading on would see too little)."""
    deadline = asyncio.get_running_loop().time() + timeout
    for name, app in system.services.items():
        database, outbox = app.state.database, app.state.audit.tables.outbox
        while True:
            async with database.session() as session:
                pending = (
                    await session.execute(
                        select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                    )
                ).scalar_one()
            if not pending:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{name}: {pending} events still unpublished after {timeout:.0f} s")
            await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
def gateway_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    templates = Templates(tmp_path_factory.mktemp("gateway-templates"))
    yield templates
    templates.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def gateway_backend(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    gateway_templates: Templates,
    database_templates: real_services.MigratedTemplates,
) -> AsyncIterator[dict[str, str]]:
    """Four databases, one per component: SQLite files in tmp_path, or databases on the real PostgreSQL (reused
    copies) — holding what the migrated templates hold; with the demo family already seeded when the test asks
    for `demo_case`."""
    kind = "demo" if "demo_case" in request.fixturenames else "migrated"
    template = await gateway_templates.get(request.param, kind, request, database_templates.migrate)
    copies = database_templates.copies
    urls = await gateway_templates.copy(template, request.param, tmp_path, copies)
    request.node.sop_demo_case = template.demo_case
    try:
        yield urls
    finally:
        if request.param == "postgres":  # emptied and refilled from the template, for the next test
            await asyncio.gather(*(copies.give_back(url) for url in urls.values()))


async def _migrated_by_the_template(package: str, database_url: str) -> None:
    """The copies `gateway_backend` hands out are of databases migrated this session: nothing to do."""


@pytest.fixture
async def system(gateway_backend: dict[str, str], tmp_path: Path) -> AsyncIterator[EmbeddedSystem]:
    async with embedded_system(tmp_path / "data", gateway_backend, migrate=_migrated_by_the_template) as running_system:
        yield running_system


@pytest.fixture
async def sqlite_system(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    gateway_templates: Templates,
    database_templates: real_services.MigratedTemplates,
) -> AsyncIterator[EmbeddedSystem]:
    if "sqlite_demo_case" in request.fixturenames:
        template = await gateway_templates.get("sqlite", "demo", request, database_templates.migrate)
        urls = await gateway_templates.copy(template, "sqlite", tmp_path)
        migrate: Migrate = _migrated_by_the_template
    else:
        template, urls, migrate = None, sqlite_urls(tmp_path), database_templates.migrate
    async with embedded_system(tmp_path / "data", urls, migrate=migrate) as running_system:
        running_system.demo_case = template.demo_case if template is not None else None
        yield running_system


@pytest.fixture
def sqlite_demo_case(sqlite_system: EmbeddedSystem) -> uuid.UUID:
    """The demo family's case in `sqlite_system`: seeded once into the template its databases copy."""
    assert sqlite_system.demo_case is not None
    return sqlite_system.demo_case


@pytest.fixture
def start_system(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    gateway_templates: Templates,
    database_templates: real_services.MigratedTemplates,
) -> Callable[..., Any]:
    """Start another embedded system on SQLite with other gateway settings (each call gets fresh files, copies
    of the schemas migrated once per session; with ``demo_family=True`` copies of the seeded template)."""

    @asynccontextmanager
    async def seeded(base: Path, **gateway_settings: Any) -> AsyncIterator[EmbeddedSystem]:
        template = await gateway_templates.get("sqlite", "demo", request, database_templates.migrate)
        urls = await gateway_templates.copy(template, "sqlite", base)
        async with embedded_system(
            base / "data", urls, migrate=_migrated_by_the_template, **gateway_settings
        ) as running_system:
            running_system.demo_case = template.demo_case
            yield running_system

    def start(*, demo_family: bool = False, **gateway_settings: Any) -> Any:
        base = tmp_path / f"custom-{uuid.uuid4().hex[:8]}"
        base.mkdir()
        if demo_family:
            return seeded(base, **gateway_settings)
        return embedded_system(base / "data", sqlite_urls(base), migrate=database_templates.migrate, **gateway_settings)

    return start


@pytest.fixture
async def demo_case(system: EmbeddedSystem, request: pytest.FixtureRequest) -> uuid.UUID:
    """The demo family's case: seeded once per backend into the template this test's databases copy."""
    case_id: uuid.UUID | None = getattr(request.node, "sop_demo_case", None)
    return case_id if case_id is not None else await seed_demo_family(system.gateway)
