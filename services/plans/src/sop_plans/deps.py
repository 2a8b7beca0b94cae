"""Dependencies every plans router shares: the clock, the policy, the plan a path names, optional If-Match."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from sop_plans.models import SafetyPlan
from sop_plans.plan_policy import PlanPolicy
from sop_plans.safety_plans.service import expire_if_due, get_plan, start_if_due
from sop_plans.settings import PlansSettings
from sop_shared.auth import Principal, require_case_scope
from sop_shared.concurrency import OptionalIfMatchVersion, check_version
from sop_shared.policy import Scope
from sop_shared.problems import NotFound

NO_SUCH_PLAN = "no such safety plan"


async def _policy(request: Request) -> PlanPolicy:
    policy: PlanPolicy = request.app.state.plan_policy
    return policy


async def _settings(request: Request) -> PlansSettings:
    settings: PlansSettings = request.app.state.settings
    return settings


PolicyDep = Annotated[PlanPolicy, Depends(_policy)]
SettingsDep = Annotated[PlansSettings, Depends(_settings)]


OptionalIfMatch = OptionalIfMatchVersion


def path_case_id(request: Request) -> uuid.UUID | None:
    """The case named by the path when a plan route is reached under /v1/cases/{case_id}/… (the gateway's
    façade scopes tokens by that prefix); None on the /v1/safety-plans/… form."""
    raw = request.path_params.get("case_id")
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("no such case") from None


async def plan_for(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    plan_id: uuid.UUID,
    scope: Scope,
    *,
    for_update: bool = False,
    if_match: int | None = None,
) -> SafetyPlan:
    """The plan, if the token's case is the plan's case (and the path's case, when it names one); a plan of
    another case and a missing plan answer the same 404. A plan whose start has arrived is put in force and a
    plan past its expiry is expired first, so no reader or writer ever sees either as it was."""
    plan = await get_plan(session, plan_id, for_update=for_update)
    named_case = path_case_id(request)
    if plan is None or (named_case is not None and named_case != plan.case_id):
        raise NotFound(NO_SUCH_PLAN)
    try:
        require_case_scope(principal, plan.case_id, scope)
    except NotFound:
        raise NotFound(NO_SUCH_PLAN) from None
    now = request.app.state.clock.now()
    await start_if_due(session, plan, now=now, policy=request.app.state.plan_policy)
    await expire_if_due(session, plan, now=now)
    if if_match is not None:
        check_version(plan.version, if_match)
    return plan
