"""Expiry on time: a background task of the app (for its whole life) expires every plan whose version in
force has passed its expiry and emits `sop.plans.safety_plan.expired` (through the outbox). Reads and writes
that touch a plan also expire it first (sop_plans.deps.plan_for), so nobody sees an expired plan as in force
between two sweeps. Both use the app's injectable clock."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from fastapi import FastAPI

from sop_plans.safety_plans.service import expire_due_plans
from sop_shared.clock import Clock
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


async def expiry_sweeper(app: FastAPI, stop: asyncio.Event) -> None:
    """The background task (`build_service_app(background=[...])`): sweeps every `expiry_sweep_seconds`;
    0 turns the sweep off (reads and writes still expire what they touch)."""
    interval_seconds = app.state.settings.expiry_sweep_seconds
    if interval_seconds > 0:
        await run_sweeper(app, interval_seconds, stop)
