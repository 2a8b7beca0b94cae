"""`caseView`: one family's answers to the three questions, composed from the three services.

One call per service: the network's slice carries the access decision (unless it is cached), then the
assessment and plans slices are fetched in parallel with tokens scoped to the case. A section whose service
fails comes back null with an error naming the section; the rest of the view still answers.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError

from sop_gateway.access import CaseAccess, access_from
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.types import Audience, Case, CasePerson, SafetyPlan, Statement, Worries
from sop_gateway.models import platform
from sop_gateway.upstream import UpstreamError
from sop_shared.audit import AuditEntry, AuditWriter
from sop_shared.auth import Principal
from sop_shared.observability import request_id_var
from sop_shared.policy import ActorType, audiences_allowed
from sop_shared.policy import Audience as PolicyAudience

CHILD_ROLES = {"child"}
CAREGIVER_ROLES = {"caregiver", "parent"}


def not_found() -> GraphQLError:
    return GraphQLError("No such case.", extensions={"code": "NOT_FOUND"})


def section_unavailable(section: str, error: BaseException) -> GraphQLError:
    service = error.service if isinstance(error, UpstreamError) else "unknown"
    return GraphQLError(f"The {section} section is unavailable right now ({service} service).",
                        extensions={"code": "SECTION_UNAVAILABLE", "section": section, "service": service})


@dataclass
class _Slices:
    network: Any
    assessment: Any
    plans: Any


@strawberry.type
class CaseView:
    case: Case
    children: list[CasePerson]
    caregivers: list[CasePerson]
    audience: Audience
    language: str
    slices: strawberry.Private[_Slices]

    @strawberry.field(description="What are we worried about: harm (past) and danger (future) statements.")
    def worries(self) -> Worries | None:
        if isinstance(self.slices.assessment, BaseException):
            raise section_unavailable("worries", self.slices.assessment)
        statements = [Statement.from_json(item) for item in self.slices.assessment["items"]]
        return Worries(harm=[s for s in statements if s.kind == "harm"],
                       danger=[s for s in statements if s.kind == "danger"])

    @strawberry.field(description="The safety plan in force: the active one, else the newest.")
    def safety_plan(self) -> SafetyPlan | None:
        plans = self.safety_plans()
        if not plans:
            return None
        active = [p for p in plans if p.status == "active"]
        return (active or plans)[-1]

    @strawberry.field(description="Every safety plan of the case, oldest first.")
    def safety_plans(self) -> list[SafetyPlan] | None:
        if isinstance(self.slices.plans, BaseException):
            raise section_unavailable("safetyPlan", self.slices.plans)
        return [SafetyPlan.from_json(item) for item in self.slices.plans["items"]]


async def resolve_case_view(context: GatewayContext, case_id: strawberry.ID, audience: Audience,
                            language: str) -> CaseView:
    principal = require_principal(context)
    try:
        case_uuid = uuid.UUID(str(case_id))
    except ValueError as exc:
        raise GraphQLError("caseId must be a UUID.", extensions={"code": "BAD_USER_INPUT", "field": "caseId"}) \
            from exc
    if PolicyAudience(audience.value) not in audiences_allowed(principal.actor_type, principal.roles):
        raise GraphQLError(f"You may not view this case as {audience.name}.", extensions={"code": "FORBIDDEN"})
    services = context.services
    headers = {"X-SOP-Audience": audience.value}

    async def network_slice(scoped: Principal) -> Any:
        return await services.get_json("network", f"/v1/cases/{case_uuid}/view", scoped, headers=headers)

    async def assessment_slice(scoped: Principal) -> Any:
        return await services.get_json("assessment", f"/v1/cases/{case_uuid}/statements", scoped,
                                       params={"limit": 200}, headers=headers)

    async def plans_slice(scoped: Principal) -> Any:
        return await services.get_json("plans", f"/v1/cases/{case_uuid}/safety-plans", scoped,
                                       params={"limit": 200}, headers=headers)

    cached = context.access_cache.get(principal, case_uuid)
    if cached is not None:
        if not cached.allowed:
            raise not_found()
        scoped = principal.scoped_to(case_uuid, cached.scopes)
        network, assessment, plans = await asyncio.gather(
            network_slice(scoped), assessment_slice(scoped), plans_slice(scoped), return_exceptions=True)
    else:
        try:
            network = await network_slice(principal.scoped_to(case_uuid))
        except UpstreamError as exc:
            raise GraphQLError("The case cannot be checked right now (network service).",
                               extensions={"code": "SECTION_UNAVAILABLE", "section": "case",
                                           "service": "network"}) from exc
        access = access_from(network["access"])
        context.access_cache.put(principal, access)
        if not access.allowed:
            raise not_found()
        scoped = principal.scoped_to(case_uuid, access.scopes)
        assessment, plans = await asyncio.gather(assessment_slice(scoped), plans_slice(scoped),
                                                 return_exceptions=True)
    if isinstance(network, BaseException):
        raise GraphQLError("The case is unavailable right now (network service).",
                           extensions={"code": "SECTION_UNAVAILABLE", "section": "case", "service": "network"})
    if not network["access"]["allowed"] or network["case"] is None:
        raise not_found()
    case = network["case"]
    members = [m for m in case["members"] if m["active"]]
    view = CaseView(
        case=Case.from_json(case),
        children=[CasePerson.from_member(m) for m in members if m["role"] in CHILD_ROLES],
        caregivers=[CasePerson.from_member(m) for m in members if m["role"] in CAREGIVER_ROLES],
        audience=audience, language=language, slices=_Slices(network, assessment, plans),
    )
    await _audit_case_view(context, principal, case_uuid, audience, view)
    return view


async def _audit_case_view(context: GatewayContext, principal: Principal, case_id: uuid.UUID,
                           audience: Audience, view: CaseView) -> None:
    sections = ["case", "children", "caregivers"]
    if not isinstance(view.slices.assessment, BaseException):
        sections.append("worries")
    if not isinstance(view.slices.plans, BaseException):
        sections.append("safetyPlan")
    async with context.database.session() as session:
        await AuditWriter(platform).record(session, AuditEntry.for_principal(
            principal, resource="case_view", action="read", case_id=case_id, resource_id=str(case_id),
            fields=sections, audience=audience.value, request_id=request_id_var.get()))


def require_principal(context: GatewayContext) -> Principal:
    if context.principal is None:
        raise GraphQLError("Authentication required.", extensions={"code": "UNAUTHENTICATED"})
    return context.principal


def is_staff(principal: Principal) -> bool:
    return principal.actor_type == ActorType.staff


__all__ = ["CaseAccess", "CaseView", "resolve_case_view"]
