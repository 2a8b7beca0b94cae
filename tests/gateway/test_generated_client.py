"""A real third-party client, generated from the gateway's own OpenAPI document, drives a worker's path through
the REST façade: openapi-python-client (unmodified) builds a typed client from what the gateway serves, and its
parsed answers — records, a 422's problem naming the field, a 412's stored version — are what the gateway
sends. If the document lied about a path, a body or an error's media type, the client would fail here."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from sop_gateway.demo.network import DEMO_CASE_BODY
from tests.gateway.test_rest_facade import HARM

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The client package, generated once per module from the gateway's document as the code builds it."""
    from sop_gateway.app import create_app
    from sop_gateway.settings import GatewaySettings

    folder = tmp_path_factory.mktemp("generated-client")
    document = folder / "gateway.openapi.json"
    app = create_app(GatewaySettings(data_dir=folder / "data", environment="test"))
    document.write_text(json.dumps(app.openapi()), encoding="utf-8")
    (folder / "config.yml").write_text("post_hooks: []\n", encoding="utf-8")
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--config",
            str(folder / "config.yml"),
            "--output-path",
            str(folder / "sop_gateway_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # Only the binary child-voice drawings (image/png, image/jpeg) are beyond this generator.
    warnings = [line for line in run.stdout.splitlines() if line.startswith("WARNING parsing")]
    assert all("/attachments" in line for line in warnings), "\n".join(warnings)
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("sop_gateway_client")
    finally:
        sys.path.remove(str(folder))


def _client(package: ModuleType, system: EmbeddedSystem, user: str) -> Any:
    """The generated client as an integrator makes it, on the same in-process transport as the suite's client."""
    transport = httpx.ASGITransport(app=system.gateway)
    return package.AuthenticatedClient(
        base_url=str(system.client.base_url), token=system.token(user), httpx_args={"transport": transport}
    )


def _api(package: ModuleType, module: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{module}")


def _operation(package: ModuleType, group: str, operation_id: str) -> Any:
    """A generated function by its operationId, exactly: short and stable (`sop_shared.openapi.operation_id`)."""
    return _api(package, f"{group}.{operation_id}")


async def test_a_generated_client_follows_a_worker_through_the_facade_with_its_errors(
    system: EmbeddedSystem, demo_case: uuid.UUID, generated: ModuleType
) -> None:
    models = importlib.import_module(f"{generated.__name__}.models")
    worker = _client(generated, system, "fsw.rivera")

    listing = _operation(generated, "assessment_statements", "assessment_statements_list_case_statements")
    page = await listing.asyncio(client=worker, case_id=demo_case)
    assert [s.kind for s in page.items] == ["danger"] and str(page.items[0].case_id) == str(demo_case)

    create = _operation(generated, "assessment_statements", "assessment_statements_create_case_statement")
    harm = models.StatementIn.from_dict(HARM)
    created = await create.asyncio_detailed(client=worker, case_id=demo_case, body=harm)
    assert created.status_code == 201, created.content
    assert created.parsed.kind == "harm" and created.parsed.version == 1

    # 422: the generated client parses the problem+json and the field it names.
    invalid = models.StatementIn.from_dict({**harm.to_dict(), "language": "not a language tag"})
    refused = await create.asyncio_detailed(client=worker, case_id=demo_case, body=invalid)
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.Problem) and refused.parsed.status == 422
    assert any(error.field == "language" for error in refused.parsed.errors)

    # 412: a stale If-Match on SACWIS's upsert; the problem carries the version stored now.
    sacwis = _client(generated, system, "sacwis.sync")
    upsert = _operation(generated, "network_cases", "network_cases_upsert_case_by_external_id")
    body = models.CaseUpsert.from_dict({**DEMO_CASE_BODY, "county": "Saline"})
    stale = await upsert.asyncio_detailed(
        client=sacwis, system="CHRIS", external_id="DEMO-2026-0001", body=body, if_match='"7"'
    )
    assert stale.status_code == 412 and isinstance(stale.parsed, models.Problem)
    assert stale.parsed.current_version == 1
    fresh = await upsert.asyncio_detailed(
        client=sacwis, system="CHRIS", external_id="DEMO-2026-0001", body=body, if_match='"1"'
    )
    assert fresh.status_code == 200 and fresh.parsed.county == "Saline"
