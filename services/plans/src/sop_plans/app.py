"""The plans service: safety plans and their immutable versions, sign-offs, approvals, reviews, monitoring
check-ins, next steps and alerts."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from sop_plans.alerts.api import router as alerts_router
from sop_plans.case_refs import ENTITY_FEEDS, case_refs
from sop_plans.case_view.api import router as case_view_router
from sop_plans.check_ins.api import router as check_ins_router
from sop_plans.expiry import expiry_sweeper
from sop_plans.known_triggers.service import CONSUMERS as KNOWN_TRIGGER_CONSUMERS
from sop_plans.members.api import router as members_router
from sop_plans.models import person_languages, platform
from sop_plans.next_steps.api import router as next_steps_router
from sop_plans.plan_policy import load_policy
from sop_plans.practice.service import CONSUMERS as PRACTICE_CONSUMERS
from sop_plans.safety_plans.api import case_router, plan_router
from sop_plans.settings import PlansSettings
from sop_plans.translations.service import router as translations_router
from sop_shared.case_refs import case_in_path
from sop_shared.clock import Clock, SystemClock
from sop_shared.events import EventBus
from sop_shared.person_languages import person_language_consumers
from sop_shared.service import build_service_app


def create_app(
    settings: PlansSettings | None = None, *, bus: EventBus | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or PlansSettings()
    resolvers, known = case_refs(grace_seconds=settings.case_ref_grace_seconds)
    app = build_service_app(
        settings,
        title="SOP plans service",
        description="Safety plans in the family's words: immutable hash-bound versions, sign-offs, supervisor "
        "approval, monitoring check-ins, next steps and alerts.",
        platform=platform,
        routers=[case_router, next_steps_router, alerts_router, case_view_router, members_router, translations_router],
        bus=bus,
        background=[expiry_sweeper],  # started after the database exists, stopped before it closes
        consumers=[
            *person_language_consumers(settings.component, person_languages),  # who reads which language
            *PRACTICE_CONSUMERS,  # practice rules across services: safety decisions, case staff, threat codes
            *KNOWN_TRIGGER_CONSUMERS,  # which of the case's people have known triggers (ids only)
        ],
        case_refs=resolvers,
        known_entities=known,
        entity_feeds=ENTITY_FEEDS,
    )
    # Plan routes at /v1/safety-plans/{plan_id}/… and, the form the gateway's façade scopes tokens by, at
    # /v1/cases/{case_id}/safety-plans/{plan_id}/… — both documented.
    for router in (plan_router, check_ins_router):
        app.include_router(router, prefix="/v1")
        app.include_router(router, prefix="/v1/cases/{case_id}", dependencies=[Depends(case_in_path)])
    app.state.clock = clock or SystemClock()
    app.state.plan_policy = load_policy(settings.policy_file)  # a bad policy file stops the start, loudly
    return app
