"""A network member's commitments: the member proposing their own, the worker's decision, the worker recording
one with the member, and reading them per audience."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.changes.service import record_change
from sop_network.commitments.rules import commitment_check, decide, decline_reason_check, recorded_by_worker, withdraw
from sop_network.commitments.translations import TRANSLATIONS, commitment_words, field_language
from sop_network.models import NetworkCommitment, NetworkMember, Person
from sop_network.schemas import CommitmentDecisionIn, MemberCommitmentIn, NetworkCommitmentOut, WorkerCommitmentIn
from sop_shared.concurrency import check_version
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.problems import Forbidden, NotFound
from sop_shared.sharing import shown_to_reader, without_agency_notes
from sop_shared.translations import AGENCY_LANGUAGE
from sop_shared.translations_api import fields_carried


class NotInNetwork(Forbidden):
    slug, title = "not-in-network", "Only a member of this case's safety network proposes a commitment"


async def propose(
    session: AsyncSession,
    case_id: uuid.UUID,
    person_id: uuid.UUID,
    body: MemberCommitmentIn,
    *,
    by: str,
    now: datetime,
) -> NetworkCommitment:
    """The member's own commitment, as written, a proposal until the worker decides (403 for a person who is
    not in this case's safety network)."""
    member = (
        (
            await session.execute(
                select(NetworkMember).where(
                    col(NetworkMember.case_id) == case_id, col(NetworkMember.person_id) == person_id
                )
            )
        )
        .scalars()
        .first()
    )
    if member is None:
        raise NotInNetwork()
    person = await session.get(Person, person_id)
    language = body.language or (person.preferred_language if person else "en")
    commitment = NetworkCommitment(
        case_id=case_id,
        member_id=member.id,
        person_id=person_id,
        text=body.text,
        schedule=body.schedule,
        language=language,
        proposed_by=by,
        proposed_at=now,
    )
    session.add(commitment)
    await session.flush()
    await _announce(session, commitment, "proposed")
    return commitment


async def record_for_member(
    session: AsyncSession,
    case_id: uuid.UUID,
    member_id: uuid.UUID,
    body: WorkerCommitmentIn,
    *,
    by: str,
    now: datetime,
) -> NetworkCommitment:
    """A commitment the worker records with a member of this case's network (404 for another case's member):
    confirmed by the worker in the same act, so shared at once (findings need `share_reason`, 422, nothing
    written), announced as confirmed like a member's own."""
    member = await session.get(NetworkMember, member_id)
    if member is None or member.case_id != case_id:
        raise NotFound("no such network member")
    commitment = NetworkCommitment(
        case_id=case_id,
        member_id=member.id,
        person_id=member.person_id,
        text=body.text,
        schedule=body.schedule,
        language=body.language or AGENCY_LANGUAGE,
        proposed_by=by,
        proposed_at=now,
    )
    recorded_by_worker(commitment, share_reason=body.share_reason, by=by, now=now)
    session.add(commitment)
    await session.flush()
    await _announce(session, commitment, commitment.status.value)
    return commitment


async def decide_commitment(
    session: AsyncSession,
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    body: CommitmentDecisionIn,
    *,
    expected_version: int,
    by: str,
    now: datetime,
) -> NetworkCommitment:
    commitment = await get_commitment(session, case_id, commitment_id)
    check_version(commitment.version, expected_version)
    decide(commitment, body, by=by, now=now)
    await session.flush()
    await _announce(session, commitment, commitment.status.value)
    return commitment


async def withdraw_commitment(
    session: AsyncSession,
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    *,
    reason: str,
    expected_version: int,
    by: str,
    now: datetime,
) -> NetworkCommitment:
    commitment = await get_commitment(session, case_id, commitment_id)
    check_version(commitment.version, expected_version)
    withdraw(commitment, reason=reason, by=by, now=now)
    await session.flush()
    await _announce(session, commitment, "withdrawn")
    return commitment


async def get_commitment(session: AsyncSession, case_id: uuid.UUID, commitment_id: uuid.UUID) -> NetworkCommitment:
    commitment = await session.get(NetworkCommitment, commitment_id)
    if commitment is None or commitment.case_id != case_id:
        raise NotFound("no such commitment")
    return commitment


async def _announce(session: AsyncSession, commitment: NetworkCommitment, what: str) -> None:
    # Only ids and states travel: the words stay behind the case's access rules. Plans learns confirmed
    # commitments from `…confirmed` (a plan rule may then name one).
    await record_change(
        session,
        subject=f"sop.network.network_commitment.{what}",
        case_id=commitment.case_id,
        data={
            "case_id": str(commitment.case_id),
            "commitment_id": str(commitment.id),
            "member_id": str(commitment.member_id),
            "person_id": str(commitment.person_id),
            "status": commitment.status.value,
            "origin": commitment.origin.value,
            "version": commitment.version,
        },
    )


async def commitments_shown(
    session: AsyncSession,
    case_id: uuid.UUID,
    audience: Audience,
    reader_person_id: uuid.UUID | None = None,
    *,
    member_ids: Sequence[uuid.UUID] | None = None,
) -> list[NetworkCommitmentOut]:
    """The case's commitments (or these members'), as `audience` reads them, oldest first, each with its current
    translations: the agency every one; a member their own proposals too; everyone else the confirmed ones (only
    those are shared)."""
    query = select(NetworkCommitment).where(col(NetworkCommitment.case_id) == case_id)
    if member_ids is not None:
        query = query.where(col(NetworkCommitment.member_id).in_(member_ids))
    rows = [
        c
        for c in (await session.execute(query.order_by(col(NetworkCommitment.proposed_at), col(NetworkCommitment.id))))
        .scalars()
        .all()
        if shown_to_reader(c, audience, reader_person_id)
    ]
    translations = await TRANSLATIONS.of_case(session, case_id, record_ids=[c.id for c in rows]) if rows else {}
    return commitments_out(rows, audience, translations)


def commitments_out(
    rows: Sequence[NetworkCommitment], audience: Audience, translations: Mapping[uuid.UUID, list[Any]] | None = None
) -> list[NetworkCommitmentOut]:
    return [commitment_out(c, audience, (translations or {}).get(c.id, [])) for c in rows]


def commitment_out(
    commitment: NetworkCommitment, audience: Audience, translations: Sequence[Any] = ()
) -> NetworkCommitmentOut:
    values = without_agency_notes(commitment.model_dump(), audience)
    agency = may_see_unshared(audience)
    words = commitment_words(commitment)
    # Each field's translations against its own source language (the decline reason is the worker's).
    carried = [
        c
        for name, text in words.items()
        for c in fields_carried(translations, {name: text}, field_language(commitment, name), 1)
    ]
    reason = commitment.decline_reason
    return NetworkCommitmentOut.model_validate(
        {
            **values,
            "decided_by": values["decided_by"] if agency else None,
            "withdraw_reason": values["withdraw_reason"] if agency else None,
            "plain_language": commitment_check(commitment.text, commitment.language) if agency else None,
            "decline_reason_plain_language": (
                decline_reason_check(reason, commitment.decline_reason_language) if agency and reason else None
            ),
            "translations": carried,
        }
    )
