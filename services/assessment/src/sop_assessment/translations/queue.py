"""A case's translation queue: every piece of words the family reads (shared, in force) that waits for a
translation into a language or for its verification, by the shared rule (`sop_shared.translations`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.child_voice.models import ChildVoiceRecord
from sop_assessment.child_voice.service import may_see_record
from sop_assessment.goals.models import GoalStatus, SafetyGoal
from sop_assessment.maps.models import AssessmentMap
from sop_assessment.models import Statement, StatementStatus
from sop_assessment.translations.sources import map_item_fields, map_items, maps_at
from sop_shared.policy import Audience
from sop_shared.sharing import shared_only
from sop_shared.translations import Source, Words, child_words

FAMILY = Audience.family


async def family_words(session: AsyncSession, case_id: uuid.UUID) -> list[Words]:
    """The words of the case that the family reads: shared statements and goals in force, the items of the
    shared version of each shared map, and the child-voice words the child agreed to share with the family."""
    words: list[Words] = []
    kinds: tuple[tuple[Any, str, str], ...] = (
        (Statement, "statement", StatementStatus.active),
        (SafetyGoal, "safety_goal", GoalStatus.active),
    )
    for model, kind, active in kinds:
        rows = await session.execute(
            select(model).where(col(model.case_id) == case_id, col(model.status) == active, *shared_only(model, FAMILY))
        )
        for r in rows.scalars():
            words.append(Words(case_id, kind, r.id, "text", Source(r.language, r.version, r.composed_text)))
    shared_maps = await maps_at(
        session, case_id, col(AssessmentMap.shared_version), *shared_only(AssessmentMap, FAMILY)
    )
    for the_map, version in shared_maps:
        for item in map_items(version.content):
            language = str(item.get("language") or "en")
            for field, text in map_item_fields(item).items():
                source = Source(language, the_map.current_version, text)
                words.append(Words(case_id, "map_item", uuid.UUID(str(item["id"])), field, source))
    records = (
        await session.execute(select(ChildVoiceRecord).where(col(ChildVoiceRecord.case_id) == case_id))
    ).scalars()
    for r in records:
        if may_see_record(r, FAMILY):  # what the family will read (the policy table's rule)
            words.extend(_child_voice_words(r))
    return words


def _child_voice_words(record: ChildVoiceRecord) -> Iterator[Words]:
    for path, text in child_words(record.content):
        yield Words(record.case_id, "child_voice", record.id, path, Source(record.language, record.version, text))
