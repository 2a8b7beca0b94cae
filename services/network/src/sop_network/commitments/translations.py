"""The network service's translations, by the shared workflow (`sop_shared.translations_api`): the words of a
network member's commitment (`network_commitment`: its text and schedule). The family and their network read
only confirmed commitments, so only those wait in the translation queue."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.changes.service import record_change
from sop_network.models import CommitmentStatus, NetworkCommitment, Translation, platform
from sop_shared.translations import Source, Words
from sop_shared.translations_api import Found, TranslatedRecordNotFound, Translations, translation_router

KINDS = ("network_commitment",)


def commitment_words(commitment: NetworkCommitment) -> dict[str, str]:
    words = {"text": commitment.text, "schedule": commitment.schedule}
    return {name: text for name, text in words.items() if text and text.strip()}


async def find(session: AsyncSession, kind: str, record_id: uuid.UUID, case_id: uuid.UUID) -> Found:
    """The commitment with `record_id` in `case_id` (422 on `record_id` otherwise: another case's looks missing).
    A commitment's words never change, so its version is its first."""
    commitment = await session.get(NetworkCommitment, record_id) if kind in KINDS else None
    if commitment is None or commitment.case_id != case_id:
        raise TranslatedRecordNotFound()
    return Found(case_id, commitment.language, 1, commitment_words(commitment), commitment)


async def family_words(session: AsyncSession, case_id: uuid.UUID) -> list[Words]:
    """The confirmed (shared) commitments' words."""
    rows = await session.execute(
        select(NetworkCommitment).where(
            col(NetworkCommitment.case_id) == case_id,
            col(NetworkCommitment.status) == CommitmentStatus.confirmed,
            col(NetworkCommitment.shared_at).is_not(None),
        )
    )
    return [
        Words(case_id, "network_commitment", c.id, name, Source(c.language, 1, text))
        for c in rows.scalars()
        for name, text in commitment_words(c).items()
    ]


async def announce(session: AsyncSession, *, subject: str, case_id: uuid.UUID, data: dict[str, Any]) -> None:
    """The network's events go to the change feed as well as the outbox (one sequence, `record_change`)."""
    await record_change(session, subject=subject, case_id=case_id, data=data)


TRANSLATIONS = Translations(
    model=Translation,
    platform=platform,
    component="network",
    kinds=KINDS,
    find=find,
    family_words=family_words,
    announce=announce,
)
router = translation_router(TRANSLATIONS)
