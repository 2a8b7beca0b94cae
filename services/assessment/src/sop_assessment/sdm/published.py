"""The loaded SDM instruments' threat codes, for this service's own checks and for the other services.

A statement's `threat_codes` must name threats of a loaded instrument (items of the `threats` section), checked
here against the catalog. The plans service checks a plan's codes against the same list, learnt from
`sop.assessment.sdm_instruments.published` (no import across services): this service announces its catalog at
start-up, once per catalog content (the digest of what it announces), through the outbox."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy import select

from sop_assessment.models import platform
from sop_assessment.sdm.instrument import Catalog
from sop_assessment.sdm.service import catalog_of
from sop_shared.db import Database
from sop_shared.outbox import emit
from sop_shared.problems import InvalidInput
from sop_shared.threat_codes import INSTRUMENTS_PUBLISHED, THREATS_SECTION, unknown_threat_codes

log = structlog.get_logger("sop.assessment.instruments")


def catalog_threats(catalog: Catalog) -> list[dict[str, Any]]:
    """What the event says about each loaded instrument: key, version, file hash and its threat codes."""
    return [
        {
            "key": loaded.instrument.key,
            "version": loaded.instrument.version,
            "kind": str(loaded.instrument.kind),
            "sha256": loaded.sha256,
            "threat_codes": [i.code for i in loaded.instrument.items if i.section == THREATS_SECTION],
        }
        for loaded in catalog.all()
    ]


def threat_codes_of(catalog: Catalog) -> set[str]:
    return {code for item in catalog_threats(catalog) for code in item["threat_codes"]}


def check_threat_codes(app: Any, codes: list[str] | None, field: str = "threat_codes") -> None:
    """422 naming `threat_codes.<i>` for a code no loaded instrument defines."""
    errors = unknown_threat_codes(
        ((f"{field}.{i}", code) for i, code in enumerate(codes or [])), threat_codes_of(catalog_of(app))
    )
    if errors:
        raise InvalidInput(errors)


def _digest(instruments: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(instruments, sort_keys=True).encode()).hexdigest()


async def publish_catalog(database: Database, catalog: Catalog) -> bool:
    """Announce the catalog unless this very content was announced already; True when it emitted."""
    instruments = catalog_threats(catalog)
    digest = _digest(instruments)
    outbox = platform.outbox
    async with database.session() as session:
        earlier = (
            await session.execute(select(outbox.c.payload).where(outbox.c.subject == INSTRUMENTS_PUBLISHED))
        ).all()
        if any((row.payload or {}).get("digest") == digest for row in earlier):
            return False
        await emit(
            session, platform, subject=INSTRUMENTS_PUBLISHED, data={"digest": digest, "instruments": instruments}
        )
    return True


async def announce_instruments(app: FastAPI) -> None:
    """At start-up (`build_service_app(on_start=…)`): announce the catalog through the outbox. A database
    that does not answer yet does not stop the start; the next start announces it."""
    try:
        if await publish_catalog(app.state.database, catalog_of(app)):
            log.info("sdm_instruments_published")
    except Exception as exc:
        log.warning("sdm_instruments_publish_failed", error=str(exc))
