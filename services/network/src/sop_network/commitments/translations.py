"""The network service's translations, by the shared workflow (`sop_shared.translations_api`): the words of a
network member's own commitment (`network_commitment`: its text and schedule), and of the commitments the worker
recorded with a member (`network_member`: `commitments.<n>.text` and `commitments.<n>.schedule`, written in the
agency's language). The family and their network read only confirmed commitments and active members' recorded
ones, so only those wait in the translation queue."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.changes.service import record_change
from sop_network.models import CommitmentStatus, NetworkCommitment, NetworkMember, Translation, platform
from sop_shared.translations import AGENCY_LANGUAGE, Source, Words
from sop_shared.translations_api import Found, TranslatedRecordNotFound, Translations, translation_router

KINDS = ("network_commitment", "network_member")


def commitment_words(commitment: NetworkCommitment) -> dict[str, str]:
    words = {"text": commitment.text, "schedule": commitment.schedule}
    return {name: text for name, text in words.items() if text and text.strip()}


def recorded_commitment_words(member: NetworkMember) -> dict[str, str]:
    """The commitments the worker recorded with a member, by field (`commitments.0.text`, …)."""
    return {
        f"commitments.{index}.{name}": text
        for index, commitment in enumerate(member.commitments or [])
        for name in ("text", "schedule")
        for text in [commitment.get(name)]
        if text and text.strip()
    }


async def find(session: AsyncSession, kind: str, record_id: uuid.UUID, case_id: uuid.UUID) -> Found:
    """The commitment (or the member whose recorded commitments are translated) with `record_id` in `case_id`
    (422 on `record_id` otherwise: another case's looks missing). A member's own commitment never changes, so its
    version is its first; a member's recorded ones are at the member's version."""
    if kind == "network_member":
        member = await session.get(NetworkMember, record_id)
        if member is None or member.case_id != case_id:
            raise TranslatedRecordNotFound()
        return Found(case_id, AGENCY_LANGUAGE, member.version, recorded_commitment_words(member), member)
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
    own = [
        Words(case_id, "network_commitment", c.id, name, Source(c.language, 1, text))
        for c in rows.scalars()
        for name, text in commitment_words(c).items()
    ]
    members = await session.execute(
        select(NetworkMember).where(col(NetworkMember.case_id) == case_id, col(NetworkMember.active_to).is_(None))
    )
    recorded = [
        Words(case_id, "network_member", m.id, name, Source(AGENCY_LANGUAGE, m.version, text))
        for m in members.scalars()
        for name, text in recorded_commitment_words(m).items()
    ]
    return own + recorded


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
