"""Expiry on time: a background sweep in the app's lifespan expires every plan whose version in force has
passed its expiry and emits `sop.plans.safety_plan.expired` (through the outbox). Reads and writes that
touch a plan also expire it first (sop_plans.deps.plan_for), so nobody sees an expired plan as in force
between two sweeps. Both use the app's injectable clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from fastapi import FastAPI

from sop_plans.clock import Clock
from sop_plans.safety_plans.service import expire_due_plans
from sop_shared.db import Database

log = structlog.get_logger("sop.plans.expiry")


async def sweep_once(database: Database, clock: Clock) -> int:
    """Expire what is due now; returns how many plans expired. Safe to run on several replicas at once
    (each plan is expired by a conditional update, once)."""
    async with database.session() as session:
        return await expire_due_plans(session, now=clock.now())


async def run_sweeper(app: FastAPI, interval_seconds: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            expired = await sweep_once(app.state.database, app.state.clock)
            if expired:
                log.info("safety_plans_expired", count=expired)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be briefly away; the next round tries again
            log.warning("expiry_sweep_failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)


def with_expiry_sweeper(
    inner: Callable[[FastAPI], AbstractAsyncContextManager[None]], interval_seconds: float,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Wrap a lifespan so the sweeper runs inside it (after the database exists, stopped before it closes).

    sop_shared.service.build_service_app takes no extra background tasks yet; this wraps its lifespan from
    the outside instead of changing it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            stop = asyncio.Event()
            task = asyncio.create_task(run_sweeper(app, interval_seconds, stop), name="plans-expiry-sweep") \
                if interval_seconds > 0 else None
            try:
                yield
            finally:
                stop.set()
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    return lifespan
