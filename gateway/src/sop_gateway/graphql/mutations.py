"""Mutations for the main workflows: statements, maps, scale ratings, SDM, safety plans, the safety network
and check-ins.

Each one: parses every id before anything else (a bad one costs no call), checks the case access (cached for
seconds, as everywhere in the gateway), mints a token scoped to the case with the decision's scopes, calls the
service's `/v1/cases/{case_id}/…` route with `expectedVersion` as `If-Match` and `idempotencyKey` as
`Idempotency-Key`, audits the write at the edge, and turns the service's problem into a GraphQL error:
422 → BAD_USER_INPUT (`fields` as the service named them), 412 → VERSION_CONFLICT (`currentVersion`),
428 → VERSION_REQUIRED, 409 → CONFLICT, 404 → NOT_FOUND, 403 → FORBIDDEN."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx
import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from sop_gateway.access import CaseAccess, forget_after_write, require_case_access
from sop_gateway.graphql.case_view import not_found, require_principal
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.ids import bad_input, idempotency_key, parse_id, parse_ids
from sop_gateway.graphql.labels import in_language
from sop_gateway.graphql.types import (
    NetworkCircle,
    PlanType,
    RaterRole,
    SafetyPlan,
    SignatureDecision,
    SignerRole,
    Statement,
    StatementKind,
    StatementStatus,
)
from sop_gateway.upstream import UpstreamError
from sop_shared.audit import AuditEntry
from sop_shared.auth import Principal
from sop_shared.concurrency import etag
from sop_shared.observability import request_id_var
from sop_shared.policy import Scope
from sop_shared.problems import NotFound

# Inputs whose open part (a JSON object) is merged into the service body beside the typed fields.
MERGED_FIELDS = ("content", "details")
MAX_VERSION = 2_147_483_647


# --- results -------------------------------------------------------------------------------------------


@strawberry.type(
    description="What a write returned: the record's id, its version (send it back as "
    "expectedVersion), its status, and the service's whole answer."
)
class MutationResult:
    id: strawberry.ID | None
    version: int | None
    status: str | None
    json: JSON

    @classmethod
    def from_response(cls, response: httpx.Response) -> MutationResult:
        body = response.json()
        return cls(
            id=strawberry.ID(body["id"]) if body.get("id") else None,
            version=response_version(response),
            status=body.get("status"),
            json=body,
        )


@strawberry.type(description="A safety plan after a write, with the version to send back as expectedVersion.")
class SafetyPlanResult:
    plan: SafetyPlan
    version: int
    warnings: JSON

    @classmethod
    def from_response(cls, response: httpx.Response) -> SafetyPlanResult:
        body = response.json()
        return cls(
            plan=SafetyPlan.from_json(body),
            version=response_version(response) or body["version"],
            warnings=body.get("warnings", []),
        )


def written_statement(body: dict[str, Any]) -> Statement:
    """The statement as its writer wrote it: in its own language, never a translation."""
    text = body.get("composed_text") or body.get("text") or ""
    return Statement.from_json(body, in_language(text, body.get("language", "en"), [], body.get("language", "en")))


def response_version(response: httpx.Response) -> int | None:
    raw = response.headers.get("ETag", "").removeprefix("W/").strip('"')
    if raw.isdigit():
        return int(raw)
    version = response.json().get("version")
    return version if isinstance(version, int) else None


# --- enums (the services' values; UPPER_CASE names) ----------------------------------------------------


@strawberry.enum
class MapContext(Enum):
    INVESTIGATION = "investigation"
    IN_HOME = "in_home"
    OUT_OF_HOME = "out_of_home"
    CONSULTATION = "consultation"
    FAMILY_MEETING = "family_meeting"
    SUPERVISION = "supervision"


@strawberry.enum
class RatingMode(Enum):
    VERBAL = "verbal"
    WRITTEN_INDEPENDENT = "written_independent"
    CHILD_PATH = "child_path"


@strawberry.enum
class ParticipantRole(Enum):
    CAREGIVER = "caregiver"
    CHILD = "child"
    NETWORK = "network"
    OTHER = "other"


@strawberry.enum
class PlanApprovalDecision(Enum):
    APPROVED = "approved"
    REQUIRES_MODIFICATION = "requires_modification"


@strawberry.enum
class SignatureMethod(Enum):
    TYPED_NAME = "typed_name"
    DRAWN = "drawn"
    PIN = "pin"
    CLICK = "click"


@strawberry.enum
class BackgroundCheck(Enum):
    NOT_STARTED = "not_started"
    PENDING = "pending"
    CLEARED = "cleared"
    NOT_CLEARED = "not_cleared"


# --- inputs (the services' main fields; the service validates the rest) ---------------------------------


@strawberry.input(description="Someone named: as the family says it, and the network's person when known.")
class PersonRefInput:
    name: str
    person_id: strawberry.ID | None = None


@strawberry.input
class StatementInput:
    kind: StatementKind
    language: str | None = None
    text: str | None = strawberry.field(default=None, description="The family's own wording; else composed")
    who_is_worried: str | None = None
    caregiver_behaviour: str | None = None
    context_trigger: str | None = None
    feared_impact_on_child: str | None = None
    who_reported: str | None = None
    caregivers: list[PersonRefInput] | None = None
    action_or_inaction: str | None = None
    when_or_how_often: str | None = None
    impact_on_child: str | None = None
    children: list[PersonRefInput] | None = None
    threat_codes: list[str] | None = None
    agrees: list[str] | None = None
    disputes: list[str] | None = None


@strawberry.input(description="Only the fields given change.")
class StatementUpdateInput:
    status: StatementStatus | None = None
    threat_codes: list[str] | None = None
    agrees: list[str] | None = None
    disputes: list[str] | None = None


@strawberry.input(description="A map to create (context and title needed) or the next version of one.")
class MapInput:
    title: str | None = None
    context: MapContext | None = strawberry.field(default=None, description="Only when creating a map")
    change_note: str | None = None
    content: JSON | None = strawberry.field(
        default=None,
        description="The map's columns as the assessment service takes them: participants, "
        "complicating_factors, strengths, existing_safety, next_steps, gray_areas",
    )


@strawberry.input
class ScaleRatingInput:
    statement_id: strawberry.ID | None = strawberry.field(default=None, description="Absent: an overall rating")
    occasion_on: dt.date
    occasion: str | None = None
    rater_name: str
    rater_person_id: strawberry.ID | None = None
    rater_role: RaterRole
    score: int
    mode: RatingMode | None = None
    rationale: str | None = None
    one_step_up: str | None = None


@strawberry.input
class SdmAssessmentInput:
    instrument_key: str
    instrument_version: str
    assessment_type: str | None = None
    answers: JSON | None = None
    children: JSON | None = None
    anchors: JSON | None = None


@strawberry.input
class PlanParticipantInput:
    name: str
    person_id: strawberry.ID | None = None
    role: ParticipantRole


@strawberry.input
class PlanRuleInput:
    text: str
    threat_code: str | None = None
    responsible: list[PersonRefInput] | None = None
    monitors: list[PersonRefInput] | None = None
    frequency: str | None = None
    how_verified: str | None = None


@strawberry.input
class SafetyPlanInput:
    plan_type: PlanType
    title: str
    language: str | None = None
    effective_from: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    safety_assessment_id: strawberry.ID | None = None
    danger_statement_ids: list[strawberry.ID] | None = None
    threat_codes: list[str] | None = None
    participants: list[PlanParticipantInput] | None = None
    rules: list[PlanRuleInput]
    details: JSON | None = strawberry.field(
        default=None,
        description="The rest as the plans service takes it: triggers, if_rule_broken, backup_plan, worker_monitoring",
    )


@strawberry.input(description="The supervisor's decision on the version they read (number and content hash).")
class PlanApprovalInput:
    version_number: int
    content_hash: str
    decision: PlanApprovalDecision
    comment: str | None = None


@strawberry.input(description="A sign-off (or refusal) of the version the signer read.")
class SignatureInput:
    version_number: int
    content_hash: str
    decision: SignatureDecision | None = None
    participant_id: strawberry.ID | None = None
    signer_name: str
    signer_person_id: strawberry.ID | None = None
    signer_role: SignerRole
    method: SignatureMethod | None = None
    typed_name: str | None = None
    affirmation: str | None = None
    image_png_base64: str | None = None
    refusal_reason: str | None = None


@strawberry.input
class CommitmentInput:
    text: str
    schedule: str | None = None


@strawberry.input(description="Someone new to the platform (not known to SACWIS).")
class NetworkPersonInput:
    first_name: str
    last_name: str
    date_of_birth: dt.date | None = None
    preferred_language: str | None = None
    needs_interpreter: bool | None = None


@strawberry.input(description="A safety-network member: a known person (personId) or a new one (person).")
class NetworkMemberInput:
    person_id: strawberry.ID | None = None
    person: NetworkPersonInput | None = None
    circle: NetworkCircle
    roles: list[str] | None = None
    commitments: list[CommitmentInput] | None = None
    availability: str | None = None
    background_check: BackgroundCheck | None = None
    background_checked_on: dt.date | None = None
    agreed_plan_version: int | None = None
    active_from: dt.date | None = None
    active_to: dt.date | None = None
    seen_danger_statements_on: dt.date | None = None


@strawberry.input
class CheckInInput:
    rule_id: strawberry.ID
    occurred_at: dt.datetime | None = None
    reported_by: PersonRefInput
    kept: bool
    note: str | None = None


# --- bodies and errors ---------------------------------------------------------------------------------


def body_of(value: Any, argument: str) -> Any:
    """A GraphQL input as the service's JSON body: snake_case names, unset fields left out, enums as their
    values, every `…_id`/`…_ids` parsed as a UUID (named by its GraphQL path when it is not one), and the
    open `content`/`details` object merged beside the typed fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        body: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None or item is strawberry.UNSET:
                continue
            path = f"{argument}.{to_camel_case(f.name)}"
            if f.name in MERGED_FIELDS:
                if not isinstance(item, dict):
                    raise bad_input(path, "must be a JSON object")
                merged = item
            elif f.name.endswith("_id"):
                body[f.name] = str(parse_id(item, path))
            elif f.name.endswith("_ids"):
                body[f.name] = [str(i) for i in parse_ids(item, path) or []]
            else:
                body[f.name] = body_of(item, path)
        for key in merged:
            if key in body:
                raise bad_input(f"{argument}.{to_camel_case(key)}", "given twice (typed and in the JSON part)")
        return {**body, **merged}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [body_of(item, f"{argument}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def problem_error(response: httpx.Response, service: str, *, rename: dict[str, str] | None = None) -> GraphQLError:
    """A service's problem+json as the GraphQL error a client can act on."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    status = response.status_code
    detail = str(problem.get("detail") or problem.get("title") or f"{service} answered {status}")
    if status in (400, 422):
        fields = [
            {"field": (rename or {}).get(e.get("field", ""), e.get("field", "")), "message": e.get("message", "")}
            for e in problem.get("errors", [])
            if isinstance(e, dict)
        ]
        extensions: dict[str, Any] = {"code": "BAD_USER_INPUT", "fields": fields}
        if fields:
            extensions["field"] = fields[0]["field"]
        return GraphQLError(detail, extensions=extensions)
    if status == 412:
        return GraphQLError(
            detail, extensions={"code": "VERSION_CONFLICT", "currentVersion": problem.get("current_version")}
        )
    if status == 428:
        return GraphQLError(
            detail, extensions={"code": "VERSION_REQUIRED", "currentVersion": problem.get("current_version")}
        )
    if status == 404:
        return GraphQLError("No such record.", extensions={"code": "NOT_FOUND"})
    if status == 403:
        return GraphQLError(detail, extensions={"code": "FORBIDDEN"})
    if status == 409:
        return GraphQLError(detail, extensions={"code": "CONFLICT"})
    return GraphQLError(
        f"The {service} service could not do this right now.",
        extensions={"code": "SERVICE_UNAVAILABLE", "service": service},
    )


# --- the one path every write takes --------------------------------------------------------------------


@dataclass(frozen=True)
class CaseWrite:
    """One write to a case's records: which service, which route under `/v1/cases/{case_id}/`, what is
    audited, and the scope the case access decision must hold."""

    name: str
    service: str
    method: str
    route: str
    resource: str
    action: str = "create"
    scope: Scope = Scope.case_write


async def write_to_case(
    context: GatewayContext,
    case_id: uuid.UUID,
    write: CaseWrite,
    body: Any,
    *,
    expected_version: int | None = None,
    key: str | None = None,
) -> httpx.Response:
    principal = require_principal(context)
    access = await _case_access(context, principal, case_id)
    if write.scope.value not in access.scopes:
        # The caller may see the case, so saying "not allowed" tells them nothing new.
        raise GraphQLError(
            f"{write.name} needs the {write.scope.value} scope on this case.", extensions={"code": "FORBIDDEN"}
        )
    headers: dict[str, str] = {}
    if expected_version is not None:
        headers["If-Match"] = etag(expected_version)
    if key is not None:
        headers["Idempotency-Key"] = key
    try:
        response = await context.services.request(
            write.service,
            write.method,
            f"/v1/cases/{case_id}/{write.route}",
            principal.scoped_to(case_id, access.scopes),
            json=body,
            headers=headers,
        )
    except UpstreamError as exc:
        # With the key the write went out with, a repeat returns the stored record instead of writing again.
        key_to_repeat = {"idempotencyKey": exc.idempotency_key} if exc.idempotency_key else {}
        raise GraphQLError(
            f"The {write.service} service could not do this right now.",
            extensions={"code": "SERVICE_UNAVAILABLE", "service": write.service, **key_to_repeat},
        ) from exc
    await _audit_write(context, principal, case_id, write, response)
    # A network write (a member who logs in, say) may change who may see the case: decide afresh next time.
    forget_after_write(
        context.access_cache,
        service=write.service,
        method=write.method,
        case_id=case_id,
        status_code=response.status_code,
    )
    if response.status_code >= 400:
        raise problem_error(response, write.service)
    return response


async def _case_access(context: GatewayContext, principal: Principal, case_id: uuid.UUID) -> CaseAccess:
    try:
        return await require_case_access(context.services, context.access_cache, principal, case_id)
    except NotFound:
        raise not_found() from None
    except UpstreamError as exc:
        raise GraphQLError(
            "The case cannot be checked right now (network service).",
            extensions={"code": "SECTION_UNAVAILABLE", "section": "case", "service": "network"},
        ) from exc


async def _audit_write(
    context: GatewayContext, principal: Principal, case_id: uuid.UUID, write: CaseWrite, response: httpx.Response
) -> None:
    record_id = None
    if response.status_code < 400:
        body = response.json()
        if isinstance(body, dict) and body.get("id"):
            record_id = str(body["id"])[:100]
    async with context.database.session() as session:
        # Recorded from what the gateway knows and the service answered, never from the caller's words.
        await context.audit.record(
            session,
            AuditEntry.for_principal(
                principal,
                resource=f"{write.service}:{write.resource}",
                action=write.action,
                case_id=case_id,
                resource_id=record_id,
                fields=[write.name, f"status:{response.status_code}"],
                request_id=request_id_var.get(),
            ),
        )


def _version(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_VERSION:
        raise bad_input("expectedVersion", "must be the version you read (1 or more)")
    return value


# --- the mutations -------------------------------------------------------------------------------------

CREATE_STATEMENT = CaseWrite("createStatement", "assessment", "POST", "statements", "statement")
SAVE_MAP = CaseWrite("saveMap", "assessment", "POST", "maps", "map")
RATE = CaseWrite("rateSafetyScale", "assessment", "POST", "scale-ratings", "scale_rating")
START_SDM = CaseWrite("startSdmAssessment", "assessment", "POST", "sdm-assessments", "sdm_assessment")
CREATE_PLAN = CaseWrite("createSafetyPlan", "plans", "POST", "safety-plans", "safety_plan")
ADD_MEMBER = CaseWrite("addNetworkMember", "network", "POST", "network/members", "network_member")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Write a harm or danger statement; the plain-language check comes back with it.")
    async def create_statement(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        input: StatementInput,
        idempotency_key: str | None = None,
    ) -> Statement:
        case, body, key = parse_id(case_id, "caseId"), body_of(input, "input"), _key(idempotency_key)
        response = await write_to_case(info.context, case, CREATE_STATEMENT, body, key=key)
        return written_statement(response.json())

    @strawberry.mutation(
        description="Resolve, withdraw or reactivate a statement, or change its threat codes or "
        "who agrees and disputes it (expectedVersion required)."
    )
    async def update_statement(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        statement_id: strawberry.ID,
        input: StatementUpdateInput,
        expected_version: int | None = None,
    ) -> Statement:
        case, statement = parse_id(case_id, "caseId"), parse_id(statement_id, "statementId")
        body, version = body_of(input, "input"), _version(expected_version)
        write = CaseWrite(
            "updateStatement", "assessment", "PATCH", f"statements/{statement}", "statement", action="update"
        )
        response = await write_to_case(info.context, case, write, body, expected_version=version)
        return written_statement(response.json())

    @strawberry.mutation(
        description="Create a map (no mapId) or save the next version of one (mapId and "
        "expectedVersion): the whole content as it should now read."
    )
    async def save_map(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        input: MapInput,
        map_id: strawberry.ID | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        case = parse_id(case_id, "caseId")
        the_map = parse_id(map_id, "mapId") if map_id is not None else None
        body, version, key = body_of(input, "input"), _version(expected_version), _key(idempotency_key)
        if the_map is None:
            response = await write_to_case(info.context, case, SAVE_MAP, body, key=key)
        else:
            if "context" in body:
                raise bad_input("input.context", "is set when the map is created and cannot change")
            write = CaseWrite("saveMap", "assessment", "PUT", f"maps/{the_map}", "map", action="update")
            response = await write_to_case(info.context, case, write, body, expected_version=version)
        return MutationResult.from_response(response)

    @strawberry.mutation(description="Record one person's 0 to 10 safety-scale rating on one occasion.")
    async def rate_safety_scale(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        input: ScaleRatingInput,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        case, body, key = parse_id(case_id, "caseId"), body_of(input, "input"), _key(idempotency_key)
        return MutationResult.from_response(await write_to_case(info.context, case, RATE, body, key=key))

    @strawberry.mutation(description="Start a draft SDM assessment with the answers known so far.")
    async def start_sdm_assessment(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        input: SdmAssessmentInput,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        case, body, key = parse_id(case_id, "caseId"), body_of(input, "input"), _key(idempotency_key)
        return MutationResult.from_response(await write_to_case(info.context, case, START_SDM, body, key=key))

    @strawberry.mutation(description="Complete an SDM assessment: the server scores it and decides.")
    async def complete_sdm_assessment(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        assessment_id: strawberry.ID,
        expected_version: int | None = None,
    ) -> MutationResult:
        case, assessment = parse_id(case_id, "caseId"), parse_id(assessment_id, "assessmentId")
        write = CaseWrite(
            "completeSdmAssessment",
            "assessment",
            "POST",
            f"sdm-assessments/{assessment}/complete",
            "sdm_assessment",
            action="update",
        )
        response = await write_to_case(info.context, case, write, None, expected_version=_version(expected_version))
        return MutationResult.from_response(response)

    @strawberry.mutation(description="Create a draft safety plan and its version 1.")
    async def create_safety_plan(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        input: SafetyPlanInput,
        idempotency_key: str | None = None,
    ) -> SafetyPlanResult:
        case, body, key = parse_id(case_id, "caseId"), body_of(input, "input"), _key(idempotency_key)
        return SafetyPlanResult.from_response(await write_to_case(info.context, case, CREATE_PLAN, body, key=key))

    @strawberry.mutation(description="Ask a supervisor to decide on the plan's current version.")
    async def submit_safety_plan(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        plan_id: strawberry.ID,
        note: str | None = None,
        supervisor: str | None = None,
        expected_version: int | None = None,
    ) -> SafetyPlanResult:
        case, plan = parse_id(case_id, "caseId"), parse_id(plan_id, "planId")
        body = {k: v for k, v in (("note", note), ("supervisor", supervisor)) if v is not None}
        write = CaseWrite(
            "submitSafetyPlan", "plans", "POST", f"safety-plans/{plan}/submit", "safety_plan", action="update"
        )
        response = await write_to_case(info.context, case, write, body, expected_version=_version(expected_version))
        return SafetyPlanResult.from_response(response)

    @strawberry.mutation(description="The supervisor's decision on the version they read (needs approvals:decide).")
    async def approve_safety_plan(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        plan_id: strawberry.ID,
        input: PlanApprovalInput,
        expected_version: int | None = None,
    ) -> SafetyPlanResult:
        case, plan = parse_id(case_id, "caseId"), parse_id(plan_id, "planId")
        body = body_of(input, "input")
        write = CaseWrite(
            "approveSafetyPlan",
            "plans",
            "POST",
            f"safety-plans/{plan}/approve",
            "safety_plan_approval",
            action="decide",
            scope=Scope.approvals_decide,
        )
        response = await write_to_case(info.context, case, write, body, expected_version=_version(expected_version))
        return SafetyPlanResult.from_response(response)

    @strawberry.mutation(description="A participant signs (or refuses) the version they read.")
    async def sign_safety_plan(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        plan_id: strawberry.ID,
        input: SignatureInput,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        case, plan = parse_id(case_id, "caseId"), parse_id(plan_id, "planId")
        body, key = body_of(input, "input"), _key(idempotency_key)
        write = CaseWrite("signSafetyPlan", "plans", "POST", f"safety-plans/{plan}/signatures", "safety_plan_signature")
        return MutationResult.from_response(await write_to_case(info.context, case, write, body, key=key))

    @strawberry.mutation(description="Add someone to the family's safety network.")
    async def add_network_member(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        input: NetworkMemberInput,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        case, body, key = parse_id(case_id, "caseId"), body_of(input, "input"), _key(idempotency_key)
        return MutationResult.from_response(await write_to_case(info.context, case, ADD_MEMBER, body, key=key))

    @strawberry.mutation(description="Someone saw whether a rule of the plan in force was kept.")
    async def record_check_in(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        plan_id: strawberry.ID,
        input: CheckInInput,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        case, plan = parse_id(case_id, "caseId"), parse_id(plan_id, "planId")
        body, key = body_of(input, "input"), _key(idempotency_key)
        write = CaseWrite("recordCheckIn", "plans", "POST", f"safety-plans/{plan}/check-ins", "check_in")
        return MutationResult.from_response(await write_to_case(info.context, case, write, body, key=key))


def _key(value: str | None) -> str | None:
    return idempotency_key(value, "idempotencyKey")
