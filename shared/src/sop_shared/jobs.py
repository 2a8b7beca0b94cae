"""Long work run in the background of a service and followed over the API (a read model's rebuild, a federal
extract): a job row with a status and progress (done of total), written as the work goes, shown on the `sop`
command's progress bar too (`sop_shared.progress`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from enum import StrEnum
from typing import Any, TypeVar

import structlog
from fastapi import FastAPI
from sqlalchemy import Table, update

from sop_shared.db import Database, utcnow
from sop_shared.events import Progress

log = structlog.get_logger("sop.jobs")
T = TypeVar("T")


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


UNFINISHED = (JobStatus.queued, JobStatus.running)


class JobProgress:
    """`progress(done, total)`: draws the bar (if any) at once and writes the job row's `done_column` and
    `total_column` at most every `every_seconds` (and at the end); `await progress.flush()` before finishing."""

    def __init__(
        self,
        database: Database,
        table: Table,
        job_id: Any,
        *,
        done_column: str,
        total_column: str,
        bar: Progress | None = None,
        every_seconds: float = 0.5,
    ) -> None:
        self.database, self.table, self.job_id = database, table, job_id
        self.done_column, self.total_column = done_column, total_column
        self.bar, self.every = bar, every_seconds
        self.written_at = -1e9
        self.pending: list[asyncio.Task[None]] = []
        # The writes are tasks, each on a connection of its own: without this they could commit in any order, and
        # an earlier progress (0 of 7) land after the last one (7 of 7) and stay. The lock hands itself to its
        # waiters in the order they asked, which is the order of the calls.
        self._in_order = asyncio.Lock()

    async def _write(self, done: int, total: int | None) -> None:
        async with self._in_order:
            await set_job(self.database, self.table, self.job_id, **{self.done_column: done, self.total_column: total})

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is not None:
            self.bar(done, total)
        now = asyncio.get_running_loop().time()
        if now - self.written_at >= self.every or (total is not None and done >= total):
            self.written_at = now
            self.pending.append(asyncio.ensure_future(self._write(done, total)))

    async def flush(self) -> None:
        await asyncio.gather(*self.pending, return_exceptions=True)
        self.pending.clear()


async def set_job(database: Database, table: Table, job_id: Any, **values: Any) -> None:
    async with database.session() as session:
        await session.execute(update(table).where(table.c.id == job_id).values(**values))


async def mark_running(database: Database, table: Table, job_id: Any) -> None:
    await set_job(database, table, job_id, status=JobStatus.running, started_at=utcnow())


async def mark_failed(database: Database, table: Table, job_id: Any, error: BaseException | str) -> None:
    log.warning("job_failed", table=table.name, job=str(job_id), error=str(error))
    await set_job(database, table, job_id, status=JobStatus.failed, error=str(error)[:1000], finished_at=utcnow())


async def mark_succeeded(database: Database, table: Table, job_id: Any, **values: Any) -> None:
    await set_job(database, table, job_id, status=JobStatus.succeeded, finished_at=utcnow(), **values)


async def fail_interrupted(database: Database, table: Table) -> None:
    """At start: a job that was queued or running when the process stopped will not finish; say so."""
    try:
        async with database.session() as session:
            await session.execute(
                update(table)
                .where(table.c.status.in_(UNFINISHED))
                .values(status=JobStatus.failed, error="interrupted: the service stopped", finished_at=utcnow())
            )
    except Exception as exc:  # an on_start hook must not stop the service
        log.warning("jobs_not_checked", table=table.name, error=str(exc))


def run_in_background(app: FastAPI, name: str, work: Coroutine[Any, Any, Any]) -> None:
    """Run `work` in the background of this process (kept on app.state so it is not collected)."""
    tasks: set[asyncio.Task[Any]] | None = getattr(app.state, "background_jobs", None)
    if tasks is None:
        tasks = app.state.background_jobs = set()
    task = asyncio.create_task(work, name=name)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def run_job(
    database: Database,
    table: Table,
    job_id: Any,
    work: Callable[[JobProgress], Awaitable[T]],
    *,
    done_column: str,
    total_column: str,
    finish: Callable[[T], dict[str, Any]] = lambda _: {},
    bar: Progress | None = None,
    every_seconds: float = 0.5,
) -> T | None:
    """Run `work(progress)` as job `job_id` of `table`: running, its progress written as it goes, then succeeded
    (with the columns `finish(result)` gives) or failed (with the error; None is returned)."""
    progress = JobProgress(
        database,
        table,
        job_id,
        done_column=done_column,
        total_column=total_column,
        bar=bar,
        every_seconds=every_seconds,
    )
    await mark_running(database, table, job_id)
    try:
        result = await work(progress)
    except Exception as exc:
        await progress.flush()
        await mark_failed(database, table, job_id, exc)
        return None
    await progress.flush()
    await mark_succeeded(database, table, job_id, **finish(result))
    return result
