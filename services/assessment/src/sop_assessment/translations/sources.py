"""The words each kind of assessment record offers for translation, and where they are: a statement's and a
safety goal's words, a map item's words (any column), the words of a child-voice record the child agreed to
share (each house entry, rule or page: the child's words stay as recorded, the translation sits beside them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.child_voice.models import ChildVoiceRecord
from sop_assessment.goals.models import SafetyGoal
from sop_assessment.maps.models import AssessmentMap, MapVersion
from sop_assessment.models import Statement
from sop_shared.problems import InvalidInput
from sop_shared.translations import CarriedTranslation, child_words
from sop_shared.translations_api import Found, TranslatedRecordNotFound, fields_carried

KINDS = ("statement", "safety_goal", "map_item", "child_voice")
MAP_COLUMNS = ("complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas")
# The map item fields a family reads as words (besides `text`).
MAP_ITEM_FIELDS = ("text", "by_whom", "when", "how_often", "owner")


def map_item_fields(item: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(item[name]) for name in MAP_ITEM_FIELDS if isinstance(item.get(name), str) and item[name]}


async def find(session: AsyncSession, kind: str, record_id: uuid.UUID, case_id: uuid.UUID) -> Found:
    """The record of `kind` with `record_id` in `case_id` (404 otherwise: another case's looks missing)."""
    if kind == "statement":
        statement = await session.get(Statement, record_id)
        if statement is None or statement.case_id != case_id:
            raise TranslatedRecordNotFound()
        return Found(case_id, statement.language, statement.version, {"text": statement.composed_text}, statement)
    if kind == "safety_goal":
        goal = await session.get(SafetyGoal, record_id)
        if goal is None or goal.case_id != case_id:
            raise TranslatedRecordNotFound()
        return Found(case_id, goal.language, goal.version, {"text": goal.composed_text}, goal)
    if kind == "child_voice":
        record = await session.get(ChildVoiceRecord, record_id)
        if record is None or record.case_id != case_id:
            raise TranslatedRecordNotFound()
        return Found(case_id, record.language, record.version, dict(child_words(record.content)), record)
    if kind == "map_item":
        for the_map, version in await maps_at(session, case_id, col(AssessmentMap.current_version)):
            for item in map_items(version.content):
                if str(item.get("id")) == str(record_id):
                    language = str(item.get("language") or "en")
                    return Found(case_id, language, the_map.current_version, map_item_fields(item), the_map)
        raise TranslatedRecordNotFound()
    raise InvalidInput.field("record_kind", "one of: " + ", ".join(KINDS))


async def maps_at(
    session: AsyncSession, case_id: uuid.UUID, number: Any, *conditions: Any
) -> list[tuple[AssessmentMap, MapVersion]]:
    """The case's maps (those `conditions` allow), each with its version `number` (a column of the map: its
    current or its shared version)."""
    rows = await session.execute(
        select(AssessmentMap, MapVersion)
        .join(MapVersion, col(MapVersion.map_id) == col(AssessmentMap.id))
        .where(col(AssessmentMap.case_id) == case_id, col(MapVersion.number) == number, *conditions)
    )
    return [(the_map, version) for the_map, version in rows.all()]


def map_items(content: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for column in MAP_COLUMNS:
        for item in content.get(column) or []:
            if isinstance(item, Mapping):
                yield item


def add_item_translations(content: Any, translations: Mapping[uuid.UUID, Sequence[Any]], version: int) -> None:
    """Put each map item's current translations beside it (`translations`, each naming the item's field it
    translates); the item's own words stay as they are."""
    for column in MAP_COLUMNS:
        for item in getattr(content, column, None) or []:
            found = translations.get(item.id)
            # most items have none: no words to weigh them against (`fields_carried` of none is none)
            item.translations = (
                fields_carried(found, map_item_fields(item.model_dump()), "en", version) if found else []
            )


def child_voice_translations(record: ChildVoiceRecord, translations: Sequence[Any]) -> list[CarriedTranslation]:
    """The current translations of the child's words, beside them (the words themselves stay verbatim)."""
    if not translations:  # nothing to weigh: no walk of the record's words
        return []
    return fields_carried(translations, dict(child_words(record.content)), record.language, record.version)
