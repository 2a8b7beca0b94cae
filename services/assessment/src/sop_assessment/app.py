"""The assessment service: maps and statements, safety goals, scale ratings, SDM, child voice, supervision.

This slice serves harm and danger statements with their plain-language check.
"""

from __future__ import annotations

from fastapi import FastAPI

from sop_assessment.case_refs import ENTITY_FEEDS, case_refs
from sop_assessment.case_view.api import router as case_view_router
from sop_assessment.child_voice.api import router as child_voice_router
from sop_assessment.child_voice.service import PLAN_RULE_CONSUMERS
from sop_assessment.contacts.api import router as contacts_router
from sop_assessment.goals.api import router as goals_router
from sop_assessment.language.api import router as language_router
from sop_assessment.maps.api import router as maps_router
from sop_assessment.members.api import router as members_router
from sop_assessment.models import platform
from sop_assessment.ratings.api import router as ratings_router
from sop_assessment.sdm.api import router as sdm_router
from sop_assessment.sdm.published import announce_instruments
from sop_assessment.settings import AssessmentSettings
from sop_assessment.sharing.api import router as sharing_router
from sop_assessment.statements.api import router as statements_router
from sop_assessment.supervision.api import questions_router
from sop_assessment.supervision.api import router as supervision_router
from sop_assessment.supervision.plan_events import CONSUMERS as PLAN_APPROVAL_CONSUMERS
from sop_assessment.translations.api import router as translations_router
from sop_assessment.translations.api import workflow_router as translation_workflow_router
from sop_assessment.trauma.api import router as trauma_router
from sop_shared.auth import section_router
from sop_shared.events import EventBus
from sop_shared.policy import Section
from sop_shared.service import build_service_app


def create_app(settings: AssessmentSettings | None = None, *, bus: EventBus | None = None) -> FastAPI:
    settings = settings or AssessmentSettings()
    resolvers, known = case_refs(grace_seconds=settings.case_ref_grace_seconds)
    return build_service_app(
        settings,
        title="SOP assessment service",
        description="Maps, harm and danger statements with their plain-language check, safety goals, scale "
        "ratings, SDM assessments, child voice and supervision.",
        platform=platform,
        routers=[
            statements_router,
            # The SDM tools' decisions and risk levels are the agency's: an audience the policy keeps from them
            # (the network, unless the family opened them) finds no SDM route at all.
            section_router(sdm_router, Section.sdm_levels),
            child_voice_router,
            maps_router,
            goals_router,
            ratings_router,
            language_router,
            # Consultations, approvals and coaching referrals are the agency's supervision records: an audience
            # the policy keeps from them (a family or network member, a partner, the court) finds none.
            section_router(supervision_router, Section.supervision),
            questions_router,
            translations_router,
            translation_workflow_router,
            sharing_router,
            case_view_router,
            members_router,
            trauma_router,
            contacts_router,
        ],
        bus=bus,
        # Safety plans submitted at the plans service join the supervisor's one approval queue.
        consumers=[*PLAN_APPROVAL_CONSUMERS, *PLAN_RULE_CONSUMERS],  # and the plans' rules, for Safety House links
        # The loaded instruments' threat codes, announced for the plans service's check (sdm.published).
        on_start=[announce_instruments],
        case_refs=resolvers,
        known_entities=known,
        entity_feeds=ENTITY_FEEDS,
    )
