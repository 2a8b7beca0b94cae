"""`make bench-views --scale-cases N` COPYs background cases into the network database
(tests/perf/sacwis_rows.py, `copy_background_cases`). Its rows must be rows the service reads as its own, on the
migrated schema: a COPY that no longer matches the migrations fails here, not in the middle of a benchmark."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from sop_shared.testing import InternalTokens, RunningService

PERF = Path(__file__).resolve().parents[1] / "perf"

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def sacwis_rows() -> Any:
    sys.path.insert(0, str(PERF))
    try:
        spec = importlib.util.spec_from_file_location("bench_sacwis_rows", PERF / "sacwis_rows.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(PERF))


async def test_background_cases_are_the_service_s_own_rows_and_fill_up_to_the_size_asked(
    pg_network: RunningService, postgres_database: Any, tokens: InternalTokens, sacwis_rows: Any
) -> None:
    dsn = postgres_database.dsn
    assert await sacwis_rows.copy_background_cases(dsn, 60, chunk=25) == 60
    assert await sacwis_rows.copy_background_cases(dsn, 60, chunk=25) == 0  # already that many
    assert await sacwis_rows.copy_background_cases(dsn, 70, chunk=25) == 10  # numbered on, no repeated ids
    conn = await asyncpg.connect(dsn)
    try:
        cases = await conn.fetchval('SELECT count(DISTINCT external_id) FROM "case" WHERE external_id LIKE $1', "BG-%")
        persons = await conn.fetchval("SELECT count(*) FROM person")
    finally:
        await conn.close()
    assert (cases, persons) == (70, 280)

    # The first 25 are fsw.00000's caseload, as the service lists it to that worker.
    worker = tokens.headers("network", subject="fsw.00000")
    response = await pg_network.client.get("/v1/cases", params={"limit": 50}, headers=worker)
    assert response.status_code == 200, response.text
    listed = {item["external_id"] for item in response.json()["items"]}
    assert listed == {f"BG-C{i:07d}" for i in range(25)}
