"""Partner grants: create, list, revoke (at once)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.changes.service import record_change
from sop_network.grants.rules import check_grant, grant_status
from sop_network.models import PartnerGrant
from sop_network.schemas import GrantIn, GrantOut
from sop_shared.problems import Conflict, NotFound


class GrantAlreadyRevoked(Conflict):
    slug, title = "grant-already-revoked", "This grant was already revoked"


def grant_out(grant: PartnerGrant, now: datetime) -> GrantOut:
    return GrantOut(
        status=grant_status(grant.revoked_at, grant.expires_at, now),
        **{f: getattr(grant, f) for f in GrantOut.model_fields if f != "status"},
    )


async def create_grant(
    session: AsyncSession, case_id: uuid.UUID, body: GrantIn, *, actor: str, now: datetime
) -> PartnerGrant:
    check_grant(body, now=now)
    grant = PartnerGrant(
        case_id=case_id,
        agency=body.agency,
        scopes=sorted(set(body.scopes)),
        audience=body.audience,
        purpose=body.purpose,
        consent_reference=body.consent_reference,
        expires_at=body.expires_at,
        granted_by=actor,
    )
    session.add(grant)
    await session.flush()
    await record_change(
        session,
        subject="sop.network.grant.created",
        case_id=case_id,
        data={
            "case_id": str(case_id),
            "grant_id": str(grant.id),
            "agency": grant.agency,
            "expires_at": body.expires_at.isoformat(),
        },
    )
    return grant


async def list_grants(session: AsyncSession, case_id: uuid.UUID) -> list[PartnerGrant]:
    return list(
        (
            await session.execute(
                select(PartnerGrant).where(col(PartnerGrant.case_id) == case_id).order_by(col(PartnerGrant.id))
            )
        ).scalars()
    )


async def revoke_grant(
    session: AsyncSession, case_id: uuid.UUID, grant_id: uuid.UUID, *, reason: str, actor: str, now: datetime
) -> PartnerGrant:
    grant = await session.get(PartnerGrant, grant_id)
    if grant is None or grant.case_id != case_id:
        raise NotFound("no such grant")
    if grant.revoked_at is not None:
        raise GrantAlreadyRevoked(f"revoked at {grant.revoked_at.isoformat()} by {grant.revoked_by}")
    grant.revoked_at, grant.revoked_by, grant.revocation_reason = now, actor, reason
    grant.version += 1
    grant.updated_at = now
    await session.flush()
    await record_change(
        session,
        subject="sop.network.grant.revoked",
        case_id=case_id,
        data={"case_id": str(case_id), "grant_id": str(grant.id), "agency": grant.agency},
    )
    return grant
