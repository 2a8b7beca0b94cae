"""The network service: cases, people, safety networks, staff assignments and the case access decision."""

from __future__ import annotations

from fastapi import FastAPI

from sop_network.access.api import router as access_router
from sop_network.case_refs import ENTITY_FEEDS, case_refs
from sop_network.caseload.api import router as caseload_router
from sop_network.cases.api import router as cases_router
from sop_network.changes.api import router as changes_router
from sop_network.commitments.api import router as commitments_router
from sop_network.commitments.translations import router as translations_router
from sop_network.grants.api import router as grants_router
from sop_network.models import platform
from sop_network.persons.api import router as persons_router
from sop_network.sacwis.api import SACWIS_BATCH_PATH
from sop_network.sacwis.api import router as sacwis_router
from sop_network.safety_network.api import router as network_router
from sop_network.settings import NetworkSettings
from sop_shared.events import EventBus
from sop_shared.service import build_service_app


def create_app(settings: NetworkSettings | None = None, *, bus: EventBus | None = None) -> FastAPI:
    settings = settings or NetworkSettings()
    resolvers, known = case_refs(grace_seconds=settings.case_ref_grace_seconds)
    return build_service_app(
        settings,
        title="SOP network service",
        description="Cases, people, safety networks, assignments, partner grants and case access.",
        platform=platform,
        bus=bus,
        routers=[
            caseload_router,
            cases_router,
            access_router,
            grants_router,
            network_router,
            sacwis_router,
            changes_router,
            persons_router,
            commitments_router,
            translations_router,
        ],
        case_refs=resolvers,
        known_entities=known,
        entity_feeds=ENTITY_FEEDS,
        larger_bodies={SACWIS_BATCH_PATH: settings.sacwis_batch_max_bytes},
    )
