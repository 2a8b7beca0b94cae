"""The federal extract as a job: read the cases in scope a chunk at a time (progress: cases read of the total),
build the files, keep them in `extract_file`. Started over the API (`POST /v1/extracts`, in the background) or by
`sop network extract` (in the foreground, with a progress bar); either way the job is readable at
`GET /v1/extracts/{id}`."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.models import Case, CaseMember, CaseRemoval, CaseReport, MemberRole, Person, StaffAssignment
from sop_network.outcomes import extract
from sop_network.outcomes.elements import element_map
from sop_network.outcomes.models import ExtractFile, ExtractJob
from sop_network.outcomes.service import OutcomeScope, case_id_chunks, count_cases
from sop_shared.aggregates import period_range
from sop_shared.db import Database, table_of, utcnow
from sop_shared.events import Progress
from sop_shared.jobs import UNFINISHED, JobProgress, run_job


async def new_job(session: AsyncSession, requested_by: str, period: str, county: str | None) -> ExtractJob | None:
    """A queued extract, or None while another is queued or running (one at a time: it reads every case)."""
    busy = (await session.execute(select(col(ExtractJob.id)).where(col(ExtractJob.status).in_(UNFINISHED)))).first()
    if busy is not None:
        return None
    job = ExtractJob(requested_by=requested_by, period=period, county=county, element_map=element_map().ref)
    session.add(job)
    await session.flush()
    return job


async def case_facts(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> list[extract.CaseFacts]:
    """What the extract reads of each case: its county, worker and supervisor, its children (id and birth date),
    its active reports and removals."""
    cases = (await session.execute(select(Case).where(col(Case.id).in_(case_ids)))).scalars().all()
    children: dict[uuid.UUID, dict[str, extract.Child]] = {}
    rows = await session.execute(
        select(col(CaseMember.case_id), col(Person.external_id), col(Person.id), col(Person.date_of_birth))
        .join(Person, col(Person.id) == col(CaseMember.person_id))
        .where(col(CaseMember.case_id).in_(case_ids), col(CaseMember.role) == MemberRole.child)
    )
    by_person: dict[uuid.UUID, extract.Child] = {}
    for case_id, external_id, person_id, born in rows:
        child = extract.Child(external_id or str(person_id), born)
        children.setdefault(case_id, {})[child.external_id] = child
        by_person[person_id] = child
    reports: dict[uuid.UUID, list[extract.ReportFacts]] = {}
    for r in (
        await session.execute(
            select(CaseReport).where(col(CaseReport.case_id).in_(case_ids), col(CaseReport.active).is_(True))
        )
    ).scalars():
        reports.setdefault(r.case_id, []).append(
            extract.ReportFacts(
                r.external_id,
                r.received_on,
                r.screened_in,
                r.investigation_started_on,
                r.disposition,
                r.disposition_on,
                list(r.children),
            )
        )
    removals: dict[uuid.UUID, list[extract.RemovalFacts]] = {}
    for v in (
        await session.execute(
            select(CaseRemoval).where(col(CaseRemoval.case_id).in_(case_ids), col(CaseRemoval.active).is_(True))
        )
    ).scalars():
        # the child as linked (a merged record's survivor keeps the id SACWIS sent)
        child_id = by_person[v.person_id].external_id if v.person_id in by_person else v.child
        removals.setdefault(v.case_id, []).append(
            extract.RemovalFacts(v.external_id, child_id, v.removed_on, v.discharged_on, v.discharge_reason)
        )
    staff: dict[tuple[uuid.UUID, str], str] = {}
    for a in (
        await session.execute(
            select(StaffAssignment)
            .where(col(StaffAssignment.case_id).in_(case_ids), col(StaffAssignment.active).is_(True))
            .order_by(col(StaffAssignment.created_at))
        )
    ).scalars():
        staff.setdefault((a.case_id, str(a.role)), a.staff_subject)
    return [
        extract.CaseFacts(
            c.external_id,
            c.county,
            staff.get((c.id, "worker")),
            staff.get((c.id, "supervisor")),
            children.get(c.id, {}),
            reports.get(c.id, []),
            removals.get(c.id, []),
        )
        for c in sorted(cases, key=lambda c: c.external_id)
    ]


async def produce(
    database: Database, scope: OutcomeScope, period: tuple[date, date], progress: Progress | None = None
) -> extract.Extract:
    out = extract.Extract(element_map(), period)
    async with database.session() as session:
        total = await count_cases(session, scope)
        done = 0
        if progress is not None:
            progress(0, total)
        async for ids in case_id_chunks(session, scope):
            for case in await case_facts(session, ids):
                extract.add_case(out, case)
            done += len(ids)
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
