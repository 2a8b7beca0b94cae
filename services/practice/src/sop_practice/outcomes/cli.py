"""`sop practice extract --period 2026 [--county Pulaski] [--out DIR]`: produce the federal extract (NCANDS child file,
AFCARS foster care file) with a progress bar, recorded as an extract job like one started over the API
(`GET /v1/extracts/{id}` shows it and serves its files); with `--out`, the files are written there too."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sop_practice.settings import PracticeSettings


def add_commands(commands: Any) -> None:
    """`sop practice extract` (beside `sop practice rebuild-fidelity`)."""
    extract = commands.add_parser(
        "extract", help="produce the NCANDS/AFCARS federal extract (CSV and Parquet), with a progress bar"
    )
    extract.add_argument("--period", required=True, help="2026 (a year), 2026-Q4 (a quarter) or 2026-11 (a month)")
    extract.add_argument("--county", help="one county (default: the state)")
    extract.add_argument("--out", help="also write the files into this directory")
    extract.add_argument("--by", default="sop practice extract", help="who asked for it (recorded on the job)")
    extract.add_argument("--data-dir")
    extract.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from sop_practice.settings import PracticeSettings

    data_dir = args.data_dir or os.environ.get("SOP_DATA_DIR")
    settings = PracticeSettings(data_dir=Path(data_dir).resolve()) if data_dir else PracticeSettings()
    out = Path(args.out) if args.out else None
    raise SystemExit(asyncio.run(produce_extract(settings, args.period, args.county, out, by=args.by)))


async def produce_extract(
    settings: PracticeSettings, period: str, county: str | None, out: Path | None, *, by: str
) -> int:
    from sqlalchemy import select
    from sqlmodel import col

    from sop_practice.outcomes.jobs import new_job, run_extract_job
    from sop_practice.outcomes.models import ExtractFile
    from sop_shared.aggregates import period_range
    from sop_shared.db import Database
    from sop_shared.progress import ProgressBar

    if period_range(period) is None:
        print("--period: give a year (2026), a quarter (2026-Q4) or a month (2026-11)")
        return 2
    database = Database(settings.resolved_database_url)
    bar = ProgressBar("extract: cases read")
    try:
        async with database.session() as session:
            job = await new_job(session, by, period.strip(), county)
            job_id = job.id if job is not None else None
        if job_id is None:
            print("an extract is already queued or running: see GET /v1/extracts/{id}")
            return 1
        result = await run_extract_job(database, job_id, progress_bar=bar)
        bar.close()
        if result is None:
            print(f"extract {job_id} failed: see GET /v1/extracts/{job_id}")
            return 1
        if out is not None:
            async with database.session() as session:
                files = {
                    name: content
                    for name, content in await session.execute(
                        select(col(ExtractFile.name), col(ExtractFile.content)).where(col(ExtractFile.job_id) == job_id)
                    )
                }
            await asyncio.to_thread(write_files, out, files)
    finally:
        await database.dispose()
    rows = ", ".join(f"{len(found):,} {name} rows" for name, found in result.rows.items())
    print(f"extract {job_id}: {rows or 'no rows'}; {len(result.failures):,} data-quality failures")
    return 0


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)
