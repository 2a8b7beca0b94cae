"""The practice service: MidSOUTH's side of SOP — coaches, trainers and the training coordinator, training
records and certifications, coaching (issue 15); the fidelity and outcomes read model built from the other
services' events, and the federal-reporting extracts. It reads no other service's database."""

from __future__ import annotations

from fastapi import FastAPI

from sop_practice.coaching.api import router as coaching_router
from sop_practice.coaching.service import COACHING_CONSUMERS
from sop_practice.fidelity.api import router as fidelity_router
from sop_practice.fidelity.service import consumers as fidelity_consumers
from sop_practice.fidelity.service import fail_interrupted_jobs
from sop_practice.models import platform
from sop_practice.outcomes.api import router as outcomes_router
from sop_practice.outcomes.jobs import fail_interrupted_extracts
from sop_practice.people.api import router as people_router
from sop_practice.settings import PracticeSettings
from sop_practice.training.api import router as training_router
from sop_shared.auth import section_router
from sop_shared.events import EventBus
from sop_shared.policy import Section
from sop_shared.service import build_service_app


def create_app(settings: PracticeSettings | None = None, *, bus: EventBus | None = None) -> FastAPI:
    return build_service_app(
        settings or PracticeSettings(),
        title="SOP practice service",
        description="Coaching, training and practice fidelity: the people of MidSOUTH and the agency's training.",
        platform=platform,
        bus=bus,
        # Coaching referrals are supervision records (the policy table's `Section.supervision`): a family or network
        # member, a partner or the court finds no such route (404, the attempt audited), as in the assessment service.
        routers=[
            people_router,
            training_router,
            section_router(coaching_router, Section.supervision),
            fidelity_router,
            outcomes_router,
        ],
        consumers=[
            *COACHING_CONSUMERS,
            *fidelity_consumers(),  # the fidelity read model, from the other services' events
        ],
        on_start=[fail_interrupted_jobs, fail_interrupted_extracts],
    )
