"""Suite-wide fixtures: a real PostgreSQL and a real NATS JetStream (see tests/real_services.py).

Fixtures
    postgres_admin_url     session   ``postgresql://`` DSN of the server (``$SOP_TEST_POSTGRES_URL`` or a
                                     throwaway pgserver started on first use, stopped at session end)
    postgres_database      function  a database for this test (``.name``, ``.dsn`` postgresql://, ``.url``
                                     postgresql+asyncpg://). Empty (made for the test; afterwards everyone is
                                     disconnected and it is dropped with the others at the end of the session,
                                     ``real_services.retire_database``) unless the test starts a component
                                     through a fixture named in ``MigratedTemplates.COMPONENT_FIXTURES``: then
                                     a copy of its migrated schema, reused by the next test once this one gave it
                                     back (see Isolation)
    postgres_database_url  function  ``postgres_database.url`` (SQLAlchemy asyncpg URL)
    sqlite_database_url    function  ``sqlite+aiosqlite:///<tmp_path>/test.db``
    database_url           function  parametrized ``sqlite`` / ``postgres``: one of the two above (see Backends)
    database_templates     session   ``real_services.MigratedTemplates``: pass its ``migrate`` to
                                     ``run_component`` so a fresh database gets a copy of the component's
                                     schema migrated once per session (SQLite file copy, PostgreSQL
                                     ``CREATE DATABASE … TEMPLATE``) instead of a migration of its own
    nats_url               session   ``$SOP_TEST_NATS_URL`` or a throwaway ``nats-server -js`` started on
                                     first use; JetStream state is shared, so use unique stream names
                                     (``real_services.unique_name``)
    log_lines              function  every log line of the process (one JSON object each) in a ``StringIO``

Isolation
    Every test gets databases of its own, holding exactly what a freshly migrated (or, for the gateway's
    ``demo_case``, freshly seeded) database holds; nothing a test writes is seen by another. Each schema is
    migrated once per session into a template. SQLite: the template's file is copied (milliseconds).
    PostgreSQL: a copy of the template (``CREATE DATABASE … TEMPLATE``) is handed to one test at a time and
    reused: when the test is done every table is emptied and the template's rows (``alembic_version``, rows
    the migrations seed) and sequence values are put back (``real_services.ReusedCopies``; a copy whose schema
    the test changed is dropped instead). That costs tens of milliseconds where dropping and copying a database
    cost half a second on a durable server. The gateway's embedded system (tests/gateway/conftest.py) takes its
    four databases the same way; tests that build a system per module (the access matrix, the case boundary)
    isolate their checks by the records and cases each one makes.

Backends
    A test that takes ``database_url`` (or the gateway's ``gateway_backend``, or a module's system
    parametrized the same way) is collected once per backend, ``[sqlite]`` and ``[postgres]``. By default the
    whole set runs on PostgreSQL and a chosen part runs on SQLite too: every test marked ``sqlite_smoke`` (by
    the test, or by ``pytestmark`` for a whole module). That part is every test of code that differs on SQLite
    — the database layer, the SQLite outbox relay, idempotency and the audit chain (tests/shared), the SACWIS
    batch's lookups, the change feed, readiness, migrations, partial indexes, timestamps compared in SQL, the
    services' relays feeding each other in the embedded system — and a smoke set of each service's main paths.
    Tests that only ever run on SQLite (``sqlite_database_url``, ``sqlite_system``, ``start_system``,
    ``sop dev``) always run. Every SQLite variant is marked ``sqlite`` automatically.

    ``pytest --sqlite-matrix=full`` runs every test on both backends (``-m sqlite`` with it: every SQLite
    variant and nothing else). Mark a new test ``sqlite_smoke`` when what it checks could differ on SQLite.

Servers start only when a selected test needs them. Tests needing PostgreSQL get the ``postgres`` marker
and tests needing NATS the ``nats`` marker automatically, so ``pytest -m "not postgres and not nats"`` is a
quick local run. Nothing skips when a server is missing: the tests error out with the reason.
(A fixture that pulls these in dynamically via ``request.getfixturevalue`` is invisible to the automatic
marking; request them as arguments, or mark the test yourself.)

Keep this file service-agnostic; per-service fixtures belong in tests/<folder>/conftest.py.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

import real_services  # noqa: E402

from sop_shared.observability import configure_logging  # noqa: E402
from sop_shared.testing import InternalTokens  # noqa: E402

POSTGRES_FIXTURES = frozenset({"postgres_admin_url", "postgres_database", "postgres_database_url"})
NATS_FIXTURES = frozenset({"nats_url"})

_MARKERS = {
    "postgres": "needs a real PostgreSQL",
    "nats": "needs a real NATS JetStream server",
    "sqlite": "the SQLite variant of a test that runs on PostgreSQL too (marked automatically)",
    "sqlite_smoke": "keep this test's SQLite variant in the default run (see tests/conftest.py)",
}
SQLITE_MATRIX_OPTION = "--sqlite-matrix"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        SQLITE_MATRIX_OPTION,
        choices=("smoke", "full"),
        default="smoke",
        help="smoke (default): a test that runs on both backends runs on SQLite too only when marked "
        "sqlite_smoke; full: every such test runs on SQLite too",
    )


def _is_sqlite_variant(item: pytest.Item) -> bool:
    """A test parametrized over the backends (``database_url``, ``gateway_backend``, a module's system), on SQLite."""
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "sqlite" in callspec.params.values()


def pytest_configure(config: pytest.Config) -> None:
    registered = {line.split(":", 1)[0].strip() for line in config.getini("markers")}
    for name, help_text in _MARKERS.items():
        if name not in registered:
            config.addinivalue_line("markers", f"{name}: {help_text}")


@pytest.hookimpl(tryfirst=True)  # before -m deselection looks at the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if names & POSTGRES_FIXTURES or params.get("database_url") == "postgres":
            item.add_marker(pytest.mark.postgres)
        if names & NATS_FIXTURES:
            item.add_marker(pytest.mark.nats)
        if _is_sqlite_variant(item):
            item.add_marker(pytest.mark.sqlite)
    if config.getoption(SQLITE_MATRIX_OPTION) == "smoke":  # see "Backends" in the module docstring
        kept: list[pytest.Item] = []
        left_out: list[pytest.Item] = []
        for item in items:
            smoke = item.get_closest_marker("sqlite_smoke") is not None
            (left_out if _is_sqlite_variant(item) and not smoke else kept).append(item)
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = kept


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: only called when the run is spread over workers
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` keeps each module on one worker (its module-scoped system is built once); the e2e
    modules share one distributed system (package scope) and read JetStream's shared ``SOP`` stream, so they
    are kept on one worker too."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesAndTheDistributedSystem(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "tests/e2e" if nodeid.startswith("tests/e2e/") else super()._split_scope(nodeid)

    return ModulesAndTheDistributedSystem(config, log)


# The name of the test's own PostgreSQL database (`postgres_database`), for its report when it fails.
TEST_DATABASE = pytest.StashKey[str]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test that used PostgreSQL reports what the server was doing then: a 503 "the database is busy"
    is a statement that waited out its timeout (behind a lock the report names, or on the disk)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("call", "teardown") and item.get_closest_marker("postgres") is not None:
        admin_url = real_services.postgres_in_use()
        if admin_url is not None:
            own = item.stash.get(TEST_DATABASE, None)
            heading = f"this test's database: {own}\n" if own is not None else ""
            activity = real_services.server_activity(admin_url, own)
            report.sections.append(("PostgreSQL at the failure", heading + activity))


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    yield real_services.postgres_admin_url()
    try:
        asyncio.run(real_services.drop_retired())  # no event loop runs while session fixtures are torn down
    finally:
        real_services.stop_postgres()


@pytest.fixture
async def postgres_database(
    postgres_admin_url: str, request: pytest.FixtureRequest, database_templates: real_services.MigratedTemplates
) -> AsyncIterator[real_services.TestDatabase]:
    prefix = request.node.originalname
    package = database_templates.component_started_by(request.fixturenames)
    if package is None:
        db = await real_services.create_test_database(postgres_admin_url, prefix=prefix)
        request.node.stash[TEST_DATABASE] = db.name
        yield db
        await real_services.retire_database(postgres_admin_url, db.name)  # dropped with the others later
        return
    # The test's fixture would migrate it first thing: a copy of the migrated schema at once, reused by the
    # next test of the same component once this one is done (its rows emptied, the template's put back).
    db = await database_templates.create_copy(postgres_admin_url, package)
    request.node.stash[TEST_DATABASE] = db.name
    yield db
    await database_templates.give_back(db)


@pytest.fixture
def postgres_database_url(postgres_database: real_services.TestDatabase) -> str:
    return postgres_database.url


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    # getfixturevalue, so PostgreSQL is started only for the "postgres" variant
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database_url")
    return request.getfixturevalue("postgres_database_url")


@pytest.fixture(scope="session")
async def database_templates(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[real_services.MigratedTemplates]:
    # The server is looked up only when a PostgreSQL database is migrated (by then `postgres_admin_url` has
    # started it), so a SQLite-only run starts none.
    templates = real_services.MigratedTemplates(
        tmp_path_factory.mktemp("migrated-templates"), real_services.postgres_admin_url
    )
    yield templates
    await templates.drop_all()


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    yield real_services.nats_url()
    real_services.stop_nats()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis the rate-limit tests count in (tests/real_services.py); fails, never skips, without one."""
    return real_services.redis_url()


@pytest.fixture
def tokens(tmp_path: Path) -> InternalTokens:
    """Internal tokens as the gateway mints them, signed by a key pair made for this test."""
    return InternalTokens(tmp_path / "keys")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line of the process, as the operator would read it (one JSON object each), in a buffer; stderr
    again afterwards."""
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)
    try:
        yield buffer
    finally:
        configure_logging("INFO")
