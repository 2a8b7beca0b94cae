"""The distributed system for end-to-end tests: the three services and the gateway as separate uvicorn
processes on loopback ports, each service on its own PostgreSQL database, events on NATS JetStream."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import real_services

from sop_shared.dev_identity import mint_dev_token

SERVICES = ("network", "assessment", "plans", "practice")
COMPONENTS = (*SERVICES, "gateway")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DistributedSystem:
    keys_dir: Path
    log_dir: Path
    env: dict[str, str]
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)  # component -> postgresql:// DSN
    # How long a component may take to answer ready (the benchmarks allow more on a busy machine).
    ready_seconds: float = 60
    # The interpreter the components run on: this one, or (make bench-views) one with the image's dependencies.
    python: str = sys.executable

    def url(self, component: str) -> str:
        return f"http://127.0.0.1:{self.ports[component]}"

    @property
    def events_stream(self) -> str:
        """This system's JetStream stream (each system has its own: see running_system)."""
        return self.env["SOP_GATEWAY_EVENTS_STREAM"]

    def wire_subject(self, subject: str) -> str:
        """A subject (`sop.network.case.created`) as this system's components publish it on NATS."""
        return f"{self.env['SOP_GATEWAY_EVENTS_NAMESPACE']}.{subject}"

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    def token(self, user: str) -> str:
        return mint_dev_token(self.keys_dir, user)

    def start(self, *components: str) -> None:
        """Start these components' processes side by side and wait until each answers ready."""
        for component in components:
            log = (self.log_dir / f"{component}.log").open("ab")
            self.processes[component] = subprocess.Popen(
                [self.python, "-m", "sop_shared.cli", "serve", component, "--port", str(self.ports[component])],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # Generous: the soak restarts a service while clients keep it busy, on a machine shared with others
        # (four processes importing at once on two busy cores have taken over a minute;
        # SOP_TEST_E2E_START_SECONDS for a busier machine).
        ready = float(os.environ.get("SOP_TEST_E2E_START_SECONDS", max(self.ready_seconds, 150)))
        deadline = time.monotonic() + ready
        for component in components:
            self._wait_until_ready(component, deadline)

    def _wait_until_ready(self, component: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.processes[component].poll() is not None:
                raise RuntimeError(f"{component} exited: {(self.log_dir / f'{component}.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url(component)}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        log_tail = (self.log_dir / f"{component}.log").read_text()[-3000:]
        raise RuntimeError(f"{component} did not become ready: {log_tail}")

    def stop(self, component: str) -> None:
        process = self.processes.pop(component, None)
        if process is not None and process.poll() is None:
            process.terminate()  # uvicorn finishes the requests in flight first (as Kubernetes allows 30 s)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def running_system(
    postgres_admin_url: str,
    nats_url: str,
    base: Path,
    extra_env: dict[str, str] | None = None,
    ready_seconds: float = 60,
    python: str | None = None,
) -> Iterator[DistributedSystem]:
    """The three services and the gateway as processes on fresh PostgreSQL databases (dropped afterwards)
    and NATS; `extra_env` adds settings (e.g. pool sizes). The e2e tests and the soak (tests/perf/soak.py)
    both start the system here."""
    keys_dir = base / "keys"
    subprocess.run([sys.executable, "-m", "sop_shared.cli", "keys", "init", str(keys_dir)], check=True)
    databases = {
        name: asyncio.run(real_services.create_test_database(postgres_admin_url, prefix=f"e2e_{name}"))
        for name in (*SERVICES, "gateway")
    }
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOP_")}
    # Its own stream and subjects on the shared NATS server: another system running at the same time (a module
    # with its own settings beside the package's) must not take this one's events from its durable consumers.
    events = real_services.unique_name("e2e").replace("-", "_")
    for name in (*SERVICES, "gateway"):
        env[f"SOP_{name.upper()}_EVENTS_STREAM"] = events.upper()
        env[f"SOP_{name.upper()}_EVENTS_NAMESPACE"] = events
    for name in SERVICES:
        prefix = f"SOP_{name.upper()}_"
        env.update(
            {
                prefix + "ENVIRONMENT": "production",
                prefix + "DATABASE_URL": databases[name].url,
                prefix + "EVENTS_URL": nats_url,
                # The relay's default poll (5 s): events reach the other processes because the commit that wrote
                # them wakes the relay (sop_shared.outbox.outbox_written), which these tests rely on.
                prefix + "INTERNAL_JWKS_FILE": str(keys_dir / "internal.jwks.json"),
                prefix + "AUDIT_KEYS_DIR": str(keys_dir / "audit" / name),
                prefix + "AUDIT_SIGNING_KEY_FILE": str(keys_dir / f"audit-{name}.key.pem"),
            }
        )
    env.update(
        {
            "SOP_GATEWAY_ENVIRONMENT": "production",
            "SOP_GATEWAY_DATABASE_URL": databases["gateway"].url,
            "SOP_GATEWAY_INTERNAL_SIGNING_KEY_FILE": str(keys_dir / "internal.key.pem"),
            "SOP_GATEWAY_OIDC_JWKS_FILE": str(keys_dir / "dev-issuer.jwks.json"),
            "SOP_GATEWAY_AUDIT_KEYS_DIR": str(keys_dir / "audit" / "gateway"),
            "SOP_GATEWAY_AUDIT_SIGNING_KEY_FILE": str(keys_dir / "audit-gateway.key.pem"),
            "SOP_GATEWAY_EVENTS_URL": nats_url,
            **{f"SOP_GATEWAY_{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}" for name in SERVICES},
            **(extra_env or {}),
        }
    )
    system = DistributedSystem(
        keys_dir,
        base,
        env,
        ports,
        databases={k: v.dsn for k, v in databases.items()},
        ready_seconds=ready_seconds,
        python=python or sys.executable,
    )
    try:
        # Each component migrated by `sop migrate`, and then started, side by side (four Python processes one
        # after the other are most of the time this takes).
        migrations = {
            name: subprocess.Popen([sys.executable, "-m", "sop_shared.cli", "migrate", name], env=env)
            for name in (*SERVICES, "gateway")
        }
        for name, migration in migrations.items():
            if migration.wait(300) != 0:
                raise RuntimeError(f"sop migrate {name} failed (exit {migration.returncode})")
        system.start(*SERVICES, "gateway")
        yield system
    finally:
        for name in list(system.processes):
            system.stop(name)
        for db in databases.values():
            asyncio.run(real_services.drop_database(postgres_admin_url, db.name))


@pytest.fixture(scope="package")  # one system for every e2e module: each test makes the records it reads
def distributed_system(
    postgres_admin_url: str,
    nats_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DistributedSystem]:
    base = tmp_path_factory.mktemp("e2e")
    # Each process appends its spans to a file of its own (sop_shared.tracing): tests/e2e/test_tracing.py.
    traces = {f"SOP_{name.upper()}_TRACE_FILE": str(base / "traces" / f"{name}.jsonl") for name in COMPONENTS}
    # Checkpoints every half second (60 s in production, and in the benchmarks that start the system here):
    # tests/e2e/test_audit_distributed.py waits for the chain heads' signed checkpoints.
    checkpoints = {f"SOP_{name.upper()}_AUDIT_CHECKPOINT_SECONDS": "0.5" for name in COMPONENTS}
    with running_system(postgres_admin_url, nats_url, base, extra_env=traces | checkpoints) as system:
        yield system


@pytest.fixture
async def gateway_client(distributed_system: DistributedSystem) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=distributed_system.gateway, timeout=15) as client:
        yield client


@pytest.fixture(scope="package")
def own_system() -> Any:
    """`running_system` for a module that needs a system with its own settings (`extra_env`), e.g. a policy
    with short times: `with own_system(postgres_admin_url, nats_url, base, extra_env) as system: …`."""
    return running_system
