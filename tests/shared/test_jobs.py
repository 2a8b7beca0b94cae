"""A job's progress as it is written (sop_shared.jobs), on a real database: the last progress reported is the
one the job row keeps, however many writes were in flight."""

from __future__ import annotations

import uuid

import pytest
from sop_shared_support import PlatformDatabase
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, insert, select

from sop_shared.jobs import JobProgress

pytestmark = pytest.mark.sqlite_smoke


async def test_progress_written_in_flight_lands_in_the_order_it_was_reported(platform_db: PlatformDatabase) -> None:
    metadata = MetaData()
    jobs = Table(
        "progress_probe",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("done", Integer),
        Column("total", Integer),
    )
    await platform_db.database.create_all(metadata)
    job_id = uuid.UUID("01890000-0000-7000-8000-0000000000aa")
    async with platform_db.database.session() as session:
        await session.execute(insert(jobs).values(id=job_id, done=0, total=None))
    # Every call writes (every_seconds=0): a hundred writes in flight at once, each on a pooled connection of its own.
    progress = JobProgress(
        platform_db.database, jobs, job_id, done_column="done", total_column="total", every_seconds=0
    )
    for done in range(100):
        progress(done, 99)
    await progress.flush()
    async with platform_db.database.session() as session:
        row = (await session.execute(select(jobs.c.done, jobs.c.total).where(jobs.c.id == job_id))).one()
    assert (row.done, row.total) == (99, 99)
