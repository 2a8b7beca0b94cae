"""The case boundary: every id a request body carries is resolved within the case the request is for.

A request schema says what each id field refers to with a typed reference (`PersonRef`, `DangerStatementRef`,
…, or `Annotated[uuid.UUID, CaseRef("kind")]`); ids deliberately not held to a case say why (`NotCaseScoped`). The
service registers, per kind, how to find which of a set of ids belong to a case (`CaseRefResolvers`): its own
tables for its own records, and `case_entity` (a registry fed by the other services' events) for theirs.
`build_service_app` installs one dependency on every route that checks the body before the endpoint runs, so
an id from another case is refused exactly as a random one is: 422, naming the field, "no such … in this
case" — same status, same body. Both markers appear in the OpenAPI document (`x-sop-case-ref`,
`x-sop-not-case-scoped`), which is how the generated boundary test finds every id field.
"""

from __future__ import annotations

import asyncio
import types
import typing
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Column, MetaData, String, Table, Uuid, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.auth import verified_principal
from sop_shared.db import UTCDateTime, utcnow
from sop_shared.events import Event
from sop_shared.problems import InvalidInput, NotFound, Unauthenticated
from sop_shared.query_params import query_fields

CASE_REF_SCHEMA_KEY = "x-sop-case-ref"
NOT_CASE_SCOPED_SCHEMA_KEY = "x-sop-not-case-scoped"


@dataclass(frozen=True)
class CaseRef:
    """Metadata on a UUID field: it names a record of `kind` that must belong to the request's case."""

    kind: str

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        schema[CASE_REF_SCHEMA_KEY] = self.kind
        return schema


@dataclass(frozen=True)
class NotCaseScoped:
    """Metadata on a UUID field that is deliberately not held to a case, with the reason."""

    reason: str

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        schema[NOT_CASE_SCOPED_SCHEMA_KEY] = self.reason
        return schema


# The kinds of record one case holds, in the practice's words; each service resolves the kinds it meets.
CaseIdRef = Annotated[uuid.UUID, CaseRef("case")]
# A record route served both flat (/v1/<records>/{id}) and under /v1/cases/{case_id}/…: the case the record is
# looked up in — the path's on the nested route (the gateway's REST façade mints case-scoped tokens for those),
# an optional `?case_id=` on the flat one.
CaseOfRecord = CaseIdRef | None


async def case_in_path(
    request: Request, case_id: Annotated[CaseIdRef, Path(description="The case the record is in")]
) -> uuid.UUID:
    """A router included a second time under `/v1/cases/{case_id}` declares the case with this dependency: the
    routes are documented truthfully, and a case the token is not for does not exist for the caller (the
    record itself is still looked up within the token's case)."""
    if verified_principal(request).case_id != case_id:
        raise NotFound("no such case")
    return case_id


# a person: someone in the case, a case member (SACWIS) or a safety-network member
PersonRef = Annotated[uuid.UUID, CaseRef("person")]
NetworkMemberRef = Annotated[uuid.UUID, CaseRef("network_member")]
MapRef = Annotated[uuid.UUID, CaseRef("map")]
StatementRef = Annotated[uuid.UUID, CaseRef("statement")]  # a harm or danger statement
DangerStatementRef = Annotated[uuid.UUID, CaseRef("danger_statement")]
SafetyGoalRef = Annotated[uuid.UUID, CaseRef("safety_goal")]
SdmAssessmentRef = Annotated[uuid.UUID, CaseRef("sdm_assessment")]
DrawingRef = Annotated[uuid.UUID, CaseRef("drawing")]
SafetyPlanRef = Annotated[uuid.UUID, CaseRef("safety_plan")]
SafetyPlanRuleRef = Annotated[uuid.UUID, CaseRef("safety_plan_rule")]
PlanParticipantRef = Annotated[uuid.UUID, CaseRef("plan_participant")]
NextStepRef = Annotated[uuid.UUID, CaseRef("next_step")]
# a safety-network member's own commitment that the worker confirmed (a proposal or a declined one is none)
ConfirmedCommitmentRef = Annotated[uuid.UUID, CaseRef("confirmed_commitment")]
# a known trigger of a child or caregiver in the case (assessment's trauma history; its id only)
KnownTriggerRef = Annotated[uuid.UUID, CaseRef("known_trigger")]
# an approval subject: an SDM assessment or a safety plan, by the approval's kind
ApprovalSubjectRef = Annotated[uuid.UUID, CaseRef("approval_subject")]


@dataclass(frozen=True)
class FoundRef:
    field: str
    kind: str
    id: uuid.UUID


def refs_in(value: Any, annotation: Any = None, *, path: str = "") -> Iterator[FoundRef]:
    """Every case reference in a validated request model (nested models, lists, optionals included)."""
    yield from _walk(value, annotation if annotation is not None else type(value), (), path)


def _walk(value: Any, annotation: Any, metadata: Sequence[Any], path: str) -> Iterator[FoundRef]:
    if value is None:
        return
    for item in metadata:
        if isinstance(item, CaseRef) and isinstance(value, uuid.UUID):
            yield FoundRef(path, item.kind, value)
            return
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *more = typing.get_args(annotation)
        yield from _walk(value, base, (*metadata, *more), path)
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                yield from _walk(value, arg, metadata, path)
    elif origin in (list, tuple, set, frozenset, Sequence) and isinstance(value, (list, tuple, set, frozenset)):
        args = typing.get_args(annotation)
        item_type = args[0] if args else Any
        for index, item in enumerate(value):
            yield from _walk(item, item_type, metadata, f"{path}.{index}" if path else str(index))
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, annotation):
        for name, info in type(value).model_fields.items():
            field_path = f"{path}.{name}" if path else name
            yield from _walk(getattr(value, name), info.annotation, info.metadata, field_path)


def may_hold_refs(annotation: Any) -> bool:
    """Whether a value of this type could hold a case reference where `refs_in` looks (a `CaseRef` anywhere in
    its annotations, its models' fields, their lists and unions): a body type that cannot is neither read nor
    validated a second time by `enforce_case_refs` (a SACWIS batch of a thousand cases holds none). Kept per
    type, like the validators."""
    held = _MAY_HOLD_REFS.get(id(annotation))
    if held is None or held[0] is not annotation:
        held = _MAY_HOLD_REFS[id(annotation)] = (annotation, _may_hold(annotation, (), set()))
    return held[1]


_MAY_HOLD_REFS: dict[int, tuple[Any, bool]] = {}


def _may_hold(annotation: Any, metadata: Sequence[Any], models: set[type]) -> bool:
    """`_walk`'s paths, over the type alone; a model already on the path holds nothing more than it does."""
    if any(isinstance(item, CaseRef) for item in metadata):
        return True
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *more = typing.get_args(annotation)
        return _may_hold(base, (*metadata, *more), models)
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset, Sequence):
        return any(_may_hold(arg, metadata, models) for arg in typing.get_args(annotation) if arg is not type(None))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in models:
        models.add(annotation)
        return any(_may_hold(info.annotation, info.metadata, models) for info in annotation.model_fields.values())
    return False


# --- resolving -------------------------------------------------------------------------------------------

Resolver = Callable[[AsyncSession, uuid.UUID, frozenset[uuid.UUID], Mapping[str, Any]], Awaitable[set[uuid.UUID]]]


def rows_in_case(id_column: Any, case_column: Any, *where: Any) -> Resolver:
    """A resolver for a table this service owns: the ids among `ids` whose row is in the case."""

    async def resolve(
        session: AsyncSession, case_id: uuid.UUID, ids: frozenset[uuid.UUID], body: Mapping[str, Any]
    ) -> set[uuid.UUID]:
        query = select(id_column).where(id_column.in_(ids), case_column == case_id, *where)
        return set((await session.execute(query)).scalars())

    return resolve


def the_case() -> Resolver:
    """A case id in a body is only ever the request's own case."""

    async def resolve(
        session: AsyncSession, case_id: uuid.UUID, ids: frozenset[uuid.UUID], body: Mapping[str, Any]
    ) -> set[uuid.UUID]:
        return {case_id} & ids

    return resolve


def define_case_entity_table(metadata: MetaData) -> Table:
    """Another service's records this service may be asked to refer to, learnt from that service's events."""
    return Table(
        "case_entity",
        metadata,
        Column("kind", String(40), primary_key=True),
        Column("entity_id", Uuid, primary_key=True),
        Column("case_id", Uuid, primary_key=True),  # a person may be in several families' cases
        Column("source_event_id", Uuid, nullable=True),
        Column("recorded_at", UTCDateTime, nullable=False),
    )


@dataclass(frozen=True)
class CaseEntityFeed:
    """Which event announces a record of another service: `kind` is recorded for each id found under
    `id_keys` in the event's data (a key may hold one id or a list), in the event's case, when the data
    holds every `when` pair (e.g. a statement of kind danger). A feed that `forgets` announces that the records
    are no longer to be referred to (a commitment withdrawn): they are kept as forgotten, whichever of the two
    events is applied first, and no longer found."""

    subject: str
    kind: str
    id_keys: tuple[str, ...]
    when: tuple[tuple[str, str], ...] = ()
    forgets: bool = False

    @property
    def recorded_kind(self) -> str:
        return forgotten(self.kind) if self.forgets else self.kind


def forgotten(kind: str) -> str:
    """The registry's kind for records of `kind` that are no longer to be referred to."""
    return f"{kind}:forgotten"


# The events that announce each kind of record (the services' event contract, see docs/events.md).
PEOPLE_IN_CASES = (
    CaseEntityFeed("sop.network.case.created", "person", ("person_ids",)),
    CaseEntityFeed("sop.network.case.updated", "person", ("person_ids",)),
    CaseEntityFeed("sop.network.network_member.added", "person", ("person_id",)),
)
DANGER_STATEMENTS = (
    CaseEntityFeed(
        "sop.assessment.statement.created", "danger_statement", ("statement_id",), when=(("kind", "danger"),)
    ),
)
# Every statement, harm or danger (a family may open a harm statement to their network, one by one).
STATEMENTS = (CaseEntityFeed("sop.assessment.statement.created", "statement", ("statement_id",)),)
SAFETY_GOALS = (CaseEntityFeed("sop.assessment.safety_goal.created", "safety_goal", ("safety_goal_id",)),)
SDM_ASSESSMENTS = tuple(
    CaseEntityFeed(f"sop.assessment.sdm_assessment.{event}", "sdm_assessment", ("sdm_assessment_id",))
    for event in ("created", "amended")
)
# Only the worker's confirmation announces a commitment another service may refer to (a plan rule); once
# withdrawn it may not be named again (the plans already naming it keep their words).
CONFIRMED_COMMITMENTS = (
    CaseEntityFeed("sop.network.network_commitment.confirmed", "confirmed_commitment", ("commitment_id",)),
    CaseEntityFeed(
        "sop.network.network_commitment.withdrawn", "confirmed_commitment", ("commitment_id",), forgets=True
    ),
)
# A trauma history's triggers, by id (the words never travel: label `trauma_history`).
KNOWN_TRIGGERS = tuple(
    CaseEntityFeed(f"sop.assessment.trauma_history.{what}", "known_trigger", ("trigger_ids",))
    for what in ("recorded", "updated")
)
SAFETY_PLANS = (
    CaseEntityFeed("sop.plans.safety_plan.created", "safety_plan", ("plan_id",)),
    CaseEntityFeed("sop.plans.safety_plan.created", "safety_plan_rule", ("rule_ids",)),
    CaseEntityFeed("sop.plans.safety_plan.version_created", "safety_plan_rule", ("rule_ids",)),
)


@dataclass
class KnownEntities:
    """The registry of other services' records (table `case_entity`), kept from their events. A reference
    to a record this service has not heard of yet waits a moment (`grace_seconds`) for the event before it
    is refused, so a client that creates a statement and at once a plan naming it is not turned away; a
    random id and another case's id wait alike, so the time tells nothing either."""

    table: Table
    grace_seconds: float = 2.0
    poll_seconds: float = 0.05

    def resolver(self, *kinds: str) -> Resolver:
        async def resolve(
            session: AsyncSession, case_id: uuid.UUID, ids: frozenset[uuid.UUID], body: Mapping[str, Any]
        ) -> set[uuid.UUID]:
            return await self.find(session, case_id, kinds, ids)

        return resolve

    async def _known(
        self, session: AsyncSession, case_id: uuid.UUID, kinds: Sequence[str], ids: frozenset[uuid.UUID]
    ) -> set[uuid.UUID]:
        t = self.table
        asked = [*kinds, *(forgotten(kind) for kind in kinds)]
        query = select(t.c.entity_id, t.c.kind).where(
            t.c.kind.in_(asked), t.c.entity_id.in_(ids), t.c.case_id == case_id
        )
        rows = (await session.execute(query)).all()
        return {row.entity_id for row in rows if row.kind in kinds} - {
            row.entity_id for row in rows if row.kind not in kinds
        }

    async def find(
        self, session: AsyncSession, case_id: uuid.UUID, kinds: Sequence[str], ids: frozenset[uuid.UUID]
    ) -> set[uuid.UUID]:
        found = await self._known(session, case_id, kinds, ids)
        waited = 0.0
        while found != ids and waited < self.grace_seconds:
            # End this read's transaction (it holds the connection and its snapshot) and read again: the
            # event is applied by the consumer in a transaction of its own.
            await session.rollback()
            await asyncio.sleep(self.poll_seconds)
            waited += self.poll_seconds
            found = await self._known(session, case_id, kinds, ids)
        return found

    async def record(self, session: AsyncSession, feed: CaseEntityFeed, event: Event) -> int:
        """Record the ids an event announces in its case (idempotent)."""
        case_raw = event.data.get("case_id") or (str(event.case_id) if event.case_id else None)
        if case_raw is None:
            return 0
        if any(str(event.data.get(key)) != value for key, value in feed.when):
            return 0
        case_id = uuid.UUID(str(case_raw))
        recorded = 0
        for key in feed.id_keys:
            raw = event.data.get(key)
            for value in raw if isinstance(raw, list) else [raw]:
                if not value:
                    continue
                entity_id = uuid.UUID(str(value))
                exists = (
                    await session.execute(
                        select(self.table.c.case_id).where(
                            self.table.c.kind == feed.recorded_kind,
                            self.table.c.entity_id == entity_id,
                            self.table.c.case_id == case_id,
                        )
                    )
                ).first()
                if exists is not None:
                    continue
                try:
                    async with session.begin_nested():
                        await session.execute(
                            insert(self.table).values(
                                kind=feed.recorded_kind,
                                entity_id=entity_id,
                                case_id=case_id,
                                source_event_id=event.id,
                                recorded_at=utcnow(),
                            )
                        )
                    recorded += 1
                except IntegrityError:
                    continue  # another delivery recorded it first
        return recorded


@dataclass
class CaseRefResolvers:
    """Per kind, how this service finds which ids belong to a case. A kind without a resolver is refused
    for every id (fail closed): a schema that declares a reference its service cannot check is a bug."""

    by_kind: dict[str, Resolver]

    async def check(
        self, session: AsyncSession, case_id: uuid.UUID | None, refs: Sequence[FoundRef], body: Mapping[str, Any]
    ) -> None:
        if not refs:
            return
        wanted: dict[str, set[uuid.UUID]] = {}
        for ref in refs:
            wanted.setdefault(ref.kind, set()).add(ref.id)
        found: dict[str, set[uuid.UUID]] = {}
        for kind, ids in wanted.items():
            resolver = self.by_kind.get(kind)
            found[kind] = (
                await resolver(session, case_id, frozenset(ids), body)
                if resolver is not None and case_id is not None
                else set()
            )
        errors = [
            {"field": ref.field, "message": f"no such {ref.kind.replace('_', ' ')} in this case"}
            for ref in refs
            if ref.id not in found[ref.kind]
        ]
        if errors:
            raise InvalidInput(errors)


# --- the one place it is enforced ---------------------------------------------------------------------------


def _request_case(request: Request, body: Any, token_case: uuid.UUID | None) -> uuid.UUID | None:
    """The case a request is for: the path's, else the query's `case_id`, else the body's, else the one case of
    its token."""
    raw = request.path_params.get("case_id")
    if raw is None:
        raw = request.query_params.get("case_id")
    if raw is None:
        raw = getattr(body, "case_id", None)
    if raw is None:
        return token_case
    try:
        return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
    except ValueError:
        return None


def _authenticated(request: Request) -> tuple[bool, uuid.UUID | None]:
    """Whether the request carries a valid internal token, and the case it is scoped to. An unauthenticated
    request is left to the endpoint, which answers 401 before anything about its body is said. The principal
    verified here is the one the endpoint's `CurrentPrincipal` gets (one verification per request)."""
    if getattr(request.app.state, "token_verifier", None) is None:
        return False, None
    try:
        return True, verified_principal(request).case_id
    except Unauthenticated:
        return False, None


def _body_type(request: Request) -> Any | None:
    """The type the route's body is declared as (a model, or a union of models), if it has a body."""
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    return getattr(getattr(body_field, "field_info", None), "annotation", None)


_ADAPTERS: dict[int, tuple[Any, TypeAdapter[Any]]] = {}


def _adapter(body_type: Any) -> TypeAdapter[Any]:
    """One validator per body type, built on first use (keyed by identity: route types live as long as the app)."""
    held = _ADAPTERS.get(id(body_type))
    if held is None or held[0] is not body_type:
        held = _ADAPTERS[id(body_type)] = (body_type, TypeAdapter(body_type))
    return held[1]


def _query_refs(request: Request) -> Iterator[FoundRef]:
    """Every case reference among the route's query parameters (its dependencies' included), named by the
    parameter. A value that is not a UUID is left to FastAPI's own 422."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    fields = _query_fields_with_refs(dependant)
    if not fields:
        return
    for alias, annotation, metadata in fields:
        for raw in request.query_params.getlist(alias):
            try:
                value = uuid.UUID(raw)
            except ValueError:
                continue
            yield from _walk(value, annotation, metadata, alias)


_QUERY_FIELDS: dict[int, tuple[Any, tuple[tuple[str, Any, tuple[Any, ...]], ...]]] = {}


def _query_fields_with_refs(dependant: Any) -> tuple[tuple[str, Any, tuple[Any, ...]], ...]:
    """The route's query parameters whose type may hold a case reference (alias, annotation, metadata), in their
    order, worked out once per route (keyed by identity, the dependant held beside its answer). The others can
    yield none (`_walk` finds a reference only where `_may_hold` does), so their values are not read per request."""
    held = _QUERY_FIELDS.get(id(dependant))
    if held is None or held[0] is not dependant:
        fields = tuple(
            (field.alias, field.field_info.annotation, tuple(field.field_info.metadata))
            for field in query_fields(dependant)
            if _may_hold(field.field_info.annotation, field.field_info.metadata, set())
        )
        held = _QUERY_FIELDS[id(dependant)] = (dependant, fields)
    return held[1]


async def enforce_case_refs(request: Request) -> None:
    """App dependency (installed by `build_service_app` on every route): refuse a request whose references —
    in its query or anywhere in its body — are not all in the request's case, before the endpoint runs. A body
    that does not validate is left to FastAPI's own 422. The check reads in its own short session, closed
    before the endpoint opens its own."""
    resolvers: CaseRefResolvers | None = getattr(request.app.state, "case_refs", None)
    if resolvers is None:
        return
    refs = list(_query_refs(request))
    body: Any = None
    raw: Any = {}
    body_type = _body_type(request)
    if body_type is not None and may_hold_refs(body_type):
        try:
            raw = await request.json()
            body = _adapter(body_type).validate_python(raw)
        except (ValueError, ValidationError):
            body = None
        else:
            refs += refs_in(body, body_type)
    if not refs:
        return
    authenticated, token_case = _authenticated(request)
    if not authenticated:
        return  # the endpoint answers 401 before anything about the request is said
    case_id = _request_case(request, body, token_case)
    if token_case is not None and case_id != token_case:
        raise NotFound("no such case")  # a case the token is not for does not exist for this caller
    async with request.app.state.database.session() as session:
        await resolvers.check(session, case_id, refs, raw if isinstance(raw, dict) else {})


CaseRefsDep = Depends(enforce_case_refs)
