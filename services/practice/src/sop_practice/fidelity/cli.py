"""`sop practice rebuild-fidelity`: rebuild the fidelity read model from the event stream, with a progress bar,
recorded as a rebuild job like one started over the API (`GET /v1/fidelity/rebuilds/{id}` shows it)."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sop_practice.outcomes.cli import add_commands as add_extract_command

if TYPE_CHECKING:
    from sop_practice.settings import PracticeSettings


def register(subparsers: Any) -> None:
    practice = subparsers.add_parser("practice", help="the practice service's operations")
    commands = practice.add_subparsers(dest="practice_command", required=True)
    rebuild = commands.add_parser(
        "rebuild-fidelity",
        help="rebuild the fidelity read model from the event stream (NATS JetStream), with a progress bar",
    )
    rebuild.add_argument("--data-dir")
    rebuild.set_defaults(run=run)
    add_extract_command(commands)


def run(args: argparse.Namespace) -> None:
    from sop_practice.settings import PracticeSettings

    data_dir = args.data_dir or os.environ.get("SOP_DATA_DIR")
    settings = PracticeSettings(data_dir=Path(data_dir).resolve()) if data_dir else PracticeSettings()
    raise SystemExit(asyncio.run(rebuild_fidelity(settings)))


async def rebuild_fidelity(settings: PracticeSettings) -> int:
    from sop_practice.fidelity.service import new_job, run_rebuild_job
    from sop_shared.db import Database
    from sop_shared.events import connect_bus
    from sop_shared.progress import ProgressBar

    if settings.events_url.startswith("memory://"):
        print(
            "the events are in the running `sop dev` process (an in-process bus): rebuild there, with "
            "POST /api/practice/v1/fidelity/rebuilds (practice lead or training coordinator)"
        )
        return 2
    database = Database(settings.resolved_database_url)
    bus = await connect_bus(settings.events_url, stream=settings.events_stream, namespace=settings.events_namespace)
    bar = ProgressBar("fidelity: events read")
    try:
        async with database.session() as session:
            job = await new_job(session, "sop practice rebuild-fidelity")
            job_id = job.id if job is not None else None
        if job_id is None:
            print("a rebuild is already queued or running: see GET /v1/fidelity/rebuilds/{id}")
            return 1
        result = await run_rebuild_job(database, bus, job_id, progress_bar=bar)
    finally:
        bar.close()
        await bus.close()
        await database.dispose()
    if result is None:
        print(f"rebuild {job_id} failed: see GET /v1/fidelity/rebuilds/{job_id}")
        return 1
    print(f"rebuild {job_id}: {result.read:,} events read, {result.events:,} counted, {result.cases:,} cases")
    return 0
