"""The assessment service: maps and statements, safety goals, scale ratings, SDM, child voice, supervision.

This slice serves harm and danger statements with their plain-language check.
"""

from __future__ import annotations

from fastapi import FastAPI

from sop_assessment.models import platform
from sop_assessment.settings import AssessmentSettings
from sop_assessment.statements.api import router as statements_router
from sop_shared.events import EventBus
from sop_shared.service import build_service_app


def create_app(settings: AssessmentSettings | None = None, *, bus: EventBus | None = None) -> FastAPI:
    return build_service_app(
        settings or AssessmentSettings(), title="SOP assessment service",
        description="Maps, harm and danger statements with their plain-language check, safety goals, scale "
                    "ratings, SDM assessments, child voice and supervision.",
        platform=platform, routers=[statements_router], bus=bus,
    )
