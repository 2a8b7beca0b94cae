"""The demo family for `sop dev`: fictional people, seeded through the gateway's own public API exactly as
SACWIS, the worker and the supervisor would, so the demo exercises the real code paths. Seeding twice
changes nothing (upserts and Idempotency-Keys). One module per service, run in this order."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from sop_gateway.demo.assessment import seed_assessment
from sop_gateway.demo.assessment_sdm import seed_assessment_sdm
from sop_gateway.demo.history import seed_practice_history
from sop_gateway.demo.members import seed_member_logins
from sop_gateway.demo.network import seed_network
from sop_gateway.demo.plans import seed_plans
from sop_gateway.demo.practice import seed_practice
from sop_gateway.demo.seeding import DemoSeed
from sop_gateway.settings import GatewaySettings

STEPS = (seed_network, seed_member_logins, seed_assessment, seed_assessment_sdm, seed_plans, seed_practice)


async def seed_demo_family(app: FastAPI) -> uuid.UUID:
    """Create (or find) the demo family; returns its case id."""
    settings: GatewaySettings = app.state.settings
    if not settings.is_development:
        raise RuntimeError("the demo family is for development only")
    seed = DemoSeed(settings.keys_dir())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        for step in STEPS:
            await step(client, seed)
    return uuid.UUID(seed.case_id)


async def seed_dev_demo(app: FastAPI) -> uuid.UUID:
    """`sop dev`'s demo: the family, and a year of fictional practice history for the dashboards."""
    case_id = await seed_demo_family(app)
    settings: GatewaySettings = app.state.settings
    seed = DemoSeed(settings.keys_dir())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        await seed_practice_history(client, seed)
    return case_id
