"""GraphQL types of the common-language case view, built from the services' JSON."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON


@strawberry.enum
class Audience(Enum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    FAMILY = "family"
    NETWORK = "network"
    PARTNER = "partner"
    COURT = "court"


@strawberry.type
class Case:
    id: strawberry.ID
    external_system: str
    external_id: str
    case_type: str
    status: str
    county: str | None
    opened_on: dt.date | None
    version: int

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Case:
        return cls(id=strawberry.ID(body["id"]), external_system=body["external_system"],
                   external_id=body["external_id"], case_type=body["case_type"], status=body["status"],
                   county=body.get("county"), opened_on=_date(body.get("opened_on")), version=body["version"])


@strawberry.type
class CasePerson:
    id: strawberry.ID
    first_name: str
    last_name: str
    role: str
    relationship_to_children: str | None
    preferred_language: str
    needs_interpreter: bool
    date_of_birth: dt.date | None

    @classmethod
    def from_member(cls, member: dict[str, Any]) -> CasePerson:
        person = member["person"]
        return cls(id=strawberry.ID(person["id"]), first_name=person["first_name"], last_name=person["last_name"],
                   role=member["role"], relationship_to_children=member.get("relationship_to_children"),
                   preferred_language=person["preferred_language"], needs_interpreter=person["needs_interpreter"],
                   date_of_birth=_date(person.get("date_of_birth")))


@strawberry.type
class LanguageFinding:
    code: str
    severity: str
    message: str
    start: int | None
    end: int | None
    term: str | None
    suggestion: str | None


@strawberry.type
class PlainLanguageCheck:
    language: str
    reading_grade: float | None
    findings: list[LanguageFinding]

    @classmethod
    def from_json(cls, body: dict[str, Any] | None) -> PlainLanguageCheck | None:
        if not body:
            return None
        return cls(language=body.get("language", "en"), reading_grade=body.get("reading_grade"),
                   findings=[LanguageFinding(code=f["code"], severity=f.get("severity", "warning"),
                                             message=f["message"], start=f.get("start"), end=f.get("end"),
                                             term=f.get("term"), suggestion=f.get("suggestion"))
                             for f in body.get("findings", [])])


@strawberry.type
class Statement:
    id: strawberry.ID
    kind: str
    status: str
    text: str
    language: str
    threat_codes: list[str]
    parts: JSON
    plain_language: PlainLanguageCheck | None
    version: int

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Statement:
        return cls(id=strawberry.ID(body["id"]), kind=body["kind"], status=body["status"],
                   text=body.get("composed_text") or body.get("text") or "", language=body.get("language", "en"),
                   threat_codes=body.get("threat_codes", []),
                   parts={k: body[k] for k in STATEMENT_PARTS if body.get(k) not in (None, [], "")},
                   plain_language=PlainLanguageCheck.from_json(body.get("plain_language")),
                   version=body.get("version", 1))


STATEMENT_PARTS = ("who_is_worried", "caregiver_behaviour", "context_trigger", "feared_impact_on_child",
                   "who_reported", "caregivers", "action_or_inaction", "when_or_how_often", "impact_on_child",
                   "children", "agrees", "disputes")


@strawberry.type
class Worries:
    harm: list[Statement]
    danger: list[Statement]


@strawberry.type
class SafetyPlanRule:
    text: str
    threat_code: str | None
    responsible: list[str]
    monitors: list[str]
    frequency: str | None
    how_verified: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SafetyPlanRule:
        return cls(text=body["text"], threat_code=body.get("threat_code"),
                   responsible=_names(body.get("responsible")), monitors=_names(body.get("monitors")),
                   frequency=body.get("frequency"), how_verified=body.get("how_verified"))


@strawberry.type
class SafetyPlan:
    id: strawberry.ID
    plan_type: str
    status: str
    title: str | None
    version_number: int
    content_hash: str | None
    effective_from: dt.datetime | None
    expires_at: dt.datetime | None
    rules: list[SafetyPlanRule]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SafetyPlan:
        return cls(id=strawberry.ID(body["id"]), plan_type=body["plan_type"], status=body["status"],
                   title=body.get("title"), version_number=body.get("current_version_number", 1),
                   content_hash=body.get("content_hash"), effective_from=_datetime(body.get("effective_from")),
                   expires_at=_datetime(body.get("expires_at")),
                   rules=[SafetyPlanRule.from_json(r) for r in body.get("rules", [])])


@strawberry.type
class Me:
    subject: str
    name: str | None
    actor_type: str
    roles: list[str]
    scopes: list[str]
    agency: str | None


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v if isinstance(v, str) else str(v.get("name") or v.get("person_id") or v) for v in value]


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(value[:10])


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
