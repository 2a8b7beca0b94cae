"""What the family chooses their safety network sees beyond the default: the rule (plain functions) and the
record (one row per case, `network_sharing`). The default and what may be opened are the policy table's
(`sop_shared.policy`: `SECTION_HIDDEN_FROM`, `FAMILY_MAY_SHOW`); the access decision carries the choice to every
service, which applies it with `may_see_section` / `may_see_statement`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.changes.service import record_change
from sop_network.models import NetworkSharingChoice
from sop_network.schemas import NetworkSharingIn, NetworkSharingOut
from sop_shared.concurrency import check_version
from sop_shared.policy import (
    DEFAULT_SHARING,
    FAMILY_MAY_SHOW,
    SECTION_HIDDEN_FROM,
    Audience,
    NetworkSharing,
    Section,
    family_may_open,
)
from sop_shared.problems import InvalidInput


def sharing_errors(body: NetworkSharingIn) -> list[dict[str, str]]:
    """A section the default does not keep from the network (nothing to open), one the family may not open to
    them, or anything named twice."""
    errors: list[dict[str, str]] = []
    for i, section in enumerate(body.sections):
        if Audience.network not in SECTION_HIDDEN_FROM.get(section, frozenset()):
            errors.append({"field": f"sections.{i}", "message": "the network sees it already"})
        elif Audience.network not in FAMILY_MAY_SHOW.get(section, frozenset()):
            errors.append({"field": f"sections.{i}", "message": "the family may not open this to their network"})
    for name, values in (("sections", list(body.sections)), ("statement_ids", list(body.statement_ids))):
        if len(set(values)) != len(values):
            errors.append({"field": name, "message": "named twice"})
    return errors


def sharing_of(row: NetworkSharingChoice | None) -> NetworkSharing:
    if row is None:
        return DEFAULT_SHARING
    return NetworkSharing(
        sections=frozenset(Section(s) for s in row.sections),
        statement_ids=frozenset(uuid.UUID(i) for i in row.statement_ids),
    )


def sharing_out(case_id: uuid.UUID, row: NetworkSharingChoice | None) -> NetworkSharingOut:
    shown = sharing_of(row)
    return NetworkSharingOut(
        case_id=case_id,
        sections=sorted(shown.sections),
        statement_ids=sorted(shown.statement_ids),
        hidden_by_default=sorted(s for s in Section if family_may_open(s)),
        decided_by_person_id=row.decided_by_person_id if row else None,
        decided_at=row.decided_at if row else None,
        version=row.version if row else 0,
    )


async def sharing_by_case(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, NetworkSharing]:
    """The family's choice on each of these cases (one query; a case without one: the default)."""
    if not case_ids:
        return {}
    rows = await session.execute(select(NetworkSharingChoice).where(col(NetworkSharingChoice.case_id).in_(case_ids)))
    return {row.case_id: sharing_of(row) for row in rows.scalars()}


async def choose(
    session: AsyncSession,
    case_id: uuid.UUID,
    body: NetworkSharingIn,
    expected_version: int,
    *,
    by: str,
    person_id: uuid.UUID | None,
    now: datetime,
) -> NetworkSharingChoice:
    """Record the family's choice (replacing the one before): 412 when `expected_version` (the `If-Match` read; 0
    before the first choice) is not the one held, 422 naming the field for a section that cannot be opened."""
    row = await session.get(NetworkSharingChoice, case_id, with_for_update=True)
    check_version(row.version if row else 0, expected_version)
    if errors := sharing_errors(body):
        raise InvalidInput(errors)
    sections = sorted(s.value for s in body.sections)
    statement_ids = sorted(str(i) for i in body.statement_ids)
    if row is None:
        row = NetworkSharingChoice(case_id=case_id, decided_by=by, decided_at=now, version=0)
        session.add(row)
    row.sections, row.statement_ids = sections, statement_ids
    row.decided_by, row.decided_by_person_id, row.decided_at = by, person_id, now
    row.version += 1
    await session.flush()
    await record_change(
        session,
        subject="sop.network.network_sharing.chosen",
        case_id=case_id,
        data={
            "case_id": str(case_id),
            "sections": row.sections,
            "statement_ids": row.statement_ids,
            "version": row.version,
            "by_family_member": person_id is not None,
        },
    )
    return row
