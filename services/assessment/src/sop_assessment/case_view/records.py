"""What the case view reads of one case, in one SQL statement: its statements, their translations, goals,
ratings, the latest map with its shown version, SDM revisions, the children's voices with their attachments and
rule links, and for the agency the trauma histories and the approvals waiting.

The statement is a `sop_shared.wide_union` of SQLAlchemy Core selects, built once here with the case as a bound
parameter (compiled once, the same SQL on PostgreSQL and SQLite); each family's order is numbered in SQL, or
sorted by id in Python where the id alone orders it. The
rows are read as their entities (`read_as`: the row's columns as the entity's attributes and `model_dump()`,
without building a model object, the map's row too), so the view's redaction and output functions take them as
they are. What the audience may see is decided afterwards by the rules the window reads apply in SQL
(`shared_only`, `seen_by`, `goals_shown_to`), applied to the rows (`shown_to`, `seen_in`, `goal_shown`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    Uuid,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.attachments.models import Attachment
from sop_assessment.child_voice.models import ChildVoiceRecord, SafetyHouseRuleLink, SafetyPlanRules
from sop_assessment.goals.models import SafetyGoal
from sop_assessment.maps.models import AssessmentMap, MapVersion
from sop_assessment.maps.service import MapVersionNotFound
from sop_assessment.models import Statement
from sop_assessment.ratings.models import ScaleRating
from sop_assessment.sdm.models import SdmAssessment
from sop_assessment.supervision.models import Approval, ApprovalStatus
from sop_assessment.translations.models import Translation
from sop_assessment.trauma.models import TraumaHistory
from sop_shared.db import table_of
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.sharing import shared_only
from sop_shared.wide_union import WideUnion, read_as

M = TypeVar("M")
CASE: BindParameter[uuid.UUID] = bindparam("case_id")
# The kinds of words the case view shows with their translations.
TRANSLATED = ("statement", "safety_goal", "map_item", "child_voice")
VERSION_CONTENT = "shown_version_content"
VERSION_FOUND = "shown_version_id"
PLACE = "place"


def _of_case(model: type[Any]) -> Select[Any]:
    table = table_of(model)
    return select(table).where(table.c.case_id == CASE)


def _latest_map(*, agency: bool) -> Select[Any]:
    """The case's most recently changed map the agency (or anyone else) may read, with the content of the
    version they read (`maps.service.latest_map` and `version_shown` in one)."""
    maps, versions = table_of(AssessmentMap), table_of(MapVersion)
    audience = Audience.staff if agency else Audience.family
    number = (
        maps.c.current_version
        if agency
        else func.coalesce(func.nullif(maps.c.shared_version, 0), maps.c.current_version)
    )
    return (
        select(maps, versions.c.content.label(VERSION_CONTENT), versions.c.id.label(VERSION_FOUND))
        .outerjoin(versions, and_(versions.c.map_id == maps.c.id, versions.c.number == number))
        .where(maps.c.case_id == CASE, *shared_only(maps.c, audience))
        .order_by(maps.c.updated_at.desc(), maps.c.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Family:
    """One family of records in the case view's statement: its rows (a query) in its own order (columns of
    the query, by name), numbered in SQL (`place`) so the database's order is kept. A family in the order of its
    id alone is read as it is and sorted by its id in Python (`by_id`): a UUID sorts alike in both, and the
    numbering was a subquery, a sort and a window that PostgreSQL set up again on every read."""

    name: str
    query: Select[Any]
    order: tuple[str, ...] = ()

    @property
    def by_id(self) -> bool:
        return self.order == ("id",) and isinstance(self.query.selected_columns["id"].type, Uuid)

    def branch(self) -> Select[Any]:
        if self.by_id:
            return self.query
        rows = self.query.subquery(self.name)
        place = (
            type_coerce(func.row_number().over(order_by=[rows.c[name] for name in self.order]), Integer)
            if self.order
            else literal_column("1", Integer)
        )
        return select(*rows.c, place.label(PLACE))


def _families(*, agency: bool, internal: bool) -> list[Family]:
    approvals, translations = table_of(Approval), table_of(Translation)
    families = [
        Family("statement", _of_case(Statement), ("id",)),
        # each kind a bound value of its own: an expanding IN is rendered into the SQL anew on every read
        Family(
            "translation",
            _of_case(Translation).where(translations.c.record_kind.in_([literal(kind) for kind in TRANSLATED])),
            ("id",),
        ),
        Family("goal", _of_case(SafetyGoal), ("id",)),
        Family("rating", _of_case(ScaleRating), ("id",)),
        Family("map", _latest_map(agency=agency)),
        Family("sdm", _of_case(SdmAssessment), ("id",)),
        Family("child_voice", _of_case(ChildVoiceRecord), ("id",)),
        Family("attachment", _of_case(Attachment), ("id",)),
        Family("rule_link", _of_case(SafetyHouseRuleLink), ("roof_rule", "id")),
        Family("plan_rules", _of_case(SafetyPlanRules)),
    ]
    if internal:  # the trauma histories and the approvals waiting are the agency's own
        families += [
            Family("trauma", _of_case(TraumaHistory), ("id",)),
            Family(
                "pending",
                select(func.count().label("count")).where(
                    approvals.c.case_id == CASE, approvals.c.status == ApprovalStatus.pending.value
                ),
            ),
        ]
    return families


# By (may the audience read drafts, is it the agency's own view): the families in one statement
# (`sop_shared.wide_union`, compiled once).
READS: dict[tuple[bool, bool], WideUnion] = {
    (agency, internal): WideUnion({f.name: f.branch() for f in _families(agency=agency, internal=internal)})
    for agency in (True, False)
    for internal in (True, False)
}
# The families sorted by their id in Python (the same in every statement).
BY_ID = frozenset(f.name for f in _families(agency=True, internal=True) if f.by_id)


@dataclass
class CaseRecords:
    """A case's records the view shows, each family oldest first (rule links by roof rule)."""

    statements: list[Statement]
    translations: dict[str, dict[uuid.UUID, list[Translation]]]
    goals: list[SafetyGoal]
    ratings: list[ScaleRating]
    the_map: AssessmentMap | None
    map_content: dict[str, Any] | None
    sdm: list[SdmAssessment]
    child_voice: list[ChildVoiceRecord]
    attachments: dict[uuid.UUID, list[Attachment]]
    rule_links: dict[uuid.UUID, list[SafetyHouseRuleLink]]
    plan_rules: list[SafetyPlanRules]
    trauma: list[TraumaHistory] | None
    pending_approvals: int | None


async def case_records(session: AsyncSession, case_id: uuid.UUID, audience: Audience, *, internal: bool) -> CaseRecords:
    """The case's records for a view by `audience`, in one statement (the trauma histories and the approvals
    waiting only for the agency's own view, `internal`)."""
    rows = await READS[(may_see_unshared(audience), internal)].read(session, {"case_id": case_id})

    def of(name: str, model: type[M]) -> list[M]:
        if name in BY_ID:
            return [read_as(model, row) for row in sorted(rows.get(name, []), key=itemgetter("id"))]
        ordered = sorted(rows.get(name, []), key=itemgetter(PLACE))
        for row in ordered:  # the rows are this read's own: their place is dropped, not copied around
            del row[PLACE]
        return [read_as(model, row) for row in ordered]

    translations: dict[str, dict[uuid.UUID, list[Translation]]] = {kind: {} for kind in TRANSLATED}
    for translation in of("translation", Translation):
        translations[translation.record_kind].setdefault(translation.record_id, []).append(translation)
    the_map, content = None, None
    if rows["map"]:
        values = {k: v for k, v in rows["map"][0].items() if k != PLACE}
        content, version_id = values.pop(VERSION_CONTENT), values.pop(VERSION_FOUND)
        if version_id is None:
            raise MapVersionNotFound()
        the_map = read_as(AssessmentMap, values)
    return CaseRecords(
        statements=of("statement", Statement),
        translations=translations,
        goals=of("goal", SafetyGoal),
        ratings=of("rating", ScaleRating),
        the_map=the_map,
        map_content=content,
        sdm=of("sdm", SdmAssessment),
        child_voice=of("child_voice", ChildVoiceRecord),
        attachments=_by_record(of("attachment", Attachment)),
        rule_links=_by_record(of("rule_link", SafetyHouseRuleLink)),
        plan_rules=of("plan_rules", SafetyPlanRules),
        trauma=of("trauma", TraumaHistory) if internal else None,
        pending_approvals=int(rows["pending"][0]["count"]) if internal else None,
    )


def _by_record(rows: Sequence[Any]) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        found.setdefault(row.record_id, []).append(row)
    return found
