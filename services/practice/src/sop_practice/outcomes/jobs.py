"""The federal extract as a job: read the cases in scope from the read model a chunk at a time (progress: cases
read of the total), build the files, keep them in `extract_file`. Started over the API (`POST /v1/extracts`, in
the background) or by `sop practice extract` (in the foreground, with a progress bar); either way the job is
readable at `GET /v1/extracts/{id}`."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_practice.outcomes import extract
from sop_practice.outcomes.elements import element_map
from sop_practice.outcomes.facts import extract_case_of
from sop_practice.outcomes.models import ExtractFile, ExtractJob
from sop_practice.outcomes.service import OutcomeScope, case_chunks, count_cases
from sop_shared.aggregates import period_range
from sop_shared.db import Database, table_of, utcnow
from sop_shared.events import Progress
from sop_shared.jobs import UNFINISHED, JobProgress, fail_interrupted, run_job


async def new_job(session: AsyncSession, requested_by: str, period: str, county: str | None) -> ExtractJob | None:
    """A queued extract, or None while another is queued or running (one at a time: it reads every case)."""
    busy = (await session.execute(select(col(ExtractJob.id)).where(col(ExtractJob.status).in_(UNFINISHED)))).first()
    if busy is not None:
        return None
    job = ExtractJob(requested_by=requested_by, period=period, county=county, element_map=element_map().ref)
    session.add(job)
    await session.flush()
    return job


async def produce(
    database: Database, scope: OutcomeScope, period: tuple[date, date], progress: Progress | None = None
) -> extract.Extract:
    out = extract.Extract(element_map(), period)
    async with database.session() as session:
        total = await count_cases(session, scope)
        done = 0
        if progress is not None:
            progress(0, total)
        async for rows in case_chunks(session, scope):
            cases = [found for _, facts in rows if (found := extract_case_of(facts)) is not None]
            for case in sorted(cases, key=lambda c: c.external_id):
                extract.add_case(out, case)
            done += len(rows)
            if progress is not None:
                progress(done, total)
    return out


async def run_extract_job(
    database: Database, job_id: uuid.UUID, *, progress_bar: Progress | None = None, every_seconds: float = 0.5
) -> extract.Extract | None:
    """The extract recorded as job `job_id`: its progress written as it goes, its files stored at the end."""
    async with database.session() as session:
        job = await session.get(ExtractJob, job_id)
        if job is None:
            return None
        period, county = job.period, job.county

    async def work(progress: JobProgress) -> extract.Extract:
        span = period_range(period)
        if span is None:
            raise ValueError(f"not a period: {period}")
        out = await produce(database, OutcomeScope(county=county), span, progress)
        await store_files(database, job_id, extract.files_of(out))
        return out

    def finish(out: extract.Extract) -> dict[str, Any]:
        summary = extract.summary(out)
        return {"counts": {"rows": summary["rows"], "failures_by_rule": summary["failures_by_rule"]}}

    return await run_job(
        database,
        table_of(ExtractJob),
        job_id,
        work,
        done_column="records_done",
        total_column="records_total",
        finish=finish,
        bar=progress_bar,
        every_seconds=every_seconds,
    )


async def store_files(database: Database, job_id: uuid.UUID, files: dict[str, tuple[str, bytes]]) -> None:
    """Keep an extract's files in the database (any replica serves them)."""
    async with database.session() as session:
        await session.execute(
            insert(table_of(ExtractFile)),
            [
                {
                    "job_id": job_id,
                    "name": name,
                    "media_type": media_type,
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "content": content,
                    "created_at": utcnow(),
                }
                for name, (media_type, content) in files.items()
            ],
        )


async def fail_interrupted_extracts(app: FastAPI) -> None:
    """At start: an extract that was queued or running when the process stopped will not finish; say so."""
    await fail_interrupted(app.state.database, table_of(ExtractJob))
