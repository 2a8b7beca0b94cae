"""The caseload as a Relay-style connection, and one case by id or by its SACWIS id.

A page costs a constant number of calls however many cases it holds: the network's caseload list, the
network's bulk access decision (`POST /v1/case-access`: the decisions only, no case data) for the cases not
already decided (none when the cache holds them all), then one bulk call each to assessment and plans, in
parallel, through the per-request DataLoaders — and only for the cases the network allowed. A case the
caller may not see never appears; a missing case and a forbidden one answer the same NOT_FOUND."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from sop_gateway.access import CaseAccess, access_from, record_refusal
from sop_gateway.graphql.case_view import not_found, require_principal, section_unavailable
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.ids import MAX_SYSTEM_LENGTH, bad_input, external_id_segment, parse_id
from sop_gateway.graphql.paging import PageInfo, Slice, slice_of
from sop_gateway.graphql.types import Case, CaseStatus, PlanStatus, PlanType, RiskLevel, SafetyDecision, known
from sop_gateway.graphql.writes import problem_error
from sop_gateway.upstream import UpstreamError
from sop_gateway.wire_json import read_json
from sop_shared.audit import AuditEntry
from sop_shared.auth import MAX_CASES_PER_TOKEN, Principal
from sop_shared.observability import request_id_var
from sop_shared.pagination import encode_cursor

MAX_CURSOR_LENGTH = 200
DEFAULT_CASES = 25
# The network's query parameters, as the caller named them in GraphQL.
CASELOAD_ARGUMENTS = {
    "limit": "first",
    "cursor": "after",
    "assigned_to": "filter.assignedTo",
    "county": "filter.county",
    "status": "filter.status",
    "updated_since": "filter.updatedSince",
}


@strawberry.input(description="Narrows the caseload; every filter is the network caseload's own.")
class CaseFilter:
    assigned_to: str | None = strawberry.field(default=None, description="Only cases this staff member is on")
    county: str | None = None
    status: CaseStatus | None = None
    updated_since: dt.datetime | None = strawberry.field(
        default=None, description="Only cases changed at or after this time (with a time zone)"
    )


@strawberry.type
class OverallRating:
    score: float = strawberry.field(description="The mean of the raters of the latest occasion")
    occasion_on: dt.date | None


@strawberry.type(description="Where the assessment stands: danger, the latest overall scale, SDM decisions.")
class AssessmentSummary:
    active_danger_statements: int
    latest_overall_rating: OverallRating | None
    safety_decision: SafetyDecision | None
    risk_level: RiskLevel | None
    pending_approvals: int

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> AssessmentSummary:
        rating = body.get("latest_overall_rating")
        return cls(
            active_danger_statements=_count(body.get("active_danger_statements")),
            latest_overall_rating=OverallRating(score=rating["score"], occasion_on=_date(rating.get("occasion_on")))
            if rating
            else None,
            safety_decision=known(SafetyDecision, body.get("safety_decision")),
            risk_level=known(RiskLevel, body.get("risk_level")),
            pending_approvals=_count(body.get("pending_approvals")),
        )


@strawberry.type(description="The safety plan binding the family now.")
class PlanInForce:
    id: strawberry.ID
    status: PlanStatus
    plan_type: PlanType
    version_number: int | None
    effective_from: dt.datetime | None
    expires_at: dt.datetime | None


@strawberry.type(description="The plan in force and what needs attention.")
class PlanSummary:
    plan_in_force: PlanInForce | None
    open_alerts: int
    overdue_next_steps: int

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> PlanSummary:
        plan = body.get("plan_in_force")
        in_force = (
            PlanInForce(
                id=strawberry.ID(plan["id"]),
                status=PlanStatus(plan["status"]),
                plan_type=PlanType(plan["plan_type"]),
                version_number=plan.get("version_number"),
                effective_from=_datetime(plan.get("effective_from")),
                expires_at=_datetime(plan.get("expires_at")),
            )
            if plan
            else None
        )
        return cls(
            plan_in_force=in_force,
            open_alerts=_count(body.get("open_alerts")),
            overdue_next_steps=_count(body.get("overdue_next_steps")),
        )


@strawberry.type(
    description="A case on a caseload: the network's summary, and (batched per page) where its "
    "assessment and its plan stand."
)
class CaseSummary(Case):
    # The caseload is one view (staff's, as the network keeps the case), so a case here has its `id`.
    id: strawberry.ID = strawberry.field(description="The case's id")
    updated_at: dt.datetime | None
    case_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> CaseSummary:
        case = Case.from_json(body)
        return cls(
            **{f.name: getattr(case, f.name) for f in dataclasses.fields(Case)},
            updated_at=_datetime(body.get("updated_at")),
            case_uuid=uuid.UUID(body["id"]),
        )

    @strawberry.field(description="Null, with an error naming this section, when the assessment service fails.")
    async def assessment_summary(self, info: Info[GatewayContext, None]) -> AssessmentSummary | None:
        try:
            body = await info.context.loaders.assessment.load(self.case_uuid)
        except UpstreamError as exc:
            raise section_unavailable("assessmentSummary", exc) from exc
        return AssessmentSummary.from_json(body) if body else None

    @strawberry.field(description="Null, with an error naming this section, when the plans service fails.")
    async def plan_summary(self, info: Info[GatewayContext, None]) -> PlanSummary | None:
        try:
            body = await info.context.loaders.plans.load(self.case_uuid)
        except UpstreamError as exc:
            raise section_unavailable("planSummary", exc) from exc
        return PlanSummary.from_json(body) if body else None


@strawberry.type
class CaseEdge:
    cursor: str
    node: CaseSummary


@strawberry.type(description="A page of the caseload, ordered by case id.")
class CaseConnection:
    edges: list[CaseEdge]
    page_info: PageInfo


# --- resolvers -----------------------------------------------------------------------------------------


async def resolve_cases(
    context: GatewayContext,
    first: int | None,
    after: str | None,
    filter: CaseFilter | None,
    last: int | None = None,
    before: str | None = None,
) -> CaseConnection:
    principal = require_principal(context)
    listing = await list_caseload(context, principal, first, after, filter, section="cases", last=last, before=before)
    context.loaders.allow([uuid.UUID(item["id"]) for item in listing.visible])
    edges = [
        CaseEdge(cursor=encode_cursor(uuid.UUID(item["id"])), node=CaseSummary.from_json(item))
        for item in listing.visible
    ]
    await audit_read(context, principal, resource="caseload", case_id=None, fields=[f"{len(edges)} cases"])
    # The page's bounds are those of what the network listed (a case the caller may not see is left out, but
    # the next page still starts after it).
    return CaseConnection(
        edges=edges,
        page_info=listing.window.page_info([item["id"] for item in listing.listed], listing.next_cursor),
    )


@dataclass
class CaseloadListing:
    """One page of the network's caseload: what it listed, the cases of those the caller may see, and its cursor
    (reading on in the direction of the request)."""

    window: Slice
    listed: list[dict[str, Any]]
    visible: list[dict[str, Any]]
    next_cursor: str | None


async def list_caseload(
    context: GatewayContext,
    principal: Principal,
    first: int | None,
    after: str | None,
    filter: CaseFilter | None,
    *,
    section: str,
    last: int | None = None,
    before: str | None = None,
) -> CaseloadListing:
    """One page of the caller's caseload from the network (forward, or backward with `last`/`before`), only the
    cases the caller may see decided in bulk (cached). `section` names what fails when the network cannot be
    read."""
    window, params = caseload_params(first, after, filter, last, before)
    try:
        response = await context.services.request(
            "network", "GET", "/v1/cases", principal.scoped_to(None), params=params
        )
    except UpstreamError as exc:
        raise unavailable(section, exc) from exc
    if response.status_code >= 400:
        rename = {**CASELOAD_ARGUMENTS, **({"limit": "last", "cursor": "before"} if window.backward else {})}
        raise problem_error(response, "network", rename=rename)
    page = read_json(response)
    items = page["items"]
    allowed = await allowed_cases(context, principal, [uuid.UUID(item["id"]) for item in items])
    visible = [item for item in items if uuid.UUID(item["id"]) in allowed]
    return CaseloadListing(window, items, visible, page.get("next_cursor"))


async def caseload_page(
    context: GatewayContext,
    principal: Principal,
    first: int | None,
    after: str | None,
    filter: CaseFilter | None,
    *,
    section: str,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page forward of the caller's caseload: the cases the caller may see and the network's next cursor."""
    listing = await list_caseload(context, principal, first, after, filter, section=section)
    return listing.visible, listing.next_cursor


def caseload_params(
    first: int | None,
    after: str | None,
    filter: CaseFilter | None,
    last: int | None = None,
    before: str | None = None,
) -> tuple[Slice, dict[str, Any]]:
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and (
            not 1 <= len(cursor) <= MAX_CURSOR_LENGTH or not cursor.isascii() or not cursor.isprintable()
        ):
            raise bad_input(name, "not a cursor this API issued")
    window = slice_of(first, after, last, before, default=DEFAULT_CASES, maximum=MAX_CASES_PER_TOKEN)
    params: dict[str, Any] = {"limit": window.limit}
    if window.cursor is not None:
        params["cursor"] = window.cursor
    if filter is not None:
        if filter.assigned_to is not None:
            params["assigned_to"] = filter.assigned_to
        if filter.county is not None:
            params["county"] = filter.county
        if filter.status is not None:
            params["status"] = filter.status.value
        if filter.updated_since is not None:
            if filter.updated_since.tzinfo is None:
                raise bad_input("filter.updatedSince", "give a time zone, e.g. 2026-10-02T00:00:00Z")
            params["updated_since"] = filter.updated_since.isoformat()
    return window, params


async def allowed_cases(context: GatewayContext, principal: Principal, case_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The cases of a page this caller may see: decisions from the cache, the rest from the network's bulk
    decision (one call), which are cached in turn."""
    decided = {c: context.access_cache.get(principal, c) for c in case_ids}
    undecided = [c for c, access in decided.items() if access is None]
    if undecided:
        try:
            body = await _decide(context, principal, undecided)
        except UpstreamError as exc:
            raise unavailable("cases", exc) from exc
        for item in body["items"]:
            access = access_from(item)
            context.access_cache.put(principal, access)
            decided[access.case_id] = access
    return {c for c, access in decided.items() if access is not None and access.allowed}


async def _decide(context: GatewayContext, principal: Principal, case_ids: list[uuid.UUID]) -> dict[str, Any]:
    """The network's lean bulk decision (`POST /v1/case-access`): the decisions only, no case data."""
    response = await context.services.request(
        "network", "POST", "/v1/case-access", principal.scoped_to(None), json={"case_ids": [str(c) for c in case_ids]}
    )
    if response.status_code >= 400:
        raise UpstreamError("network", response.status_code, response.text[:300])
    body: dict[str, Any] = read_json(response)
    return body


async def resolve_case(context: GatewayContext, case_id: strawberry.ID) -> CaseSummary:
    case_uuid = parse_id(case_id, "id")
    principal = require_principal(context)
    cached = context.access_cache.get(principal, case_uuid)
    if cached is not None and not cached.allowed:
        await record_refusal(context.access_cache, principal, case_uuid)
        raise not_found()
    return await _case_from_slice(
        context, principal, await _network_slice(context, f"/v1/cases/{case_uuid}/view", principal.scoped_to(case_uuid))
    )


async def resolve_case_by_external_id(context: GatewayContext, system: str, external_id: str) -> CaseSummary:
    system_segment = external_id_segment(system, "system", max_length=MAX_SYSTEM_LENGTH)
    external_segment = external_id_segment(external_id, "externalId")
    principal = require_principal(context)
    # The case id is not known yet: the network decides access on the case it finds, and answers 404 alike
    # for a case that does not exist and one the caller may not see.
    return await _case_from_slice(
        context,
        principal,
        await _network_slice(
            context, f"/v1/case-views/by-external/{system_segment}/{external_segment}", principal.scoped_to(None)
        ),
    )


async def _network_slice(context: GatewayContext, path: str, scoped: Principal) -> dict[str, Any]:
    try:
        response = await context.services.request("network", "GET", path, scoped)
    except UpstreamError as exc:
        raise unavailable("case", exc) from exc
    if response.status_code == 404:
        raise not_found()
    if response.status_code >= 400:
        raise unavailable("case", UpstreamError("network", response.status_code, response.text[:300]))
    body: dict[str, Any] = read_json(response)
    return body


async def _case_from_slice(context: GatewayContext, principal: Principal, body: dict[str, Any]) -> CaseSummary:
    access: CaseAccess = access_from(body["access"])
    context.access_cache.put(principal, access)
    if not access.allowed or body.get("case") is None:
        if not access.allowed:
            await record_refusal(context.access_cache, principal, access.case_id)
        raise not_found()
    context.loaders.allow([access.case_id])
    await audit_read(context, principal, resource="case", case_id=access.case_id, fields=["case"])
    return CaseSummary.from_json(body["case"])


async def audit_read(
    context: GatewayContext, principal: Principal, *, resource: str, case_id: uuid.UUID | None, fields: list[str]
) -> None:
    await context.audit.record_apart(
        context.database,
        [
            AuditEntry.for_principal(
                principal,
                resource=resource,
                action="read",
                case_id=case_id,
                resource_id=str(case_id) if case_id else None,
                fields=fields,
                request_id=request_id_var.get(),
            )
        ],
    )


def unavailable(section: str, error: UpstreamError) -> GraphQLError:
    return GraphQLError(
        f"The {section} cannot be read right now ({error.service} service).",
        extensions={"code": "SECTION_UNAVAILABLE", "section": section, "service": error.service},
    )


def _count(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    return int(value or 0)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
