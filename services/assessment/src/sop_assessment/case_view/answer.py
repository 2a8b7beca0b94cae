"""The case view's answers as plain data: each part the JSON its response model gives (`AssessmentCaseView`,
`CaseViewStatement`, `CountedPage`, `ListPaging`), key for key and in the model's field order, answered once by
`sop_shared.plain_answers.json_response`. The routes keep the models as their `response_model` (the contract);
`tests/assessment/test_case_view_answer.py` holds every part to the bytes the model gives.

What the models did besides copying, done here: the field order (the models' own, taken from them), a statement's
people each with their `person_id` (null when not known), and the computed `sharing`; enum members are given as
their values (`member_value`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sop_assessment.case_view.schemas import CaseViewStatement
from sop_shared.pagination import CountedPage, ListPaging
from sop_shared.plain_answers import member_value
from sop_shared.sharing import Sharing

PEOPLE = ("caregivers", "children")
MEMBERS = ("kind", "status", "text_source")  # enum members, given as their values (`member_value`)
# A statement's own fields, in `CaseViewStatement`'s order; its translations come last of its fields.
STATEMENT_FIELDS = tuple(name for name in CaseViewStatement.model_fields if name != "translations")
_statement_values = itemgetter(*STATEMENT_FIELDS)


def statement_json(values: Mapping[str, Any], translations: Sequence[Any]) -> dict[str, Any]:
    """A `CaseViewStatement` of `statement_out_values`' values and the statement's current translations."""
    plain = dict(zip(STATEMENT_FIELDS, _statement_values(values), strict=True))
    for name in PEOPLE:
        plain[name] = _people(plain[name])
    for name in MEMBERS:
        plain[name] = member_value(plain[name])
    plain["translations"] = translations
    plain["sharing"] = Sharing.of(values["shared_at"]).value  # `SharingOut.sharing`
    return plain


def _people(refs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": ref["name"], "person_id": ref.get("person_id")} for ref in refs]


def paging_json(paging: ListPaging | CountedPage[Any]) -> dict[str, Any]:
    """A `ListPaging`: where a window stands in its list."""
    return {
        "total_count": paging.total_count,
        "next_cursor": paging.next_cursor,
        "start_cursor": paging.start_cursor,
        "end_cursor": paging.end_cursor,
    }


def page_json(page: CountedPage[Any]) -> dict[str, Any]:
    """A `CountedPage` whose items are already plain data."""
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "total_count": page.total_count,
        "start_cursor": page.start_cursor,
        "end_cursor": page.end_cursor,
    }


def trajectory_json(values: dict[str, Any]) -> dict[str, Any]:
    """A `Trajectory` of `ratings.rules.trajectory`'s values: each rater's role as its value."""
    for entry in (*(r for o in values["occasions"] for r in o["ratings"]), *values["raters"]):
        entry["rater_role"] = member_value(entry["rater_role"])
    return values
