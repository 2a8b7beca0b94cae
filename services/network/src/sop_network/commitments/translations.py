"""The network service's translations, by the shared workflow (`sop_shared.translations_api`): the words of a
network member's commitment (`network_commitment`: its text and schedule, in the commitment's language, and the
worker's decline reason, in the language the worker wrote it in) — the member's own and the ones the worker
recorded with them alike. The family and their network read only confirmed commitments, and a member the reason
their own was declined, so only those wait in the translation queue.

The kind `network_member` (the worker's commitments once kept on the member, `commitments.<n>.text`) is
retired: its translations moved to the commitments they translate (migration 9b3d5e7f1a42). One the migration
found no commitment for (a commitment removed before then) is kept, and read as stale; nobody records new ones."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.changes.service import record_change
from sop_network.models import CommitmentStatus, NetworkCommitment, NetworkMember, Translation, platform
from sop_shared.translations import AGENCY_LANGUAGE, Source, Words
from sop_shared.translations_api import Found, TranslatedRecordNotFound, Translations, translation_router

KINDS = ("network_commitment",)
RETIRED_KIND = "network_member"


def commitment_words(commitment: NetworkCommitment) -> dict[str, str]:
    """The commitment's words by field: what the member committed to (in `commitment.language`) and, once it is
    declined, the worker's reason (in the agency's language)."""
    words = {"text": commitment.text, "schedule": commitment.schedule, "decline_reason": commitment.decline_reason}
    return {name: text for name, text in words.items() if text and text.strip()}


def field_languages(commitment: NetworkCommitment) -> dict[str, str]:
    """The fields written in another language than the commitment's words: the worker's decline reason."""
    return {"decline_reason": commitment.decline_reason_language or AGENCY_LANGUAGE}


def field_language(commitment: NetworkCommitment, name: str) -> str:
    return field_languages(commitment).get(name, commitment.language)


async def find(session: AsyncSession, kind: str, record_id: uuid.UUID, case_id: uuid.UUID) -> Found:
    """The commitment with `record_id` in `case_id` (422 on `record_id` otherwise: another case's looks missing).
    Its words never change once written (the reason is written once, at the decision), so its version is its
    first. A retired `network_member` record has no words left here: its translations read as stale."""
    if kind == RETIRED_KIND:
        member = await session.get(NetworkMember, record_id)
        if member is None or member.case_id != case_id:
            raise TranslatedRecordNotFound()
        return Found(case_id, AGENCY_LANGUAGE, member.version, {}, member)
    commitment = await session.get(NetworkCommitment, record_id) if kind in KINDS else None
    if commitment is None or commitment.case_id != case_id:
        raise TranslatedRecordNotFound()
    return Found(
        case_id,
        commitment.language,
        1,
        commitment_words(commitment),
        commitment,
        field_languages=field_languages(commitment),
    )


async def family_words(session: AsyncSession, case_id: uuid.UUID) -> list[Words]:
    """The confirmed (shared) commitments' words, and the reasons the member reads for a declined one."""
    rows = await session.execute(
        select(NetworkCommitment).where(
            col(NetworkCommitment.case_id) == case_id,
            or_(
                (col(NetworkCommitment.status) == CommitmentStatus.confirmed)
                & col(NetworkCommitment.shared_at).is_not(None),
                col(NetworkCommitment.status) == CommitmentStatus.declined,
            ),
        )
    )
    return [
        Words(case_id, "network_commitment", c.id, name, Source(field_language(c, name), 1, text))
        for c in rows.scalars()
        for name, text in commitment_words(c).items()
        if c.status == CommitmentStatus.confirmed or name == "decline_reason"
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
