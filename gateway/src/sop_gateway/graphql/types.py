"""GraphQL types of the common-language case view, built from the services' JSON (their case-view reads).

Every closed set is an enum (values UPPER_CASE on the wire); the services' field redaction for the audience
is kept as it arrives (a withheld field is null and named in `redacted`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from enum import Enum
from functools import cache
from types import SimpleNamespace
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.global_ids import Node
from sop_gateway.graphql.labels import InLanguage, in_language, item_in_language
from sop_gateway.graphql.paging import DEFAULT_CHECK_INS, DEFAULT_FIRST, PageInfo, ReadRest, Window
from sop_shared.pagination import CaseList
from sop_shared.policy import Audience as PolicyAudience
from sop_shared.sharing import shown_to_reader
from sop_shared.translations import AGENCY_LANGUAGE


@strawberry.enum
class Audience(Enum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    FAMILY = "family"
    NETWORK = "network"
    PARTNER = "partner"
    COURT = "court"


@strawberry.enum(
    description="Who acts: a person on staff, a partner agency, an integrated system, a family or network member"
)
class ActorType(Enum):
    STAFF = "staff"
    PARTNER = "partner"
    INTEGRATION = "integration"
    FAMILY = "family"
    NETWORK = "network"


@strawberry.enum(description="`WARNING`: something to fix before the words are shared; `INFO`: a note")
class LanguageFindingSeverity(Enum):
    WARNING = "warning"
    INFO = "info"


@strawberry.enum(description="The kind of jargon found (docs/plain-language.md)")
class LanguageFindingCategory(Enum):
    ACRONYM = "acronym"
    PROFESSIONAL_TERM = "professional_term"
    LABEL = "label"
    SERVICE_SPEAK = "service_speak"


@strawberry.enum
class CaseType(Enum):
    INVESTIGATION = "investigation"
    IN_HOME = "in_home"
    OUT_OF_HOME = "out_of_home"
    SUPPORTIVE_SERVICES = "supportive_services"
    DIFFERENTIAL_RESPONSE = "differential_response"


@strawberry.enum
class CaseStatus(Enum):
    OPEN = "open"
    CLOSED = "closed"


@strawberry.enum
class MemberRole(Enum):
    CHILD = "child"
    CAREGIVER = "caregiver"
    PARENT = "parent"
    NETWORK = "network"
    PROFESSIONAL = "professional"


@strawberry.enum
class NetworkCircle(Enum):
    INNER = "inner"
    OUTER = "outer"
    PROFESSIONAL = "professional"


@strawberry.enum
class StatementKind(Enum):
    HARM = "harm"
    DANGER = "danger"


@strawberry.enum
class StatementStatus(Enum):
    ACTIVE = "active"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


@strawberry.enum(
    description="Whether the worker marked the words ready to share. Only staff and supervisors are shown drafts; "
    "every other audience sees shared records only"
)
class Sharing(Enum):
    DRAFT = "draft"
    SHARED = "shared"


@strawberry.enum
class SensitivityLabel(Enum):
    REPORTER_IDENTITY = "reporter_identity"
    SUBSTANCE_USE_PART2 = "substance_use_part2"
    DV_CONFIDENTIAL_ADDRESS = "dv_confidential_address"
    CHILD_VOICE = "child_voice"
    EDUCATION_RECORD = "education_record"
    SDM_DETAIL = "sdm_detail"


@strawberry.enum
class GoalStatus(Enum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    WITHDRAWN = "withdrawn"


@strawberry.enum
class GoalOwner(Enum):
    FAMILY = "family"
    AGENCY = "agency"
    JOINT = "joint"


@strawberry.enum
class NextStepStatus(Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"
    DROPPED = "dropped"  # a map's next step nobody will take any more


@strawberry.enum(description="Where a next step is kept: the map's third column, or the plans service's case plan")
class NextStepSource(Enum):
    MAP = "map"
    CASE_PLAN = "case_plan"


@strawberry.enum
class RaterRole(Enum):
    CAREGIVER = "caregiver"
    CHILD = "child"
    NETWORK = "network"
    WORKER = "worker"
    SUPERVISOR = "supervisor"
    PROFESSIONAL = "professional"


@strawberry.enum
class SafetyDecision(Enum):
    SAFE = "safe"
    CONDITIONALLY_SAFE = "conditionally_safe"
    UNSAFE = "unsafe"


@strawberry.enum
class RiskLevel(Enum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    VERY_HIGH = "very_high"


@strawberry.enum
class PlanType(Enum):
    IMMEDIATE = "immediate"
    ONGOING = "ongoing"
    REUNIFICATION = "reunification"


@strawberry.enum
class PlanStatus(Enum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    ACTIVE = "active"
    MODIFIED = "modified"
    TERMINATED = "terminated"
    EXPIRED = "expired"


@strawberry.enum(description="Why a plan ended; `endReasonWords` says it in the reader's language")
class PlanEndReason(Enum):
    REPLACED_BY_PLAN = "replaced_by_plan"
    EXPIRED = "expired"
    TERMINATED = "terminated"


@strawberry.enum
class SignatureDecision(Enum):
    SIGNED = "signed"
    REFUSED = "refused"


@strawberry.enum(description="What made the interpreter fit to explain the plan")
class InterpreterQualification(Enum):
    CERTIFIED_COURT_INTERPRETER = "certified_court_interpreter"
    CERTIFIED_INTERPRETER = "certified_interpreter"
    QUALIFIED_INTERPRETER = "qualified_interpreter"
    STAFF_BILINGUAL = "staff_bilingual"
    TELEPHONE_SERVICE = "telephone_service"


@strawberry.enum(description="How the interpreter explained the plan")
class InterpreterMode(Enum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"


@strawberry.enum
class SignerRole(Enum):
    CAREGIVER = "caregiver"
    CHILD = "child"
    NETWORK = "network"
    WORKER = "worker"
    SUPERVISOR = "supervisor"
    OTHER = "other"


@strawberry.enum
class ChildVoiceKind(Enum):
    THREE_HOUSES = "three_houses"
    SAFETY_HOUSE = "safety_house"
    WORDS_AND_PICTURES = "words_and_pictures"


@strawberry.enum
class GlossaryStatus(Enum):
    REVIEWED = "reviewed"
    DRAFT = "draft"
    MISSING = "missing"  # no meaning in this language yet (never machine-translated)


@strawberry.enum
class AlertKind(Enum):
    PLAN_EXPIRING = "plan_expiring"
    PLAN_EXPIRED = "plan_expired"
    REVIEW_DUE = "review_due"
    REVIEW_OVERDUE = "review_overdue"
    APPROVAL_PENDING = "approval_pending"
    NEXT_STEP_OVERDUE = "next_step_overdue"
    IMMEDIATE_PLAN_APPROVAL_OVERDUE = "immediate_plan_approval_overdue"
    CONDITIONALLY_SAFE_WITHOUT_PLAN = "conditionally_safe_without_plan"  # practice rule (plans)
    RULE_BROKEN = "rule_broken"  # practice rule (plans): a check-in said a rule was broken
    SDM_OVERDUE = "sdm_overdue"


E = TypeVar("E", bound=Enum)


# A record shown through the case view is shaped by the view (audience, language, redaction), so it carries no `id`
# a normalising client cache (Apollo, Relay, urql's graphcache) would merge across views: the Spanish family text
# must never show in the English staff screen. `recordId` is the record's own id, for mutations and REST.
VIEW_RECORD_ID = (
    "The record's own id (use it in mutations and REST). Not named `id` on purpose: this object is the record "
    "as this view shows it, so a client cache must not merge it with another view's"
)


SHARING = (
    "DRAFT until the worker marks it ready to share (staff and supervisors only are shown drafts): "
    "shareStatement, shareSafetyGoal"
)


def known(enum: type[E], value: Any) -> E | None:
    """The enum member for a service's value, or None for one this gateway does not know (SDM instruments
    are configurable: a state's licensed instrument may name outcomes the illustrative one does not)."""
    members, none_unknown = _members_by_value(enum)
    if type(value) is str:  # a service's value: looked up without raising (and catching) for each unknown one
        if value in members:
            member: E = members[value]
            return member
    elif value is None and none_unknown:
        return None
    try:
        return enum(value)
    except ValueError:
        return None


def member(enum: type[E], value: Any) -> E:
    """`enum(value)` for a service's value: a str looked up in the enum's table (calling the enum costs about a
    microsecond, and a full view builds some 300 members); anything else, and a value it lacks, by the call
    (its `_missing_`, or its ValueError)."""
    if type(value) is str:
        found: E | None = _members_by_value(enum)[0].get(value)
        if found is not None:
            return found
    return enum(value)


@cache
def _members_by_value(enum: type[E]) -> tuple[dict[Any, E], bool]:
    """The enum's members by value, and whether `enum(None)` is refused (no member's value, no `_missing_`)."""
    members = {member.value: member for member in enum}
    plain_missing = getattr(enum._missing_, "__func__", None) is getattr(Enum._missing_, "__func__", None)
    return members, None not in members and plain_missing


def members(enum: type[E]) -> dict[Any, E]:
    """The enum's members by value, for the typed objects built most often (a statement and its findings):
    `members(X).get(value) or member(X, value)` answers as `member` does without a call per value (every
    member of a plain enum is true)."""
    return _members_by_value(enum)[0]


# --- the case and its people (network service) ---


@strawberry.type
class Case:
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    external_system: str
    external_id: str
    case_type: CaseType
    status: CaseStatus
    county: str | None
    opened_on: dt.date | None
    closed_on: dt.date | None
    version: int

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Case:
        return cls(
            id=strawberry.ID(body["id"]),
            external_system=body["external_system"],
            external_id=body["external_id"],
            case_type=member(CaseType, body["case_type"]),
            status=member(CaseStatus, body["status"]),
            county=body.get("county"),
            opened_on=_date(body.get("opened_on")),
            closed_on=_date(body.get("closed_on")),
            version=body["version"],
        )


@strawberry.type
class CasePerson(Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    first_name: str
    last_name: str
    role: MemberRole
    relationship_to_children: str | None
    preferred_language: str
    needs_interpreter: bool
    date_of_birth: dt.date | None

    @classmethod
    def from_member(cls, member: dict[str, Any]) -> CasePerson:
        person = member["person"]
        return cls(
            id=strawberry.ID(person["id"]),
            first_name=person["first_name"],
            last_name=person["last_name"],
            role=MemberRole(member["role"]),
            relationship_to_children=member.get("relationship_to_children"),
            preferred_language=person["preferred_language"],
            needs_interpreter=person["needs_interpreter"],
            date_of_birth=_date(person.get("date_of_birth")),
        )


@strawberry.enum(description="A network member's own commitment: a proposal until the worker confirms or declines it")
class CommitmentStatus(Enum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


@strawberry.enum(description="Who wrote a commitment down: the member in their own words, or the worker with them")
class CommitmentOrigin(Enum):
    MEMBER = "member"
    WORKER = "worker"


@strawberry.type(
    description="What a network member has agreed to do: recorded by the worker with the member (confirmed in the "
    "same act), or proposed by the member in their own words and confirmed by the worker (docs/members.md)"
)
class Commitment:
    text: str
    schedule: str | None
    record_id: strawberry.ID | None = strawberry.field(
        default=None, description="The commitment's record (network service, `network_commitment`)"
    )
    status: CommitmentStatus = strawberry.field(
        default=CommitmentStatus.CONFIRMED,
        description="Only the agency and the member who proposed it read a proposed or declined one",
    )
    origin: CommitmentOrigin = strawberry.field(
        default=CommitmentOrigin.MEMBER, description="The member's own words, or recorded by the worker"
    )
    language: str | None = strawberry.field(default=None, description="The language `text` is shown in")
    language_fallback: bool = strawberry.field(
        default=False, description="True when no verified, current translation into the asked language exists"
    )
    decline_reason: str | None = strawberry.field(
        default=None, description="Why the worker declined it, in the asked language where a verified one exists"
    )
    decline_reason_language: str | None = strawberry.field(
        default=None, description="The language `declineReason` is shown in"
    )
    version: int | None = None

    @classmethod
    def own(cls, body: dict[str, Any], language: str) -> Commitment:
        """A member's commitment (their own or the worker's record with them), its words — and the reason it was
        declined — in `language` where a verified, current translation exists."""
        shown = item_in_language(body, ("text", "schedule"), language)
        reason: InLanguage | None = None
        if body.get("decline_reason"):
            reason = in_language(
                body["decline_reason"],
                body.get("decline_reason_language") or AGENCY_LANGUAGE,
                [t for t in body.get("translations") or [] if t.get("source_field") == "decline_reason"],
                language,
            )
        return cls(
            text=shown["text"],
            schedule=shown.get("schedule"),
            record_id=strawberry.ID(body["id"]),
            status=member(CommitmentStatus, body["status"]),
            origin=member(CommitmentOrigin, body.get("origin") or "member"),
            language=shown["language"],
            language_fallback=shown["language_fallback"],
            decline_reason=reason.text if reason else None,
            decline_reason_language=reason.language if reason else None,
            version=body.get("version"),
        )


@strawberry.type
class NetworkMember(Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    person_id: strawberry.ID
    first_name: str
    last_name: str
    circle: NetworkCircle
    roles: list[str]
    commitments: list[Commitment]
    availability: str | None
    agreed_plan_version: int | None
    active_from: dt.date | None
    active_to: dt.date | None

    @classmethod
    def from_json(cls, body: dict[str, Any], commitments: list[Commitment] | None = None) -> NetworkMember:
        person = body["person"]
        return cls(
            id=strawberry.ID(body["id"]),
            person_id=strawberry.ID(person["id"]),
            first_name=person["first_name"],
            last_name=person["last_name"],
            circle=member(NetworkCircle, body["circle"]),
            roles=list(body.get("roles", [])),
            commitments=commitments or [],
            availability=body.get("availability"),
            agreed_plan_version=body.get("agreed_plan_version"),
            active_from=_date(body.get("active_from")),
            active_to=_date(body.get("active_to")),
        )


@strawberry.type
class NetworkMeeting:
    held_on: dt.date
    decisions: list[str]
    next_meeting_on: dt.date | None


@strawberry.type(
    description="The safety network: the people who help keep the children safe, with their roles and "
    "commitments, and its meetings"
)
class SafetyNetwork:
    members: list[NetworkMember]
    meetings: list[NetworkMeeting]

    @classmethod
    def from_json(
        cls,
        body: dict[str, Any] | None,
        *,
        audience: PolicyAudience = PolicyAudience.staff,
        language: str = "en",
        reader_person_id: str | None = None,
    ) -> SafetyNetwork:
        """The network as `audience` reads it, each member with their commitments (the worker's record and the
        member's own, oldest first): the agency reads every one, a member their own proposals, everyone else the
        confirmed, shared ones."""
        body = body or {}
        commitments: dict[str, list[Commitment]] = {}
        for c in body.get("commitments", []):
            if shown_to_reader(SimpleNamespace(**c), audience, reader_person_id):
                commitments.setdefault(str(c["member_id"]), []).append(Commitment.own(c, language))
        return cls(
            members=[NetworkMember.from_json(m, commitments.get(str(m["id"]))) for m in body.get("members", [])],
            meetings=[
                NetworkMeeting(
                    held_on=_date(m["held_on"]) or dt.date.min,
                    decisions=list(m.get("decisions", [])),
                    next_meeting_on=_date(m.get("next_meeting_on")),
                )
                for m in body.get("meetings", [])
            ],
        )


# --- worries, what is working well, what needs to happen (assessment; next steps also from plans) ---


@strawberry.type
class LanguageFinding:
    code: str
    severity: LanguageFindingSeverity
    message: str
    start: int | None
    end: int | None
    term: str | None
    suggestion: str | None
    category: LanguageFindingCategory | None = strawberry.field(
        default=None,
        description="For `jargon`: acronym, professional_term, label or service_speak (docs/plain-language.md)",
    )


@strawberry.type
class PlainLanguageCheck:
    language: str
    reading_grade: float | None
    findings: list[LanguageFinding]

    @classmethod
    def from_json(cls, body: dict[str, Any] | None) -> PlainLanguageCheck | None:
        if not body:
            return None
        check = object.__new__(cls)  # built field by field: one per statement (`Statement.from_json`)
        check.language = body.get("language", "en")
        check.reading_grade = body.get("reading_grade")
        check.findings = [_finding(f) for f in body.get("findings", [])]
        return check


_SEVERITIES = members(LanguageFindingSeverity)
_CATEGORIES = members(LanguageFindingCategory)


def _finding(body: dict[str, Any]) -> LanguageFinding:
    """`LanguageFinding(...)` for one of the service's findings, its fields set one by one (what the dataclass's
    `__init__` does, without a call with eight keywords: some 40 findings per full view)."""
    finding = object.__new__(LanguageFinding)
    finding.code = body["code"]
    severity = body.get("severity", "warning")
    finding.severity = _SEVERITIES.get(severity) or member(LanguageFindingSeverity, severity)
    finding.message = body["message"]
    finding.start = body.get("start")
    finding.end = body.get("end")
    finding.term = body.get("term")
    finding.suggestion = body.get("suggestion")
    category = body.get("category")  # `known`'s answer: none for None, for a value it lacks, or of another type
    if category is None:
        finding.category = None
    elif type(category) is str:
        finding.category = _CATEGORIES.get(category)
    else:
        finding.category = known(LanguageFindingCategory, category)
    return finding


@strawberry.type
class PersonRef:
    name: str
    person_id: strawberry.ID | None

    @classmethod
    def from_json(cls, body: Any) -> PersonRef:
        ref = object.__new__(cls)  # two per statement: its fields set as the dataclass's `__init__` sets them
        if isinstance(body, str):
            ref.name, ref.person_id = body, None
        else:
            person_id = body.get("person_id")
            ref.name = body["name"]
            ref.person_id = strawberry.ID(person_id) if person_id else None
        return ref

    @classmethod
    def many(cls, value: Any) -> list[PersonRef]:
        from_json = cls.from_json
        return [from_json(v) for v in value] if value else []


@strawberry.type(
    description="A harm (past) or danger (future) statement as this audience may see it, its text in "
    "the asked language when a verified, current translation exists"
)
class Statement(Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    kind: StatementKind
    status: StatementStatus
    text: str
    language: str = strawberry.field(description="The language `text` is in")
    original_language: str
    language_fallback: bool = strawberry.field(
        description="True when no verified, current translation into the asked language exists: `text` is the original"
    )
    threat_codes: list[str]
    who_is_worried: str | None
    caregiver_behaviour: str | None
    context_trigger: str | None
    feared_impact_on_child: str | None
    who_reported: str | None = strawberry.field(description="Reporter identity: staff and supervisors only")
    caregivers: list[PersonRef]
    action_or_inaction: str | None
    when_or_how_often: str | None
    impact_on_child: str | None
    children: list[PersonRef]
    agrees: list[str]
    disputes: list[str]
    sensitivity_labels: list[SensitivityLabel]
    redacted: list[str] = strawberry.field(description="Fields withheld from this audience (camelCase names)")
    plain_language: PlainLanguageCheck | None
    version: int
    sharing: Sharing = strawberry.field(description=SHARING)

    @classmethod
    def from_json(cls, body: dict[str, Any], shown: InLanguage) -> Statement:
        """The statement as the view shows it, its words `shown`. Its fields are set one by one, as the
        dataclass's `__init__` sets them, without a call with 25 keywords (about a tenth of building one; the
        full view builds 41); `tests/gateway/test_case_view.py` checks every field is set and that the object
        equals what `__init__` makes of them."""
        get = body.get
        statement = object.__new__(cls)
        statement.id = body["id"]
        kind, status, sharing = body["kind"], body["status"], get("sharing", Sharing.DRAFT.value)
        statement.kind = _KINDS.get(kind) or member(StatementKind, kind)
        statement.status = _STATUSES.get(status) or member(StatementStatus, status)
        statement.text = shown.text
        statement.language = shown.language
        statement.original_language = shown.original_language
        statement.language_fallback = shown.fallback
        statement.threat_codes = list(get("threat_codes", []))
        statement.who_is_worried = get("who_is_worried")
        statement.caregiver_behaviour = get("caregiver_behaviour")
        statement.context_trigger = get("context_trigger")
        statement.feared_impact_on_child = get("feared_impact_on_child")
        statement.who_reported = get("who_reported")
        statement.caregivers = PersonRef.many(get("caregivers"))
        statement.action_or_inaction = get("action_or_inaction")
        statement.when_or_how_often = get("when_or_how_often")
        statement.impact_on_child = get("impact_on_child")
        statement.children = PersonRef.many(get("children"))
        statement.agrees = list(get("agrees", []))
        statement.disputes = list(get("disputes", []))
        statement.sensitivity_labels = [
            label for label in (known(SensitivityLabel, v) for v in get("sensitivity_labels", [])) if label
        ]
        statement.redacted = [camel(name) for name in get("redacted", [])]
        statement.plain_language = PlainLanguageCheck.from_json(get("plain_language"))
        statement.version = get("version", 1)
        statement.sharing = _SHARING.get(sharing) or member(Sharing, sharing)
        return statement


_KINDS, _STATUSES, _SHARING = members(StatementKind), members(StatementStatus), members(Sharing)


@strawberry.type
class InReaderLanguage:
    """Words the gateway put in the reader's language (`labels.item_in_language`)."""

    language: str = strawberry.field(default="en", description="The language `text` is in")
    original_language: str = strawberry.field(default="en", description="The language the words were written in")
    language_fallback: bool = strawberry.field(
        default=False,
        description="True when some of the words have no verified, current translation into the asked language "
        "and are shown as written",
    )
    untranslated_fields: list[str] = strawberry.field(
        default_factory=list,
        description="The fields shown as written, in `originalLanguage` (`text`, `byWhom`, …): mark them with "
        "that language (HTML `lang`) and say they are not yet translated",
    )


@strawberry.type(description="One thing on the map, with who said it and who agrees or disputes it")
class MapEntry(InReaderLanguage, Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    text: str
    source: PersonRef | None
    agrees: list[str]
    disputes: list[str]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> MapEntry:
        return cls(**_map_entry(body))


@strawberry.type(description="What someone already did to protect the children when the danger was present")
class ExistingSafety(InReaderLanguage, Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    text: str
    source: PersonRef | None
    agrees: list[str]
    disputes: list[str]
    by_whom: str | None
    when: str | None
    how_often: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ExistingSafety:
        return cls(
            **_map_entry(body), by_whom=body.get("by_whom"), when=body.get("when"), how_often=body.get("how_often")
        )


@strawberry.type(description="A page of harm or danger statements, oldest first")
class StatementPage:
    nodes: list[Statement]
    total_count: int = strawberry.field(description="How many statements of this kind the case has")
    page_info: PageInfo


FIRST = "How many (0 to 200)"
AFTER = "`pageInfo.endCursor` of the page before (null: from the start)"
PAGE_FIRST = "How many, forward (0 to 200; without `last` or `before` the default)"
LAST = "How many, backward (0 to 200): the last items, or those just before `before`"
BEFORE = "`pageInfo.startCursor` of the page after (null with `last`: from the end)"


@strawberry.type(description="What are we worried about? (Statements: the first `first`, then page by `…Page`.)")
class Worries:
    complicating_factors: list[MapEntry]
    harm_window: strawberry.Private[Window[Statement]]
    danger_window: strawberry.Private[Window[Statement]]

    @strawberry.field(description="The first harm statements, oldest first (all of them: `harmPage`)")
    def harm(
        self,
        info: Info[GatewayContext, None],
        first: Annotated[int, strawberry.argument(description=FIRST)] = DEFAULT_FIRST,
    ) -> list[Statement]:
        return self.harm_window.first(info, first)

    @strawberry.field(description="The first danger statements, oldest first (all of them: `dangerPage`)")
    def danger(
        self,
        info: Info[GatewayContext, None],
        first: Annotated[int, strawberry.argument(description=FIRST)] = DEFAULT_FIRST,
    ) -> list[Statement]:
        return self.danger_window.first(info, first)

    @strawberry.field(description="The harm statements a page at a time, with their count")
    async def harm_page(
        self,
        info: Info[GatewayContext, None],
        first: Annotated[int | None, strawberry.argument(description=PAGE_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> StatementPage:
        nodes, total, page_info = await self.harm_window.page(
            info, default=DEFAULT_FIRST, first=first, after=after, last=last, before=before
        )
        return StatementPage(nodes=nodes, total_count=total, page_info=page_info)

    @strawberry.field(description="The danger statements a page at a time, with their count")
    async def danger_page(
        self,
        info: Info[GatewayContext, None],
        first: Annotated[int | None, strawberry.argument(description=PAGE_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> StatementPage:
        nodes, total, page_info = await self.danger_window.page(
            info, default=DEFAULT_FIRST, first=first, after=after, last=last, before=before
        )
        return StatementPage(nodes=nodes, total_count=total, page_info=page_info)


@strawberry.type(description="What's working well?")
class WorkingWell:
    strengths: list[MapEntry]
    existing_safety: list[ExistingSafety]


@strawberry.type
class SafetyGoal(Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    danger_statement_id: strawberry.ID
    status: GoalStatus
    text: str
    language: str
    original_language: str
    language_fallback: bool
    duration: str
    duration_text: str
    owner: GoalOwner
    sharing: Sharing = strawberry.field(description=SHARING)

    @classmethod
    def from_json(cls, body: dict[str, Any], shown: InLanguage) -> SafetyGoal:
        return cls(
            id=strawberry.ID(body["id"]),
            danger_statement_id=strawberry.ID(body["danger_statement_id"]),
            status=member(GoalStatus, body["status"]),
            text=shown.text,
            language=shown.language,
            original_language=shown.original_language,
            language_fallback=shown.fallback,
            duration=body["duration"],
            duration_text=body.get("duration_text") or body["duration"],
            owner=member(GoalOwner, body["owner"]),
            sharing=member(Sharing, body.get("sharing", Sharing.DRAFT.value)),
        )


@strawberry.type
class NextStep(InReaderLanguage, Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    source: NextStepSource
    action: str
    owner: str | None
    due_on: dt.date | None
    status: NextStepStatus
    overdue: bool

    @classmethod
    def from_map(cls, body: dict[str, Any], today: dt.date) -> NextStep:
        due_on, status = _date(body.get("due_on")), member(NextStepStatus, body.get("status", "open"))
        return cls(
            id=strawberry.ID(body["id"]),
            source=NextStepSource.MAP,
            action=body["text"],
            owner=body.get("owner"),
            due_on=due_on,
            status=status,
            overdue=status == NextStepStatus.OPEN and due_on is not None and due_on < today,
            **_languages(body, renamed={"text": "action"}),
        )

    @classmethod
    def from_case_plan(cls, body: dict[str, Any]) -> NextStep:
        owner = body.get("owner")
        return cls(
            id=strawberry.ID(body["id"]),
            source=NextStepSource.CASE_PLAN,
            action=body["action"],
            owner=owner.get("name") if isinstance(owner, dict) else owner,
            due_on=_date(body.get("due_on")),
            status=member(NextStepStatus, body["status"]),
            overdue=bool(body.get("overdue")),
            **_languages(body),
        )


# --- safety scale ---


@strawberry.type
class ScaleRating(Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    statement_id: strawberry.ID | None
    occasion_on: dt.date
    occasion: str
    rater_name: str
    rater_role: RaterRole
    score: int
    rationale: str | None
    one_step_up: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ScaleRating:
        return cls(
            id=strawberry.ID(body["id"]),
            statement_id=_id(body.get("statement_id")),
            occasion_on=dt.date.fromisoformat(body["occasion_on"]),
            occasion=body.get("occasion", ""),
            rater_name=body["rater_name"],
            rater_role=member(RaterRole, body["rater_role"]),
            score=body["score"],
            rationale=body.get("rationale"),
            one_step_up=body.get("one_step_up"),
        )


@strawberry.type
class TrajectoryRating:
    rater_name: str
    rater_role: RaterRole
    score: int


@strawberry.type
class TrajectoryOccasion:
    occasion_on: dt.date
    occasion: str
    ratings: list[TrajectoryRating]
    lowest: int
    highest: int
    mean: float


@strawberry.type
class RaterPoint:
    occasion_on: dt.date
    occasion: str
    score: int
    change: int | None


@strawberry.type
class RaterSeries:
    rater_name: str
    rater_role: RaterRole
    points: list[RaterPoint]


@strawberry.type(description="How one danger statement (statementId) or the overall rating (null) moved over time")
class Trajectory:
    statement_id: strawberry.ID | None
    occasions: list[TrajectoryOccasion]
    raters: list[RaterSeries]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Trajectory:
        """One trajectory, its fields set one by one as the dataclass's `__init__` sets them (the full view
        builds one per danger statement, most without occasions yet)."""
        trajectory = object.__new__(cls)
        trajectory.statement_id = _id(body.get("statement_id"))
        trajectory.occasions = [_occasion(o) for o in body.get("occasions", [])]
        trajectory.raters = [_rater_series(s) for s in body.get("raters", [])]
        return trajectory


def _occasion(body: dict[str, Any]) -> TrajectoryOccasion:
    return TrajectoryOccasion(
        occasion_on=dt.date.fromisoformat(body["occasion_on"]),
        occasion=body.get("occasion", ""),
        ratings=[
            TrajectoryRating(
                rater_name=r["rater_name"], rater_role=member(RaterRole, r["rater_role"]), score=r["score"]
            )
            for r in body.get("ratings", [])
        ],
        lowest=body["lowest"],
        highest=body["highest"],
        mean=body["mean"],
    )


def _rater_series(body: dict[str, Any]) -> RaterSeries:
    return RaterSeries(
        rater_name=body["rater_name"],
        rater_role=member(RaterRole, body["rater_role"]),
        points=[
            RaterPoint(
                occasion_on=dt.date.fromisoformat(p["occasion_on"]),
                occasion=p.get("occasion", ""),
                score=p["score"],
                change=p.get("change"),
            )
            for p in body.get("points", [])
        ],
    )


@strawberry.type(
    description="A page of the safety scale's trajectories: the overall rating first, then each danger "
    "statement, active ones first"
)
class TrajectoryPage:
    nodes: list[Trajectory]
    total_count: int = strawberry.field(description="How many trajectories the scale has (overall and per statement)")
    page_info: PageInfo


@strawberry.type(description="0: the children cannot safely be with their caregivers; 10: enough safety to close")
class SafetyScale:
    latest: list[ScaleRating] = strawberry.field(
        description="The ratings of the latest occasion of each target in the case view's first trajectories"
    )
    trajectory_window: strawberry.Private[Window[Trajectory]]

    @strawberry.field(
        description="The first trajectories: the overall rating, then each danger statement, active ones first "
        "(all of them: `trajectoryPage`)"
    )
    def trajectory(
        self,
        info: Info[GatewayContext, None],
        first: Annotated[int, strawberry.argument(description=FIRST)] = DEFAULT_FIRST,
    ) -> list[Trajectory]:
        return self.trajectory_window.first(info, first)

    @strawberry.field(description="The trajectories a page at a time, with their count")
    async def trajectory_page(
        self,
        info: Info[GatewayContext, None],
        first: Annotated[int | None, strawberry.argument(description=PAGE_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> TrajectoryPage:
        nodes, total, page_info = await self.trajectory_window.page(
            info, default=DEFAULT_FIRST, first=first, after=after, last=last, before=before
        )
        return TrajectoryPage(nodes=nodes, total_count=total, page_info=page_info)

    @classmethod
    def from_json(cls, body: dict[str, Any] | None, the_list: CaseList, read_rest: ReadRest | None) -> SafetyScale:
        body = body or {}
        return cls(
            latest=[ScaleRating.from_json(r) for r in body.get("latest", [])],
            trajectory_window=Window.of(
                the_list, body.get("trajectory", []), body.get("trajectory_paging"), Trajectory.from_json, read_rest
            ),
        )


# --- SDM ---


@strawberry.type
class SdmDueDate:
    kind: str = strawberry.field(description="The instrument's due rule, e.g. `complete_by`, `reassess_by`")
    label: str | None
    due_at: str | None = strawberry.field(description="An ISO date, or an ISO timestamp for rules counted in hours")
    overdue: bool


@strawberry.type(
    description="The SDM decisions in force. `detail` (item scores, overrides, notes) only for the "
    "audiences the policy table allows it (staff, supervisor, court), when the service "
    "sent it"
)
class Sdm:
    safety_decision: SafetyDecision | None
    safety_assessed_at: dt.datetime | None
    risk_level: RiskLevel | None
    risk_assessed_at: dt.datetime | None
    due_dates: list[SdmDueDate]
    detail: JSON | None

    @classmethod
    def from_json(cls, body: dict[str, Any], *, detail_allowed: bool) -> Sdm:
        return cls(
            safety_decision=known(SafetyDecision, body.get("safety_decision")),
            safety_assessed_at=_datetime(body.get("safety_assessed_at")),
            risk_level=known(RiskLevel, body.get("risk_level")),
            risk_assessed_at=_datetime(body.get("risk_assessed_at")),
            due_dates=[
                SdmDueDate(kind=d["kind"], label=d.get("label"), due_at=d.get("due_at"), overdue=bool(d.get("overdue")))
                for d in body.get("due_dates", [])
            ],
            detail=body.get("detail") if detail_allowed else None,
        )


# --- the safety plan (plans service) ---


@strawberry.type
class SafetyPlanRule(InReaderLanguage):
    id: strawberry.ID | None = strawberry.field(name="recordId", description=VIEW_RECORD_ID, default=None)
    text: str
    threat_code: str | None
    responsible: list[str]
    monitors: list[str]
    frequency: str | None
    how_verified: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SafetyPlanRule:
        return cls(
            id=_id(body.get("id")),
            text=body["text"],
            threat_code=body.get("threat_code"),
            responsible=_names(body.get("responsible")),
            monitors=_names(body.get("monitors")),
            frequency=body.get("frequency"),
            how_verified=body.get("how_verified"),
            **_languages(body),
        )


@strawberry.type(description="Who explained a version of the plan to a signer who reads another language")
class Interpreter:
    name: str
    qualification: InterpreterQualification
    mode: InterpreterMode
    language: str = strawberry.field(description="The language they explained the plan in (BCP-47)")

    @classmethod
    def from_json(cls, body: dict[str, Any] | None) -> Interpreter | None:
        if not body:
            return None
        return cls(
            name=body["name"],
            qualification=member(InterpreterQualification, body["qualification"]),
            mode=member(InterpreterMode, body["mode"]),
            language=body["language"],
        )


@strawberry.type
class SignOff:
    signer_name: str
    signer_role: SignerRole
    decision: SignatureDecision
    version_number: int
    signed_at: dt.datetime
    language: str | None = strawberry.field(
        description="The language of the version signed (null on sign-offs recorded before languages were)"
    )
    signer_language: str | None = strawberry.field(
        description="The signer's preferred language when they signed, as the network service records it"
    )
    interpreter: Interpreter | None = strawberry.field(description="Who explained the version to the signer")


@strawberry.type
class SignOffStatus:
    complete: bool
    signed: list[str]
    refused: list[str]
    missing: list[str]


@strawberry.type
class CheckIn:
    rule_id: strawberry.ID
    occurred_at: dt.datetime
    reported_by: str
    kept: bool
    note: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> CheckIn:
        return cls(
            rule_id=strawberry.ID(body["rule_id"]),
            occurred_at=dt.datetime.fromisoformat(body["occurred_at"]),
            reported_by=_names([body["reported_by"]])[0],
            kept=body["kept"],
            note=body.get("note"),
        )


@strawberry.type(description="A page of a plan's check-ins, newest first")
class CheckInPage:
    nodes: list[CheckIn]
    total_count: int = strawberry.field(description="How many check-ins the plan has")
    page_info: PageInfo


# Reads a page of one plan's check-ins: (plan id) -> ReadRest; None where no case view is being read.
CheckInReader = Callable[[str], ReadRest]


@strawberry.type
class IfRuleBroken:
    who_is_called: list[str]
    what_happens: str


@strawberry.type(description="How a plan avoids one known trigger (the trigger's words stay in the trauma history)")
class TriggerAvoided:
    trigger_id: strawberry.ID = strawberry.field(description="The known trigger's id (assessment's trauma history)")
    how_avoided: str


@strawberry.type
class SafetyPlan(Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    plan_type: PlanType
    status: PlanStatus
    title: str | None
    language: str
    language_fallback: bool = strawberry.field(
        default=False,
        description="True when some of the plan's own words (title, red flags, what happens if a rule is broken, "
        "the backup plan) have no verified, current translation into the asked language and are shown as written",
    )
    untranslated_fields: list[str] = strawberry.field(
        default_factory=list,
        description="The plan's own words shown as written, in `language`: `title`, `triggers.0`…, "
        "`ifRuleBroken.whatHappens`, `backupPlan`",
    )
    version_number: int = strawberry.field(description="The version shown: the one in force, when one is")
    content_hash: str | None
    effective_from: dt.datetime | None
    expires_at: dt.datetime | None
    ended_at: dt.datetime | None = None
    end_reason: PlanEndReason | None = None
    end_reason_words: str | None = strawberry.field(
        default=None,
        description="Why the plan ended, in the view's language (its `labels`): fixed, reviewed words, never a code",
    )
    replaced_by_plan_id: strawberry.ID | None = strawberry.field(
        default=None, description="The plan whose coming into force ended this one (`endReason` REPLACED_BY_PLAN)"
    )
    rules: list[SafetyPlanRule]
    monitors: list[str] = strawberry.field(description="Everyone who watches that a rule is kept")
    triggers: list[str]
    trigger_plan: list[TriggerAvoided] = strawberry.field(
        description="How the plan avoids each known trigger of the case's children and caregivers: the agency, and "
        "the family once the plan is shared with them (in their language where a verified translation exists)"
    )
    if_rule_broken: IfRuleBroken | None
    backup_plan: str | None
    sign_offs: list[SignOff]
    sign_off_status: SignOffStatus | None
    check_in_window: strawberry.Private[Window[CheckIn]]

    @strawberry.field(description="The latest check-ins, newest first (all of them: `checkInPage`)")
    def recent_check_ins(
        self,
        info: Info[GatewayContext, None],
        first: Annotated[int, strawberry.argument(description=FIRST)] = DEFAULT_CHECK_INS,
    ) -> list[CheckIn]:
        return self.check_in_window.first(info, first)

    @strawberry.field(description="The plan's check-ins a page at a time, newest first, with their count")
    async def check_in_page(
        self,
        info: Info[GatewayContext, None],
        first: Annotated[int | None, strawberry.argument(description=PAGE_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> CheckInPage:
        nodes, total, page_info = await self.check_in_window.page(
            info, default=DEFAULT_CHECK_INS, first=first, after=after, last=last, before=before
        )
        return CheckInPage(nodes=nodes, total_count=total, page_info=page_info)

    @classmethod
    def from_json(cls, body: dict[str, Any], check_ins: CheckInReader | None = None) -> SafetyPlan:
        in_force = body.get("in_force") or {}
        rules = [SafetyPlanRule.from_json(r) for r in body.get("rules", [])]
        broken = body.get("if_rule_broken")
        sign_off = body.get("sign_off")
        return cls(
            id=strawberry.ID(body["id"]),
            plan_type=member(PlanType, body["plan_type"]),
            status=member(PlanStatus, body["status"]),
            title=body.get("title"),
            language=body.get("language", "en"),
            language_fallback=bool(body.get("language_fallback")),
            untranslated_fields=[
                ".".join(camel(part) for part in name.split(".")) for name in body.get("untranslated_fields") or []
            ],
            version_number=in_force.get("version_number") or body.get("current_version_number", 1),
            content_hash=in_force.get("content_hash") or body.get("content_hash"),
            effective_from=_datetime(body.get("effective_from")),
            expires_at=_datetime(body.get("expires_at")),
            ended_at=_datetime(body.get("ended_at")),
            end_reason=member(PlanEndReason, body["end_reason"]) if body.get("end_reason") else None,
            end_reason_words=body.get("end_reason_words"),
            replaced_by_plan_id=strawberry.ID(body["replaced_by_plan_id"]) if body.get("replaced_by_plan_id") else None,
            rules=rules,
            monitors=list(dict.fromkeys(m for r in rules for m in r.monitors)),
            triggers=list(body.get("triggers", [])),
            trigger_plan=[
                TriggerAvoided(trigger_id=strawberry.ID(str(e["trigger_id"])), how_avoided=e["how_avoided"])
                for e in body.get("trigger_plan") or []
            ],
            if_rule_broken=IfRuleBroken(
                who_is_called=_names(broken.get("who_is_called")), what_happens=broken["what_happens"]
            )
            if broken
            else None,
            backup_plan=body.get("backup_plan"),
            sign_offs=[
                SignOff(
                    signer_name=s["signer_name"],
                    signer_role=member(SignerRole, s["signer_role"]),
                    decision=member(SignatureDecision, s["decision"]),
                    version_number=s["version_number"],
                    signed_at=dt.datetime.fromisoformat(s["signed_at"]),
                    language=s.get("language"),
                    signer_language=s.get("signer_language"),
                    interpreter=Interpreter.from_json(s.get("interpreter")),
                )
                for s in body.get("signatures", [])
            ],
            sign_off_status=SignOffStatus(
                complete=sign_off["complete"],
                signed=list(sign_off.get("signed", [])),
                refused=list(sign_off.get("refused", [])),
                missing=list(sign_off.get("missing", [])),
            )
            if sign_off
            else None,
            check_in_window=Window.of(
                CaseList(uuid.UUID(body["case_id"]), f"check-ins.{body['id']}"),
                body.get("recent_check_ins", []),
                body.get("recent_check_ins_paging"),
                CheckIn.from_json,
                check_ins(body["id"]) if check_ins is not None else None,
            ),
        )


# --- the child's voice, the glossary, alerts ---


@strawberry.type(
    description="A child-voice record as this audience may see it: without the child's consent to share "
    "with it, only that the record exists (`restricted`, every content field null)"
)
class ChildVoice(Node):
    id: strawberry.ID = strawberry.field(name="recordId", description=VIEW_RECORD_ID)
    kind: ChildVoiceKind
    restricted: bool
    created_at: dt.datetime
    child_name: str | None
    language: str | None
    content: JSON | None = strawberry.field(
        description="The child's own words and drawings' ids, as recorded; its "
        "shape depends on `kind` (see docs/assessment.md)"
    )
    translations: list[ChildWordsTranslation] = strawberry.field(
        default_factory=list,
        description="Verified, current translations of the child's words into the view's language, to show "
        "beside them (the child's words stay as they said them)",
    )

    @classmethod
    def from_json(cls, body: dict[str, Any], language: str = "en") -> ChildVoice:
        restricted = bool(body.get("restricted")) or body.get("content") is None
        child = body.get("child") or {}
        places: dict[str, ChildWordsTranslation] = {}
        for t in [] if restricted else body.get("translations") or []:
            place = str(t.get("source_field") or "")
            shown = in_language("", str(body.get("language") or "en"), [t], language)
            if not shown.fallback and shown.text:
                places[place] = ChildWordsTranslation(place=place, language=shown.language, text=shown.text)
        return cls(
            translations=list(places.values()),
            id=strawberry.ID(body["id"]),
            kind=member(ChildVoiceKind, body["kind"]),
            restricted=restricted,
            created_at=dt.datetime.fromisoformat(body["created_at"]),
            child_name=None if restricted else child.get("name"),
            language=None if restricted else body.get("language"),
            content=None if restricted else body.get("content"),
        )


@strawberry.type(description="A translation of some of a child's words, shown beside them")
class ChildWordsTranslation:
    place: str = strawberry.field(description="Where the words are in `content`, e.g. houses.0.entries.1.words")
    language: str
    text: str


@strawberry.type
class GlossaryEntry:
    key: str
    term: str
    english_term: str
    meaning: str | None
    status: GlossaryStatus


@strawberry.type(description="The plain meaning of the terms this view uses, in its language")
class Glossary:
    language: str
    language_name: str
    reviewed: bool
    entries: list[GlossaryEntry]


@strawberry.type
class Alert:
    kind: AlertKind
    title: str
    message: str
    due_at: dt.datetime | None
    plan_id: strawberry.ID | None
    next_step_id: strawberry.ID | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Alert:
        return cls(
            kind=member(AlertKind, body["kind"]),
            title=body["title"],
            message=body["message"],
            due_at=_datetime(body.get("due_at")),
            plan_id=_id(body.get("plan_id")),
            next_step_id=_id(body.get("next_step_id")),
        )


@strawberry.type(description="The view's fixed headings and its three questions in the view's language")
class ViewLabels:
    language: str = strawberry.field(description="The language the labels are in")
    fallback: bool = strawberry.field(description="True when the asked language has no labels: they are English")
    worries: str
    working_well: str
    needs_to_happen: str
    harm: str
    danger: str
    complicating_factors: str
    strengths: str
    existing_safety: str
    safety_goals: str
    next_steps: str
    safety_scale: str
    sdm: str
    safety_plan: str
    network: str
    children: str
    caregivers: str
    child_voice: str
    glossary: str
    alerts: str


@strawberry.type
class Me:
    subject: str
    name: str | None
    actor_type: ActorType
    roles: list[str]
    scopes: list[str]
    agency: str | None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _map_entry(body: dict[str, Any]) -> dict[str, Any]:
    source = body.get("source")
    return {
        "id": strawberry.ID(body["id"]),
        "text": body["text"],
        "source": PersonRef.from_json(source) if source else None,
        "agrees": list(body.get("agrees", [])),
        "disputes": list(body.get("disputes", [])),
        **_languages(body),
    }


def _languages(body: dict[str, Any], renamed: dict[str, str] | None = None) -> dict[str, Any]:
    """The language fields of words the gateway put in the reader's language (`labels.item_in_language`).
    `renamed`: the service's field names this type gives other names (a map step's `text` is `action`)."""
    language = str(body.get("language") or "en")
    renamed = renamed or {}
    return {
        "language": language,
        "original_language": str(body.get("original_language") or language),
        "language_fallback": bool(body.get("language_fallback")),
        "untranslated_fields": [camel(renamed.get(name, name)) for name in body.get("untranslated_fields") or []],
    }


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v if isinstance(v, str) else str(v.get("name") or v.get("person_id") or v) for v in value]


def _id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value else None


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(value[:10])


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
