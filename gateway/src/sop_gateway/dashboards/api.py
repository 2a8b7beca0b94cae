"""`GET /dashboards/practice` (a supervisor's unit) and `GET /dashboards/coaching` (a coach's caseload and queue):
server-rendered HTML, read as the reader through the gateway's own GraphQL fields (`practiceTrend`,
`unitTrainingDue`, `coachCaseload`, `coachingQueue`), so the practice service decides who may read what and audits
every read, as it does for the API; the page's own showing is audited here too."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from sop_gateway.dashboards.labels import dashboard_words
from sop_gateway.dashboards.page import (
    DashboardPage,
    coaching_queue,
    period_note,
    render_html,
    training_due,
    unit_trend,
)
from sop_gateway.family_view.labels import PageWords
from sop_gateway.pages.reading import run_as
from sop_gateway.pages.render import clock_now, page_headers, refuse_unknown_query_params
from sop_shared.audit import AuditEntry
from sop_shared.auth import Principal, bearer_token
from sop_shared.language_tags import BadLanguageTag, standard_language_tag
from sop_shared.policy import SMALL_CELL_MIN, ActorType
from sop_shared.problems import Forbidden, InvalidInput, NotFound, ServiceUnavailable
from sop_shared.translations import AGENCY_LANGUAGE

router = APIRouter(tags=["dashboards"])
log = structlog.get_logger("sop.gateway.dashboards")

PRACTICE_PARAMS = frozenset({"unit", "quarters", "language"})
COACHING_PARAMS = frozenset({"quarters", "language"})
MAX_UNITS = 12  # a coach's page draws at most this many units (a caseload is a handful)
Quarters = Query(4, ge=1, le=12, description="How many quarters, ending with this one (1 to 12)")
Language = Query(None, description="BCP-47 language of the page (en, es, …); English by default")


@cache
def dashboards_document() -> str:
    return files("sop_gateway.dashboards").joinpath("dashboards.graphql").read_text(encoding="utf-8")


async def _reader(request: Request, language: str | None) -> tuple[Principal, str]:
    principal = await request.app.state.authenticator.authenticate(bearer_token(request))
    request.state.principal = principal
    try:
        chosen = standard_language_tag(language) if language is not None else "en"
    except BadLanguageTag as exc:
        raise InvalidInput.field("language", str(exc)) from exc
    if principal.actor_type != ActorType.staff:
        # The dashboards are staff's: a family's or a partner's login never reaches the practice service.
        raise Forbidden("the practice dashboards are for supervisors, coaches and practice leads")
    return principal, chosen


async def _read(request: Request, principal: Principal, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    result = await run_as(request, principal, dashboards_document(), variables, operation)
    if result.errors:
        raise _refusal(result.errors)
    return dict(result.data or {})


def _refusal(errors: list[Any]) -> Exception:
    for error in errors:
        original = getattr(error, "original_error", None)
        extensions = error.extensions or getattr(original, "extensions", None) or {}
        code = extensions.get("code")
        if code == "FORBIDDEN":
            return Forbidden(error.message)
        if code == "NOT_FOUND":
            return NotFound("no such unit or coach")
        if code == "BAD_USER_INPUT":
            return InvalidInput.field(str(extensions.get("field") or "unit"), error.message)
    log.warning("dashboard_read_failed", errors=[e.message for e in errors])
    return ServiceUnavailable("the practice service cannot answer right now; try again shortly")


async def _audit(request: Request, principal: Principal, resource_id: str, fields: list[str]) -> None:
    async with request.app.state.database.session() as session:
        await request.app.state.audit.record(
            session,
            AuditEntry.for_principal(
                principal, resource="practice_dashboard", action="read", resource_id=resource_id, fields=fields
            ),
        )


def _html(page: DashboardPage) -> HTMLResponse:
    return HTMLResponse(render_html(page), headers=page_headers(page.words.language))


def _page(words: PageWords, request: Request, title: str, trends: list[dict[str, Any]]) -> DashboardPage:
    minimum = next((int(t["smallCellMinimum"]) for t in trends), SMALL_CELL_MIN)
    return DashboardPage(
        words=words,
        title=title,
        period_note=period_note(trends, words),
        read_on=words.date(clock_now(request).date()),
        minimum=minimum,
        trends=[unit_trend(t, words) for t in trends],
        recorded_in=words.other_language(AGENCY_LANGUAGE),
    )


@router.get(
    "/dashboards/practice",
    response_class=HTMLResponse,
    summary="A supervisor's practice dashboard: their unit's fidelity measures by quarter beside the state average",
    responses={200: {"content": {"text/html": {}}}, 403: {"description": "Not a unit you may read"}},
)
async def practice_dashboard(
    request: Request,
    unit: str | None = Query(None, min_length=1, max_length=100, description="The unit (e.g. Pulaski-3)"),
    quarters: int = Quarters,
    language: str | None = Language,
) -> HTMLResponse:
    principal, chosen = await _reader(request, language)
    refuse_unknown_query_params(request, PRACTICE_PARAMS)
    if unit is None:
        raise InvalidInput.field("unit", "name the unit (e.g. Pulaski-3)")
    data = await _read(request, principal, "UnitTrend", {"unit": unit, "quarters": quarters})
    data |= await _read(request, principal, "UnitTraining", {"unit": unit})
    words = dashboard_words(chosen)
    page = _page(words, request, words.say("supervisor_title", unit=unit), [data["practiceTrend"]])
    page.training = training_due(data["unitTrainingDue"], words)
    await _audit(request, principal, unit, ["practiceTrend", "unitTrainingDue"])
    return _html(page)


@router.get(
    "/dashboards/coaching",
    response_class=HTMLResponse,
    summary="A coach's dashboard: their queue, their caseload, and each unit's fidelity measures by quarter",
    responses={200: {"content": {"text/html": {}}}, 403: {"description": "Not a coach"}},
)
async def coaching_dashboard(
    request: Request, quarters: int = Quarters, language: str | None = Language
) -> HTMLResponse:
    principal, chosen = await _reader(request, language)
    refuse_unknown_query_params(request, COACHING_PARAMS)
    data = await _read(request, principal, "CoachingQueue", {})
    data |= await _read(request, principal, "CoachCaseload", {"coach": principal.subject})
    caseload, queue = data["coachCaseload"], data["coachingQueue"]["nodes"]
    units = sorted({e["unit"] for e in caseload["entries"] if e.get("unit")})[:MAX_UNITS]
    trends = [await _read(request, principal, "UnitTrend", {"unit": unit, "quarters": quarters}) for unit in units]
    words = dashboard_words(chosen)
    names = {w["subject"]: w["name"] for w in caseload["workers"]}
    page = _page(
        words,
        request,
        words.say("coach_title", name=principal.name or principal.subject),
        [t["practiceTrend"] for t in trends],
    )
    page.queue = coaching_queue(queue, names, words)
    page.queue_summary = words.say(
        "goals_summary",
        sessions=words.number(sum(int(n["sessions"]) for n in queue)),
        goals=words.number(sum(int(n["openGoals"]) for n in queue)),
    )
    page.caseload = [
        words.say(
            "unit_workers",
            unit=unit,
            workers=words.join(sorted(w["name"] for w in caseload["workers"] if w["unit"] == unit)),
        )
        for unit in units
    ] + [
        words.say("worker_alone", worker=names.get(e["workerSubject"], e["workerSubject"]))
        for e in caseload["entries"]
        if e.get("workerSubject")
    ]
    await _audit(
        request,
        principal,
        principal.subject,
        ["coachCaseload", "coachingQueue", *(f"practiceTrend:{u}" for u in units)],
    )
    return _html(page)
