"""Expiry and starts on time: a background task of the app (for its whole life) puts in force every approved
plan whose start has arrived (activated ahead of it) and expires every plan whose version in force has
passed its expiry, each with its event (through the outbox). Reads and writes
that touch a plan also expire it first (sop_plans.deps.plan_for), so nobody sees an expired plan as in force
between two sweeps. Both use the app's injectable clock."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from fastapi import FastAPI

from sop_plans.plan_policy import PlanPolicy
from sop_plans.safety_plans.service import bring_plans_to_now
from sop_shared.clock import Clock
from sop_shared.db import Database

log = structlog.get_logger("sop.plans.expiry")


async def sweep_once(database: Database, clock: Clock, policy: PlanPolicy) -> int:
    """Start and expire what is due now; returns how many plans changed. Safe to run on several replicas at
    once (each plan is expired by a conditional update, and started under its row lock, once)."""
    async with database.session() as session:
        return await bring_plans_to_now(session, now=clock.now(), policy=policy)


async def run_sweeper(app: FastAPI, interval_seconds: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            changed = await sweep_once(app.state.database, app.state.clock, app.state.plan_policy)
            if changed:
                log.info("safety_plans_started_or_expired", count=changed)
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
