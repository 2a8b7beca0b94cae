"""`sop practice extract` as an operator runs it (issue 15, parts 5 and 7): a separate process produces the federal
extract from the practice service's read model with a progress bar, records it as a job (as one started over the
API) and writes its files. `sop network extract` says where it went."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from reporting_facts_events import announced
from sqlalchemy import select

from sop_practice.component import component
from sop_practice.outcomes.models import ExtractJob
from sop_shared.db import Database
from sop_shared.testing import InternalTokens, run_component

Run = Callable[..., Any]


def family(n: int) -> dict[str, Any]:
    """A fictional family with a report disposed of in 2025 and a child removed and home again."""
    return {
        "case_type": "investigation",
        "county": "Benton",
        "opened_on": "2025-02-01",
        "members": [
            {"role": "caregiver", "person": {"external_id": f"P-{n}-1", "first_name": "Ana", "last_name": "Doe"}},
            {
                "role": "child",
                "person": {
                    "external_id": f"P-{n}-2",
                    "first_name": "Lia",
                    "last_name": "Doe",
                    "date_of_birth": "2017-03-03",
                },
            },
        ],
        "reports": [{"external_id": f"R-{n}", "received_on": "2025-01-30", "disposition_on": "2025-03-01"}],
        "removals": [
            {
                "external_id": f"RM-{n}",
                "child": f"P-{n}-2",
                "removed_on": "2025-02-10",
                "discharged_on": "2025-06-10",
                "discharge_reason": "reunification",
            }
        ],
    }


async def test_the_extract_from_the_command_line_with_a_progress_bar(
    sop: Run, tmp_path: Path, sqlite_database_url: str, tokens: InternalTokens
) -> None:
    async with run_component(component, database_url=sqlite_database_url, tokens=tokens, data_dir=tmp_path) as svc:
        for n in range(12):  # as the network announces them
            for event in announced(uuid.uuid5(uuid.NAMESPACE_URL, f"case:C-{n}"), f"C-{n}", family(n)):
                await svc.bus.publish(event)
    out = tmp_path / "extract"
    env = {"SOP_PRACTICE_DATABASE_URL": sqlite_database_url, "SOP_PRACTICE_DATA_DIR": str(tmp_path / "data")}
    done = sop("practice", "extract", "--period", "2025", "--county", "Benton", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert "12/12" in done.stderr and "100%" in done.stderr  # the bar, finished
    assert "12 ncands_child rows, 12 afcars_foster_care rows; 0 data-quality failures" in done.stdout
    rows = list(csv.DictReader(io.StringIO((out / "afcars_foster_care.csv").read_text(encoding="utf-8"))))
    table = pq.read_table(out / "afcars_foster_care.parquet")
    assert len(rows) == table.num_rows == 12 and {r["FIPSCODE"] for r in rows} == {"05007"}
    database = Database(sqlite_database_url)
    try:
        async with database.session() as session:
            [job] = (await session.execute(select(ExtractJob))).scalars()
    finally:
        await database.dispose()
    assert (job.status, job.records_done, job.records_total, job.requested_by) == (
        "succeeded",
        12,
        12,
        "sop practice extract",
    )
    refused = sop("practice", "extract", "--period", "FY25", env=env)
    assert refused.returncode == 2 and "--period" in refused.stdout
    moved = sop("network", "extract", "--period", "2025", env=env)
    assert moved.returncode == 2 and "sop practice extract --period 2025" in moved.stderr
