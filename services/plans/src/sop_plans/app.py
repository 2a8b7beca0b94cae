"""The plans service: safety plans and their immutable versions (sign-offs, approvals, check-ins and next
steps follow)."""

from __future__ import annotations

from fastapi import FastAPI

from sop_plans.models import platform
from sop_plans.safety_plans.api import router as safety_plans_router
from sop_plans.settings import PlansSettings
from sop_shared.events import EventBus
from sop_shared.service import build_service_app


def create_app(settings: PlansSettings | None = None, *, bus: EventBus | None = None) -> FastAPI:
    return build_service_app(
        settings or PlansSettings(), title="SOP plans service",
        description="Safety plans in the family's words and their immutable, hash-bound versions.",
        platform=platform, routers=[safety_plans_router], bus=bus,
    )
