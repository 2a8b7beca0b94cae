"""`caseView`: one family's answers to the three questions, composed from the three services.

At most one call per service: the network's slice carries the access decision (unless it is cached), then the
assessment and plans case-view reads the query selects anything from are fetched in parallel with tokens scoped to
the case (`services_read`). The gateway
decides the audience (the caller's kind of actor and this case's access decision cap it) and passes it as
`X-SOP-Audience`; each service redacts its fields for it. A section whose service fails comes back null with
an error naming the section and the service; the rest of the view still answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from sop_gateway.access import CaseAccess, access_from, record_refusal
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.execution import answer_after
from sop_gateway.graphql.global_ids import ViewKey, register_view
from sop_gateway.graphql.ids import bad_input
from sop_gateway.graphql.labels import (
    InLanguage,
    in_language,
    item_in_language,
    labels_for,
    plan_in_language,
    terms_used,
)
from sop_gateway.graphql.paging import ReadRest, Window, slice_params, widest_slices
from sop_gateway.graphql.per_document import per_document
from sop_gateway.graphql.types import (
    Alert,
    AlertKind,
    Audience,
    Case,
    CasePerson,
    ChildVoice,
    ExistingSafety,
    Glossary,
    GlossaryEntry,
    GlossaryStatus,
    MapEntry,
    NextStep,
    SafetyGoal,
    SafetyNetwork,
    SafetyPlan,
    SafetyScale,
    Sdm,
    Statement,
    ViewLabels,
    WorkingWell,
    Worries,
)
from sop_gateway.upstream import UpstreamError
from sop_gateway.wire_json import read_json
from sop_shared.audit import AuditEntry
from sop_shared.auth import Principal
from sop_shared.language_tags import BadLanguageTag, standard_language_tag
from sop_shared.observability import request_id_var
from sop_shared.pagination import NOT_OURS, CaseList
from sop_shared.policy import DEFAULT_AUDIENCE, ActorType, SensitivityLabel, audiences_allowed, may_see
from sop_shared.policy import Audience as PolicyAudience

CHILD_ROLES = {"child"}
# The words of a map item that a family reads (each translated on its own).
MAP_ITEM_FIELDS = ("text", "by_whom", "when", "how_often", "owner")
CAREGIVER_ROLES = {"caregiver", "parent"}
# The agency's own readers: the work queue (alerts) is theirs; the plans service keeps the same rule.
AGENCY_AUDIENCES = frozenset({PolicyAudience.staff, PolicyAudience.supervisor})

# Which services each section draws on (in the view's order): a section is unavailable when any of them failed.
SECTION_SOURCES: dict[str, tuple[str, ...]] = {
    "case": ("network",),
    "children": ("network",),
    "caregivers": ("network",),
    "network": ("network",),
    "worries": ("assessment",),
    "workingWell": ("assessment",),
    "needsToHappen.safetyGoals": ("assessment",),
    "needsToHappen.nextSteps": ("plans", "assessment"),
    "safetyScale": ("assessment",),
    "sdm": ("assessment",),
    "safetyPlan": ("plans",),
    "safetyPlans": ("plans",),
    "childVoice": ("assessment",),
    "glossary": ("assessment",),
    "alerts": ("plans", "assessment"),
}


# What each of the view's fields reads beyond the network service's slice (always read: it carries the access
# decision). A path takes the reads of its longest listed prefix; a field not listed reads every service, so a
# field added to the view later can make the gateway read more than it needs, never less.
FIELD_READS: dict[str, tuple[str, ...]] = {
    **SECTION_SOURCES,
    "audience": (),
    "language": (),
    "labels": (),
    "needsToHappen": (),
    "glossary": ("assessment", "plans"),  # the terms used anywhere in the view's words
    "__typename": (),
}
EVERY_SERVICE = frozenset({"network", "assessment", "plans"})


class NotRead(Exception):
    """A service the query selected nothing from, so it was not called."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service}: not read (nothing selected from it)")
        self.service = service


def services_read(paths: AbstractSet[str]) -> frozenset[str]:
    """The services a query with these selected paths needs: the network's, and those its fields read."""
    needed = {"network"}
    for path in paths:
        key = path
        while key not in FIELD_READS:
            key, dot, _ = key.rpartition(".")
            if not dot:
                return EVERY_SERVICE
        needed.update(FIELD_READS[key])
    return frozenset(needed)


def not_found() -> GraphQLError:
    return GraphQLError("No such case.", extensions={"code": "NOT_FOUND"})


def forbidden_audience(audience: Audience) -> GraphQLError:
    return GraphQLError(f"You may not view this case as {audience.name}.", extensions={"code": "FORBIDDEN"})


def section_unavailable(section: str, error: BaseException) -> GraphQLError:
    service = error.service if isinstance(error, UpstreamError) else "unknown"
    return GraphQLError(
        f"The {section} section is unavailable right now ({service} service).",
        extensions={"code": "SECTION_UNAVAILABLE", "section": section, "service": service},
    )


def audiences_for(principal: Principal, case_audiences: Iterable[str] | None = None) -> frozenset[PolicyAudience]:
    """The audiences this caller may ask the view for: those its kind of actor (and, for staff, its roles)
    may ever speak for, and — once the case's access decision is known — only those the decision grants on
    this case (a partner whose grant is for `partner` may not ask for `court` there)."""
    allowed = audiences_allowed(principal.actor_type, principal.roles)
    if case_audiences is None:
        return allowed
    return allowed & {a for a in PolicyAudience if a.value in set(case_audiences)}


@dataclass
class _Slices:
    network: Any
    assessment: Any
    plans: Any

    def failure(self, section: str) -> BaseException | None:
        for service in SECTION_SOURCES[section]:
            answer = getattr(self, service)
            if isinstance(answer, BaseException):
                return answer
        return None

    def require(self, section: str) -> None:
        failure = self.failure(section)
        if failure is not None:
            raise section_unavailable(section, failure)


@strawberry.type(description="What needs to happen?")
class NeedsToHappen:
    slices: strawberry.Private[_Slices]
    language: strawberry.Private[str]

    @strawberry.field(description="What the caregivers will be doing so the children are safe, and for how long")
    def safety_goals(self) -> list[SafetyGoal] | None:
        self.slices.require("needsToHappen.safetyGoals")
        return [SafetyGoal.from_json(g, _shown(g, self.language)) for g in self.slices.assessment["safety_goals"]]

    @strawberry.field(
        description="What will happen next, who does it, by when: the case plan's steps (plans "
        "service), then the map's (assessment service)"
    )
    def next_steps(self) -> list[NextStep] | None:
        self.slices.require("needsToHappen.nextSteps")
        today = dt.datetime.now(dt.UTC).date()
        return [
            NextStep.from_case_plan(item_in_language({**s, "language": "en"}, ("action",), self.language))
            for s in self.slices.plans["next_steps"]
        ] + [NextStep.from_map(s, today) for s in _map_column(self.slices.assessment, "next_steps", self.language)]


@dataclass
class _Rest:
    """Reads the pages of the view's long lists after the first, as the view's own reads: the same case-scoped
    principal, audience and language."""

    services: Any
    principal: Principal
    case_id: uuid.UUID
    headers: dict[str, str]
    language: str

    def statements(self, kind: str) -> ReadRest:
        path = f"/v1/cases/{self.case_id}/case-view/statements"
        return self._reader("assessment", path, "worries", {"kind": kind, "language": self.language})

    def safety_scale(self) -> ReadRest:
        return self._reader("assessment", f"/v1/cases/{self.case_id}/case-view/safety-scale", "safetyScale", {})

    def check_ins(self, plan_id: str) -> ReadRest:
        return self._reader("plans", f"/v1/safety-plans/{uuid.UUID(plan_id)}/recent-check-ins", "safetyPlan", {})

    def _reader(self, service: str, path: str, section: str, params: dict[str, Any]) -> ReadRest:
        async def read(first: int, after: str | None) -> dict[str, Any]:
            query = {**params, "limit": first, **({"cursor": after} if after is not None else {})}
            try:
                response = await self.services.request(
                    service, "GET", path, self.principal, params=query, headers=self.headers
                )
            except UpstreamError as exc:
                raise section_unavailable(section, exc) from exc
            if response.status_code == 422:
                raise bad_input("after", NOT_OURS)
            if response.status_code == 404:
                raise not_found()
            if response.status_code >= 400:
                raise section_unavailable(section, UpstreamError(service, response.status_code, response.text[:300]))
            body: dict[str, Any] = read_json(response)
            return body

        return read


@strawberry.type(
    description="One family's common-language view: the three questions, for one audience, in one language"
)
class CaseView:
    case: Case
    children: list[CasePerson]
    caregivers: list[CasePerson]
    audience: Audience
    language: str
    slices: strawberry.Private[_Slices]
    rest: strawberry.Private[_Rest]
    # The plans built for `safetyPlan` and `safetyPlans`, by id: the service's JSON and the typed plan
    plans_built: strawberry.Private[dict[str, tuple[dict[str, Any], SafetyPlan]]] = dataclasses.field(
        default_factory=dict
    )
    # Words put in the view's language once for the resolvers and the glossary's look-up of terms: each
    # statement's (by the service's record, which is kept with them) and each map column's items
    words_shown: strawberry.Private[dict[int, tuple[dict[str, Any], InLanguage]]] = dataclasses.field(
        default_factory=dict
    )
    columns_shown: strawberry.Private[dict[str, list[dict[str, Any]]]] = dataclasses.field(default_factory=dict)

    @strawberry.field(
        description="The view's headings and three questions in `language` (English, with "
        "`fallback` true, when there are none in it)"
    )
    def labels(self) -> ViewLabels:
        labels = labels_for(self.language)
        return ViewLabels(language=labels.language, fallback=labels.fallback, **labels.words)

    @strawberry.field(description="The safety network: members with their roles and commitments")
    def network(self) -> SafetyNetwork:
        access = self.slices.network.get("access") or {}
        return SafetyNetwork.from_json(
            self.slices.network.get("safety_network"),
            audience=PolicyAudience(self.audience.value),
            language=self.language,
            reader_person_id=access.get("person_id"),
        )

    @strawberry.field(
        description="What are we worried about: harm (past) and danger (future) statements, and the "
        "map's complicating factors."
    )
    def worries(self) -> Worries | None:
        self.slices.require("worries")
        statements = self.slices.assessment["statements"]
        case_id = self.rest.case_id
        return Worries(
            harm_window=Window.of(
                CaseList(case_id, "statements.harm"),
                statements["harm"],
                statements.get("harm_paging"),
                self._statement,
                self.rest.statements("harm"),
            ),
            danger_window=Window.of(
                CaseList(case_id, "statements.danger"),
                statements["danger"],
                statements.get("danger_paging"),
                self._statement,
                self.rest.statements("danger"),
            ),
            complicating_factors=[MapEntry.from_json(i) for i in self._column("complicating_factors")],
        )

    @strawberry.field(description="What's working well: the map's strengths and existing safety.")
    def working_well(self) -> WorkingWell | None:
        self.slices.require("workingWell")
        return WorkingWell(
            strengths=[MapEntry.from_json(i) for i in self._column("strengths")],
            existing_safety=[ExistingSafety.from_json(i) for i in self._column("existing_safety")],
        )

    @strawberry.field(description="What needs to happen: safety goals and next steps.")
    def needs_to_happen(self) -> NeedsToHappen:
        return NeedsToHappen(slices=self.slices, language=self.language)

    @strawberry.field(description="The latest safety-scale ratings and how they moved.")
    def safety_scale(self) -> SafetyScale | None:
        self.slices.require("safetyScale")
        return SafetyScale.from_json(
            self.slices.assessment["safety_scale"],
            CaseList(self.rest.case_id, "safety-scale"),
            self.rest.safety_scale(),
        )

    @strawberry.field(
        description="The SDM safety decision, risk level and due dates (detail for staff, "
        "supervisors and the court only)."
    )
    def sdm(self) -> Sdm | None:
        self.slices.require("sdm")
        body = self.slices.assessment.get("sdm")
        return Sdm.from_json(body, detail_allowed=_sdm_detail_allowed(self.audience)) if body else None

    @strawberry.field(
        description="The safety plan in force: its version in force with rules, monitors and "
        "sign-offs (else the newest plan being prepared)."
    )
    def safety_plan(self) -> SafetyPlan | None:
        self.slices.require("safetyPlan")
        plan = self.slices.plans["safety_plan"]
        return self._plan(plan) if plan else None

    @strawberry.field(description="The case's safety plans, newest first.")
    def safety_plans(self) -> list[SafetyPlan] | None:
        self.slices.require("safetyPlans")
        return [self._plan(p) for p in self.slices.plans["plans"]]

    def _plan(self, body: dict[str, Any]) -> SafetyPlan:
        """The plan as the view shows it. The plans service sends the plan in force twice, in `safety_plan` and
        among `plans`: where its two copies are equal it is built once, and the executor then completes it once
        where `safetyPlan` and `safetyPlans` select it alike (`GatewayExecutionContext`)."""
        built = self.plans_built.get(body["id"])
        if built is not None and (built[0] is body or built[0] == body):
            return built[1]
        plan = SafetyPlan.from_json(plan_in_language(body, self.language), self.rest.check_ins)
        self.plans_built[body["id"]] = (body, plan)
        return plan

    @strawberry.field(
        description="The children's own words: content only where the child consented to share with this audience."
    )
    def child_voice(self) -> list[ChildVoice] | None:
        self.slices.require("childVoice")
        return [ChildVoice.from_json(r, self.language) for r in self.slices.assessment.get("child_voice", [])]

    @strawberry.field(description="The plain meaning, in `language`, of every term the view uses.")
    def glossary(self) -> Glossary | None:
        self.slices.require("glossary")
        body = self.slices.assessment.get("glossary") or {}
        entries = terms_used(self._sections_with_content(), self._texts(), body.get("entries", []))
        return Glossary(
            language=body.get("language", self.language),
            language_name=body.get("language_name", self.language),
            reviewed=bool(body.get("reviewed")),
            entries=[
                GlossaryEntry(
                    key=e["key"],
                    term=e["term"],
                    english_term=e["english_term"],
                    meaning=e.get("meaning"),
                    status=GlossaryStatus(e["status"]),
                )
                for e in entries
            ],
        )

    @strawberry.field(
        description="What is overdue or expiring: the plans' alerts and overdue SDM assessments "
        "(the agency's work queue: empty for audiences outside it)."
    )
    def alerts(self) -> list[Alert] | None:
        self.slices.require("alerts")
        alerts = [Alert.from_json(a) for a in self.slices.plans["alerts"]]
        if PolicyAudience(self.audience.value) in AGENCY_AUDIENCES:
            alerts += [
                _sdm_alert(d)
                for d in (self.slices.assessment.get("sdm") or {}).get("due_dates", [])
                if d.get("overdue")
            ]
        return alerts

    def _statement(self, body: dict[str, Any]) -> Statement:
        return Statement.from_json(_reporter_withheld(body, self.audience), self._words(body))

    def _words(self, body: dict[str, Any]) -> InLanguage:
        """A statement's words in the view's language (`_shown`), worked out once per view."""
        kept = self.words_shown.get(id(body))
        if kept is not None and kept[0] is body:
            return kept[1]
        shown: InLanguage = _shown(body, self.language)
        self.words_shown[id(body)] = (body, shown)
        return shown

    def _column(self, column: str) -> list[dict[str, Any]]:
        """The map's items in `column`, in the view's language (`_map_column`), worked out once per view."""
        items = self.columns_shown.get(column)
        if items is None:
            items = self.columns_shown[column] = _map_column(self.slices.assessment, column, self.language)
        return items

    def _sections_with_content(self) -> list[str]:
        """The sections (by their label keys) that have something in them, for the glossary."""
        sections = ["network"] if (self.slices.network.get("safety_network") or {}).get("members") else []
        assessment = self.slices.assessment
        if not isinstance(assessment, BaseException):
            statements = assessment["statements"]
            sections += [kind for kind in ("harm", "danger") if statements[kind]]
            sections += [
                c
                for c in ("complicating_factors", "strengths", "existing_safety", "next_steps")
                if _map_column(assessment, c)
            ]
            sections += ["safety_goals"] if assessment["safety_goals"] else []
            sections += ["safety_scale"] if (assessment.get("safety_scale") or {}).get("latest") else []
            sdm = assessment.get("sdm") or {}
            sections += [name for name in ("safety_decision", "risk_level") if sdm.get(name)]
        plans = self.slices.plans
        if not isinstance(plans, BaseException):
            sections += ["safety_plan"] if plans["safety_plan"] else []
            sections += ["next_steps"] if plans["next_steps"] else []
        return sections

    def _texts(self) -> Iterator[str]:
        """Every sentence the view shows, for the glossary's look-up of terms used in them."""
        assessment = self.slices.assessment
        if not isinstance(assessment, BaseException):
            for kind in ("harm", "danger"):
                for body in assessment["statements"][kind]:
                    yield self._words(body).text
            for goal in assessment["safety_goals"]:
                yield _shown(goal, self.language).text
            for column in ("complicating_factors", "strengths", "existing_safety", "next_steps"):
                yield from (i["text"] for i in self._column(column))
        plans = self.slices.plans
        if not isinstance(plans, BaseException) and plans["safety_plan"]:
            yield from (r["text"] for r in plans["safety_plan"].get("rules", []))
            yield from plans["safety_plan"].get("triggers", [])


def _language(language: str | None, access: CaseAccess | None) -> str:
    """The language asked for; else a family or network member's own (as the network service knows it); else
    English. A member's stored language that is not a usable tag falls back to English, never to an error."""
    if language is None:
        try:
            return standard_language_tag(access.language) if access and access.language else "en"
        except BadLanguageTag:
            return "en"
    try:
        return standard_language_tag(language)
    except BadLanguageTag as exc:
        raise GraphQLError(f"language: {exc}", extensions={"code": "BAD_USER_INPUT", "field": "language"}) from exc


async def resolve_case_view(
    info: Info[GatewayContext, None],
    case_id: strawberry.ID,
    asked_audience: Audience | None,
    asked: str | None,
    *,
    seen: AbstractSet[str] | None = None,
    view_key: str | None = None,
) -> CaseView:
    """The view, authorized and audited. `seen`: the view's paths the caller is shown, when the query's own
    selection under this field is not the view's (`node`); it also reads every bounded list as far as it may.
    `view_key`: where the view's records find it (one item of `nodes`), else this root field."""
    context = info.context
    principal = require_principal(context)
    try:
        case_uuid = uuid.UUID(str(case_id))
    except ValueError as exc:
        raise GraphQLError("caseId must be a UUID.", extensions={"code": "BAD_USER_INPUT", "field": "caseId"}) from exc
    language = _language(asked, None) if asked is not None else "en"
    audience = asked_audience or Audience(DEFAULT_AUDIENCE[principal.actor_type].value)
    wanted = PolicyAudience(audience.value)
    if wanted not in audiences_for(principal):
        raise forbidden_audience(audience)
    bounds = slice_params(info, case_uuid) if seen is None else widest_slices()
    services = context.services
    headers = {"X-SOP-Audience": audience.value}

    async def network_slice(scoped: Principal) -> Any:
        return await services.get_json("network", f"/v1/cases/{case_uuid}/view", scoped, headers=headers)

    async def assessment_slice(scoped: Principal, language: str) -> Any:
        return await services.get_json(
            "assessment",
            f"/v1/cases/{case_uuid}/case-view",
            scoped,
            params={"language": language, **bounds["assessment"]},
            headers=headers,
        )

    async def plans_slice(scoped: Principal) -> Any:
        return await services.get_json(
            "plans", f"/v1/cases/{case_uuid}/case-view", scoped, params=bounds["plans"], headers=headers
        )

    reads = (
        per_document(info, "services_read", lambda i: services_read(selected_paths(i)))
        if seen is None
        else EVERY_SERVICE
    )

    async def each_slice(scoped: Principal, language: str) -> list[Any]:
        """The assessment and plans slices the query needs, in parallel (each the JSON or the exception)."""
        calls = {"assessment": lambda: assessment_slice(scoped, language), "plans": lambda: plans_slice(scoped)}
        asked = [name for name in calls if name in reads]
        answers = iter(await asyncio.gather(*(calls[name]() for name in asked), return_exceptions=True))
        return [next(answers) if name in reads else NotRead(name) for name in calls]

    def check(access: CaseAccess) -> Principal:
        if not access.allowed:
            raise not_found()
        if wanted not in audiences_for(principal, access.audiences):
            raise forbidden_audience(audience)
        return access.downstream(principal)

    network: Any  # each slice: the service's JSON, or (from gather) the exception its call raised
    assessment: Any
    plans: Any
    cached = context.access_cache.get(principal, case_uuid)
    if cached is not None:
        if not cached.allowed:
            await record_refusal(context.access_cache, principal, case_uuid)
        scoped = check(cached)
        language = _language(asked, cached)
        network, (assessment, plans) = await asyncio.gather(
            network_slice(scoped), each_slice(scoped, language), return_exceptions=True
        )
    else:
        try:
            network = await network_slice(principal.scoped_to(case_uuid))
        except UpstreamError as exc:
            raise GraphQLError(
                "The case cannot be checked right now (network service).",
                extensions={"code": "SECTION_UNAVAILABLE", "section": "case", "service": "network"},
            ) from exc
        access = access_from(network["access"])
        context.access_cache.put(principal, access)
        if not access.allowed:
            await record_refusal(context.access_cache, principal, case_uuid)
        scoped = check(access)
        language = _language(asked, access)
        assessment, plans = await each_slice(scoped, language)
    if isinstance(network, BaseException):
        raise GraphQLError(
            "The case is unavailable right now (network service).",
            extensions={"code": "SECTION_UNAVAILABLE", "section": "case", "service": "network"},
        )
    if not network["access"]["allowed"] or network["case"] is None:
        raise not_found()
    case = network["case"]
    members = [m for m in case["members"] if m["active"]]
    view = CaseView(
        case=Case.from_json(case),
        children=[CasePerson.from_member(m) for m in members if m["role"] in CHILD_ROLES],
        caregivers=[CasePerson.from_member(m) for m in members if m["role"] in CAREGIVER_ROLES],
        audience=audience,
        language=language,
        slices=_Slices(network, assessment, plans),
        rest=_Rest(services, scoped, case_uuid, headers, language),
    )
    register_view(info, ViewKey(case_uuid, audience.value, language), view_key)
    audited = _audit_case_view(
        context, principal, case_uuid, audience, view, selected_paths(info) if seen is None else seen
    )
    if seen is None:
        # This field answers the view itself: its record is stored while the result tree is built, and the
        # view is answered only once it is stored (a failure is this field's error, as when awaited here).
        await answer_after(view, audited)
    else:
        await audited  # `node`: the answer is one record found in the view, not the view
    return view


# --- what was seen: the audit record's sections and sensitive fields ---


def selected_paths(info: Info[GatewayContext, None]) -> frozenset[str]:
    """The dotted paths the query selected under this `caseView` (fragments flattened, aliases ignored).
    Directives are not applied (a field under `@skip` counts as selected), so the answer depends on the
    document alone and is memoised per document."""
    return per_document(info, "selected_paths", _selected_paths)


def _selected_paths(info: Info[GatewayContext, None]) -> frozenset[str]:
    found: set[str] = set()
    for field in info.selected_fields:
        _walk(field.selections, "", found)
    return frozenset(found)


def _walk(selections: Iterable[Selection], prefix: str, paths: set[str]) -> None:
    for selection in selections:
        if isinstance(selection, SelectedField):
            path = f"{prefix}{selection.name}"
            paths.add(path)
            _walk(selection.selections, f"{path}.", paths)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            _walk(selection.selections, prefix, paths)


def sections_seen(view: CaseView, paths: AbstractSet[str]) -> list[str]:
    """The sections the query asked for and that answered, in the view's order."""
    seen: list[str] = []
    for section in SECTION_SOURCES:
        top = section.split(".")[0]
        if section in paths and view.slices.failure(section) is None and top not in seen:
            seen.append(top)
    return seen


def sensitive_fields_seen(view: CaseView, paths: AbstractSet[str]) -> list[str]:
    """The sensitive fields the response carries: a reporter's identity, labelled statement content shown to
    this audience, a child's own words, SDM detail."""
    fields: list[str] = []
    assessment = view.slices.assessment
    if isinstance(assessment, BaseException):
        return fields
    shown = []
    for kind in ("harm", "danger"):
        if f"worries.{kind}" in paths:
            shown += [(kind, _reporter_withheld(s, view.audience)) for s in assessment["statements"][kind]]
    if any(s.get("who_reported") and f"worries.{kind}.whoReported" in paths for kind, s in shown):
        fields.append("worries.whoReported")
    for label in SensitivityLabel:
        if any(label.value in s.get("sensitivity_labels", []) and not s.get("redacted") for _, s in shown):
            fields.append(f"worries.{label.value}")
    if "childVoice.content" in paths and any(
        r.get("content") is not None and not r.get("restricted") for r in assessment.get("child_voice", [])
    ):
        fields.append("childVoice.content")
    sdm = assessment.get("sdm") or {}
    if "sdm.detail" in paths and sdm.get("detail") is not None and _sdm_detail_allowed(view.audience):
        fields.append("sdm.detail")
    return fields


async def _audit_case_view(
    context: GatewayContext,
    principal: Principal,
    case_id: uuid.UUID,
    audience: Audience,
    view: CaseView,
    paths: AbstractSet[str],
) -> None:
    fields = sections_seen(view, paths) + sensitive_fields_seen(view, paths)
    # A unit of its own: one statement where the gateway wrote the chain head last (`record_apart`).
    await context.audit.record_apart(
        context.database,
        [
            AuditEntry.for_principal(
                principal,
                resource="case_view",
                action="read",
                case_id=case_id,
                resource_id=str(case_id),
                fields=fields,
                audience=audience.value,
                request_id=request_id_var.get(),
            )
        ],
    )


# --- small rules the resolvers share ---


def _shown(body: dict[str, Any], language: str) -> Any:
    original = body.get("composed_text") or body.get("text") or ""
    return in_language(original, body.get("language") or "en", body.get("translations") or [], language)


def _reporter_withheld(body: dict[str, Any], audience: Audience) -> dict[str, Any]:
    """The assessment service withholds the reporter's identity from audiences the policy table does not let
    see it; the gateway keeps the same rule at the edge, so a service that forgot cannot leak it."""
    if body.get("who_reported") is None or may_see(SensitivityLabel.reporter_identity, PolicyAudience(audience.value)):
        return body
    return {**body, "who_reported": None, "redacted": sorted({*body.get("redacted", []), "who_reported"})}


def _sdm_detail_allowed(audience: Audience) -> bool:
    return may_see(SensitivityLabel.sdm_detail, PolicyAudience(audience.value))


def _map_column(assessment: dict[str, Any], column: str, language: str | None = None) -> list[dict[str, Any]]:
    """The map's items in `column`; with `language`, each item's words in that language where a verified,
    current translation exists (`language_fallback` where not)."""
    the_map = assessment.get("map")
    items = list((the_map or {}).get("content", {}).get(column, []))
    if language is None:
        return items
    return [item_in_language(item, MAP_ITEM_FIELDS, language) for item in items]


def _sdm_alert(due: dict[str, Any]) -> Alert:
    title = due.get("label") or due["kind"]
    return Alert(
        kind=AlertKind.SDM_OVERDUE,
        title=title,
        message=f"{title}: overdue since {due.get('due_at')}.",
        due_at=_due_at(due.get("due_at")),
        plan_id=None,
        next_step_id=None,
    )


def _due_at(value: str | None) -> dt.datetime | None:
    """An SDM due date is a date (end of that day, UTC) or a timestamp (rules counted in hours)."""
    if not value:
        return None
    if len(value) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time.max, tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(value)


def require_principal(context: GatewayContext) -> Principal:
    if context.principal is None:
        raise GraphQLError("Authentication required.", extensions={"code": "UNAUTHENTICATED"})
    return context.principal


def is_staff(principal: Principal) -> bool:
    return principal.actor_type == ActorType.staff


__all__ = ["CaseAccess", "CaseView", "audiences_for", "resolve_case_view"]
