"""schemathesis, unmodified, against the gateway process: every operation of the gateway's published OpenAPI
document (its own paths and the REST façade's), called with generated input by a worker on a real case, must
answer without a server error, with a status the document declares, the media type it declares and a body
that matches its schema. Bounded (a few examples per operation, a fixed seed) so it fits in CI; a failure
prints schemathesis's own report with the curl command that reproduces it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.e2e.test_distributed_case_view import CASE_BODY

if TYPE_CHECKING:
    from tests.e2e.conftest import DistributedSystem

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "contract" / "gateway.openapi.json"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.timeout(900)
async def test_schemathesis_finds_no_server_error_and_no_answer_the_document_does_not_declare(
    distributed_system: DistributedSystem, tmp_path: Path
) -> None:
    system = distributed_system
    external_id = f"E2E-ST-{uuid.uuid4().hex[:8]}"
    body = {
        **CASE_BODY,
        "members": [
            {**m, "person": {**m["person"], "external_id": f"{external_id}-{i}"}}
            for i, m in enumerate(CASE_BODY["members"])
        ],
    }
    async with httpx.AsyncClient(base_url=system.gateway, timeout=30) as client:
        created = await client.put(
            f"/api/network/v1/cases/by-external/CHRIS/{external_id}",
            json=body,
            headers={"Authorization": f"Bearer {system.token('sacwis.sync')}"},
        )
    assert created.status_code in (200, 201), created.text
    case_id = created.json()["id"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.case_id" = "{case_id}"\n', encoding="utf-8")
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(config),
            "run",
            str(DOCUMENT),
            "--url",
            system.gateway,
            "-H",
            f"Authorization: Bearer {system.token('fsw.rivera')}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "3",
            "--seed",
            "20261206",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--workers",
            "1",
            "--continue-on-failure",
        ],
        capture_output=True,
        text=True,
        timeout=840,
        cwd=tmp_path,
    )
    report = run.stdout + run.stderr
    failures = report[report.find("FAILURES") : report.find("SUMMARY")] if "FAILURES" in report else report
    assert run.returncode == 0, failures[:12000]
    assert "Tested:" in report, report[-4000:]
