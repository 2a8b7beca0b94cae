"""caseView over HTTP through the embedded gateway, on SQLite and PostgreSQL: the demo family's answers to the
three questions in every section, one call per service whatever the cache holds, a section per failing
service, who may see the case, and what the audit trail says was seen."""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from sop_shared.auth import Principal
from sop_shared.policy import ActorType

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ONE_CALL_EACH = {"network": 1, "assessment": 1, "plans": 1}

FULL_VIEW = """query($id: ID!, $audience: Audience = STAFF, $language: String = "en") {
 caseView(caseId: $id, audience: $audience, language: $language) {
  audience language
  labels { language fallback worries workingWell needsToHappen }
  case { recordId externalSystem externalId caseType status county }
  children { firstName role } caregivers { firstName role relationshipToChildren needsInterpreter preferredLanguage }
  network { members { firstName lastName circle roles commitments { text schedule } } meetings { heldOn decisions } }
  worries {
    harm { recordId text whoReported redacted }
    danger { kind status text language languageFallback threatCodes whoIsWorried plainLanguage { language } }
    complicatingFactors { text source { name } agrees }
  }
  workingWell { strengths { text source { name } } existingSafety { text byWhom when howOften } }
  needsToHappen { safetyGoals { status owner text durationText } nextSteps { source action owner dueOn status } }
  safetyScale { latest { raterName raterRole score occasionOn } trajectory { occasions { occasionOn lowest highest } } }
  sdm { safetyDecision riskLevel dueDates { kind overdue } detail }
  safetyPlan { planType status title versionNumber contentHash monitors
               rules { text threatCode responsible monitors }
               signOffs { signerName signerRole decision language signerLanguage
                          interpreter { name qualification mode language } }
               signOffStatus { complete missing } recentCheckIns { kept reportedBy } }
  childVoice { kind restricted childName content }
  glossary { language entries { key term meaning status } }
  alerts { kind title }
 } }"""


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def full_view(system: EmbeddedSystem, case_id: Any, **variables: Any) -> dict[str, Any]:
    user = variables.pop("user", "fsw.rivera")
    response = await system.graphql(FULL_VIEW, {"id": str(case_id), **variables}, user=user)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.sqlite_smoke
async def test_the_assigned_worker_sees_every_section_of_the_demo_family_with_one_call_per_service(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A cache whose clock stands still for this test: on a loaded machine the cold view alone can take longer than
    # the 5 s a decision is kept, and the warm-path check below is about caching, not about expiry.
    monkeypatch.setattr(
        system.gateway.state, "access_cache", dataclasses.replace(system.gateway.state.access_cache, clock=lambda: 0.0)
    )
    system.forget_access_decisions()  # seeding warmed the cache for fsw.rivera: start cold
    cold = await full_view(system, demo_case)
    assert "errors" not in cold, cold
    view = cold["data"]["caseView"]
    assert (view["audience"], view["language"]) == ("STAFF", "en")
    assert view["labels"] == {
        "language": "en",
        "fallback": False,
        "worries": "What are we worried about?",
        "workingWell": "What's working well?",
        "needsToHappen": "What needs to happen?",
    }
    assert view["case"] == {
        "recordId": str(demo_case),
        "externalSystem": "CHRIS",
        "externalId": "DEMO-2026-0001",
        "caseType": "IN_HOME",
        "status": "OPEN",
        "county": "Pulaski",
    }
    assert sorted(c["firstName"] for c in view["children"]) == ["Mateo", "Sofia"]
    assert {c["role"] for c in view["children"]} == {"CHILD"}
    assert view["caregivers"] == [
        {
            "firstName": "Maria",
            "role": "CAREGIVER",
            "relationshipToChildren": "mother",
            "needsInterpreter": True,
            "preferredLanguage": "es",
        }
    ]

    rosa, pastor = view["network"]["members"]
    assert (rosa["firstName"], rosa["circle"], pastor["circle"]) == ("Rosa", "INNER", "OUTER")
    assert "safety person at night" in rosa["roles"]
    assert rosa["commitments"][0] == {
        "text": "Calls Maria every evening at 8 to check in.",
        "schedule": "every evening, 20:00",
    }
    assert view["network"]["meetings"][0]["heldOn"] == "2026-10-04"

    worries = view["worries"]
    assert worries["harm"] == []
    [danger] = worries["danger"]
    assert (danger["kind"], danger["status"], danger["threatCodes"]) == ("DANGER", "ACTIVE", ["T4"])
    assert danger["text"].startswith("Grandma Rosa and Ms. Rivera are worried that Maria drinks")
    assert (danger["language"], danger["languageFallback"]) == ("en", False)
    assert danger["plainLanguage"]["language"] == "en"
    assert worries["complicatingFactors"] == [
        {
            "text": "Maria works late shifts and is alone with the children most evenings",
            "source": {"name": "Maria Lopez"},
            "agrees": ["Rosa Delgado"],
        }
    ]

    well = view["workingWell"]
    assert [s["source"]["name"] for s in well["strengths"]] == ["Sofia's teacher", "Rosa Delgado"]
    assert [e["when"] for e in well["existingSafety"]] == ["12 October 2026", "since 28 October 2026"]

    needs = view["needsToHappen"]
    [goal] = needs["safetyGoals"]
    assert (goal["status"], goal["owner"], goal["durationText"]) == ("ACTIVE", "FAMILY", "3 months")
    assert goal["text"].startswith("Maria will make sure a sober adult is awake")
    sources = [s["source"] for s in needs["nextSteps"]]
    assert sources[0] == "CASE_PLAN" and sources.count("MAP") == 2  # the case plan's steps, then the map's
    assert {s["status"] for s in needs["nextSteps"] if s["source"] == "MAP"} == {"DONE", "OPEN"}

    scale = view["safetyScale"]
    assert sorted((r["raterRole"], r["score"]) for r in scale["latest"]) == [
        ("CAREGIVER", 7),
        ("NETWORK", 6),
        ("WORKER", 5),
    ]
    assert [o["occasionOn"] for o in scale["trajectory"][0]["occasions"]] == ["2026-10-20", "2026-11-17"]

    sdm = view["sdm"]
    assert (sdm["safetyDecision"], sdm["riskLevel"]) == ("CONDITIONALLY_SAFE", "HIGH")  # raised one level, approved
    assert isinstance(sdm["detail"], list) and sdm["detail"]  # staff see the instruments' detail

    plan = view["safetyPlan"]
    assert plan["title"] == "Keeping Sofia and Mateo safe at night"
    assert (plan["planType"], plan["status"], plan["versionNumber"]) == ("ONGOING", "ACTIVE", 1)
    assert plan["monitors"] == ["Rosa Delgado"]
    assert [r["monitors"] for r in plan["rules"]] == [["Rosa Delgado"], ["Rosa Delgado"]]
    assert plan["rules"][0]["responsible"] == ["Maria Lopez"] and plan["rules"][0]["threatCode"] == "T4"
    assert {(s["signerName"], s["decision"]) for s in plan["signOffs"]} == {
        ("Maria Lopez", "SIGNED"),
        ("Rosa Delgado", "SIGNED"),
    }
    assert plan["signOffStatus"] == {"complete": True, "missing": []}
    # The plan is in English; Maria and Rosa read Spanish: the interpreter who explained it is on each sign-off.
    lucia = {"name": "Lucía Gómez", "qualification": "CERTIFIED_INTERPRETER", "mode": "PHONE", "language": "es"}
    assert [(s["language"], s["signerLanguage"], s["interpreter"]) for s in plan["signOffs"]] == [
        ("en", "es", lucia),
        ("en", "es", lucia),
    ]
    assert plan["recentCheckIns"] and {c["reportedBy"] for c in plan["recentCheckIns"]} == {"Rosa Delgado"}

    [houses] = view["childVoice"]
    assert (houses["kind"], houses["restricted"], houses["childName"]) == ("THREE_HOUSES", False, "Sofia")
    assert houses["content"]["houses"][0]["entries"][0]["words"] == "when mommy sleeps and I can't wake her up"

    glossary = view["glossary"]
    keys = [e["key"] for e in glossary["entries"]]
    assert glossary["language"] == "en"
    assert {"danger_statement", "safety_goal", "safety_plan", "safety_network", "existing_safety"} <= set(keys)
    assert "harm_statement" not in keys and "gray_areas" not in keys  # not used by this view
    assert isinstance(view["alerts"], list)
    assert cold["extensions"]["upstreamCalls"] == ONE_CALL_EACH

    # The first view cached the access decision: the second takes the warm path.
    assert (
        system.gateway.state.access_cache.get(Principal(subject="fsw.rivera", actor_type=ActorType.staff), demo_case)
        is not None
    )
    warm = await full_view(system, demo_case)
    assert warm["data"] == cold["data"]
    assert warm["extensions"]["upstreamCalls"] == ONE_CALL_EACH


async def test_the_assigned_supervisor_sees_the_case_and_may_ask_for_the_supervisor_audience(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    for audience in ("STAFF", "SUPERVISOR"):
        body = await system.case_view(demo_case, user="sup.okafor", audience=audience)
        assert "errors" not in body, body
        assert body["data"]["caseView"]["case"]["recordId"] == str(demo_case)
        assert len(body["data"]["caseView"]["worries"]["danger"]) == 1


async def test_a_worker_not_on_the_case_gets_the_same_not_found_as_a_case_that_does_not_exist(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    denied = await system.case_view(demo_case, user="fsw.lindqvist")
    missing = await system.case_view(uuid.uuid4(), user="fsw.lindqvist")
    for body in (denied, missing):
        assert body["data"] is None
        assert [e["extensions"] for e in body["errors"]] == [{"code": "NOT_FOUND"}]
        # only the access decision was asked for: nothing of the case was fetched
        assert body["extensions"]["upstreamCalls"] == {"network": 1}
    assert denied["errors"][0]["message"] == missing["errors"][0]["message"]
    assert "Lopez" not in str(denied) and "Pulaski" not in str(denied)
    # and a second denied look, now from the cache, answers the same without fetching anything
    again = await system.case_view(demo_case, user="fsw.lindqvist")
    assert again["errors"] == denied["errors"] and again["extensions"]["upstreamCalls"] == {}


async def test_a_case_id_that_is_not_a_uuid_is_bad_input_and_calls_no_service(system: EmbeddedSystem) -> None:
    body = await system.case_view("not-a-uuid")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["extensions"]["upstreamCalls"] == {}


@pytest.mark.parametrize(
    ("selection", "called"),
    [
        ("case { recordId status } safetyPlan { status }", {"network": 1, "plans": 1}),
        ("case { recordId } worries { danger { text } }", {"network": 1, "assessment": 1}),
        ("__typename audience labels { worries } needsToHappen { __typename }", {"network": 1}),
        ("needsToHappen { nextSteps { action } }", ONE_CALL_EACH),
        ("glossary { language }", ONE_CALL_EACH),  # the terms of every section's words
        ("... on CaseView { sdm { riskLevel } }", {"network": 1, "assessment": 1}),
    ],
)
async def test_a_view_calls_only_the_services_its_selection_reads(
    system: EmbeddedSystem, demo_case: uuid.UUID, selection: str, called: dict[str, int]
) -> None:
    query = "query($id: ID!) { caseView(caseId: $id) { " + selection + " } }"
    for _ in range(2):  # cold (the access decision read), then warm from the access cache
        response = await system.graphql(query, {"id": str(demo_case)}, user="fsw.rivera")
        body = response.json()
        assert "errors" not in body, body
        assert body["extensions"]["upstreamCalls"] == called


def test_every_field_of_the_view_is_known_to_read_its_services_or_reads_them_all() -> None:
    from sop_gateway.graphql.case_view import EVERY_SERVICE, services_read

    assert services_read(frozenset({"case.recordId", "safetyPlan.status"})) == {"network", "plans"}
    # a field the table does not know (one added to the view later) reads every service rather than too few
    assert services_read(frozenset({"case.recordId", "somethingNew.text"})) == EVERY_SERVICE


ASSESSMENT_SECTIONS = [
    "worries",
    "workingWell",
    "needsToHappen.safetyGoals",
    "needsToHappen.nextSteps",
    "safetyScale",
    "sdm",
    "childVoice",
    "glossary",
    "alerts",
]
PLANS_SECTIONS = ["needsToHappen.nextSteps", "safetyPlan", "alerts"]


async def test_each_section_whose_service_is_unreachable_is_null_and_named_while_the_rest_answers(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    # Only the network hop to a stopped service is simulated here; tests/e2e stops a real process.
    clients = system.gateway.state.services.clients
    for service, sections in (("assessment", ASSESSMENT_SECTIONS), ("plans", PLANS_SECTIONS)):
        real = clients[service]
        clients[service] = httpx.AsyncClient(transport=httpx.MockTransport(unreachable), base_url=f"http://{service}")
        try:
            body = await full_view(system, demo_case)
        finally:
            await clients[service].aclose()
            clients[service] = real
        view = body["data"]["caseView"]
        assert sorted(e["extensions"]["section"] for e in body["errors"]) == sorted(sections), body["errors"]
        assert {e["extensions"]["code"] for e in body["errors"]} == {"SECTION_UNAVAILABLE"}
        for error in body["errors"]:
            assert error["path"] == ["caseView", *error["extensions"]["section"].split(".")]
            failed = view
            for step in error["path"][1:]:
                failed = failed[step]
            assert failed is None
        # the other service's sections, the case and the network still answer
        assert view["case"]["recordId"] == str(demo_case) and view["network"]["members"]
        assert view["labels"]["worries"] == "What are we worried about?"
        if service == "assessment":
            assert view["safetyPlan"]["rules"] and view["needsToHappen"] == {"safetyGoals": None, "nextSteps": None}
            assert {e["extensions"]["service"] for e in body["errors"]} == {"assessment"}
        else:
            assert view["worries"]["danger"] and view["needsToHappen"]["safetyGoals"]
            assert {e["extensions"]["service"] for e in body["errors"]} == {"plans"}
        assert body["extensions"]["upstreamCalls"] == ONE_CALL_EACH
    recovered = await full_view(system, demo_case)
    assert "errors" not in recovered


async def test_a_caseview_is_audited_at_the_edge_with_the_sections_asked_for_and_the_chain_stays_intact(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    response = await system.graphql(
        "query($id: ID!) { caseView(caseId: $id) { case { recordId } ...more } } "
        "fragment more on CaseView { worries { danger { text } } safetyPlan { recordId } labels { worries } }",
        {"id": str(demo_case)},
        user="fsw.rivera",
    )
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    rows = await system.audit_rows()
    views = [r for r in rows if r.resource == "case_view"]
    assert len(views) == 1
    [row] = views
    assert (row.action, row.case_id, row.actor_subject, row.actor_type) == ("read", demo_case, "fsw.rivera", "staff")
    assert row.resource_id == str(demo_case) and row.audience == "staff"
    assert row.fields == ["case", "worries", "safetyPlan"]  # what was asked for (through the fragment too)
    assert row.request_id == response.headers["X-Request-ID"]
    verdict = await system.verify_audit_chain()
    assert verdict.intact and verdict.records == len(rows) > 1  # the seeding's façade calls are in it too


async def test_the_audit_names_every_section_seen_and_the_sensitive_fields_staff_were_shown(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    body = await full_view(system, demo_case)
    assert "errors" not in body, body
    [row] = [r for r in await system.audit_rows() if r.resource == "case_view"]
    assert row.fields == [
        "case",
        "children",
        "caregivers",
        "network",
        "worries",
        "workingWell",
        "needsToHappen",
        "safetyScale",
        "sdm",
        "safetyPlan",
        "childVoice",
        "glossary",
        "alerts",
        "childVoice.content",
        "sdm.detail",
    ]


async def test_a_denied_caseview_leaves_no_read_in_the_audit_trail(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    await system.case_view(demo_case, user="fsw.lindqvist")
    assert [r for r in await system.audit_rows() if r.resource == "case_view"] == []


async def test_a_jargon_finding_says_what_kind_of_jargon_it_is(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    """The plain-language check's category (acronym, professional term, label, service-speak) reaches the view."""
    from sop_gateway.demo.assessment import DEMO_DANGER_STATEMENT

    labelled = {**DEMO_DANGER_STATEMENT, "caregiver_behaviour": "Maria is an alcoholic and refuses UA testing"}
    created = await system.client.post(
        f"/api/assessment/v1/cases/{demo_case}/statements", json=labelled, headers=system.bearer("fsw.rivera")
    )
    assert created.status_code == 201, created.text
    query = """query($id: ID!) { caseView(caseId: $id) { worries { danger {
      recordId plainLanguage { findings { code term category } } } } } }"""
    body = (await system.graphql(query, {"id": str(demo_case)})).json()
    [statement] = [s for s in body["data"]["caseView"]["worries"]["danger"] if s["recordId"] == created.json()["id"]]
    jargon = {f["term"].lower(): f["category"] for f in statement["plainLanguage"]["findings"] if f["code"] == "jargon"}
    assert jargon.get("alcoholic") == "LABEL" and jargon.get("ua") == "ACRONYM", jargon


async def test_the_plan_in_force_is_built_once_for_safety_plan_and_safety_plans(
    system: EmbeddedSystem, demo_case: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plans service sends the plan in force in `safety_plan` and among `plans`: where the two copies are
    equal the view builds it once and shows it alike in `safetyPlan` and `safetyPlans`; a copy that differs is
    built on its own."""
    from sop_gateway.graphql import case_view
    from sop_gateway.graphql.types import SafetyPlan

    built: list[dict[str, Any]] = []
    in_language = case_view.plan_in_language

    def building(plan: dict[str, Any], language: str) -> dict[str, Any]:
        built.append(plan)
        return in_language(plan, language)

    monkeypatch.setattr(case_view, "plan_in_language", building)
    shown = "{ recordId status title rules { text } recentCheckIns { kept note } }"
    query = f"query($id: ID!) {{ caseView(caseId: $id) {{ safetyPlan {shown} safetyPlans {shown} }} }}"
    body = (await system.graphql(query, {"id": str(demo_case)})).json()
    assert not body.get("errors"), body["errors"]
    view = body["data"]["caseView"]
    assert view["safetyPlan"]["recordId"] == view["safetyPlans"][0]["recordId"], "the demo's plan in force"
    assert view["safetyPlans"][0] == view["safetyPlan"]
    assert len(built) == 1

    plan = built[0]
    bare: Any = type("View", (), {})()  # what `_plan` reads of the view
    bare.plans_built, bare.language, bare.rest = {}, "en", type("Rest", (), {"check_ins": None})()
    first = case_view.CaseView._plan(bare, plan)
    assert case_view.CaseView._plan(bare, dict(plan)) is first  # an equal copy
    changed = case_view.CaseView._plan(bare, {**plan, "title": "Another title"})
    assert changed is not first and isinstance(changed, SafetyPlan) and changed.title == "Another title"


async def test_a_statements_words_are_put_in_the_views_language_once_for_it_and_the_glossary(
    system: EmbeddedSystem, demo_case: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The glossary looks for its terms in every sentence the view shows: the statements' words and the map's
    items it reads are those the view already put in its language, not worked out again; the answer is as
    before (the glossary names terms the view uses)."""
    from sop_gateway.graphql import case_view

    worked_out: list[str] = []
    in_language = case_view.in_language

    def counting(original: str, *rest: Any) -> Any:
        worked_out.append(original)
        return in_language(original, *rest)

    monkeypatch.setattr(case_view, "in_language", counting)
    items: list[str] = []
    map_column = case_view._map_column

    def reading(assessment: dict[str, Any], column: str, language: str | None = None) -> Any:
        if language is not None:
            items.append(column)
        return map_column(assessment, column, language)

    monkeypatch.setattr(case_view, "_map_column", reading)
    query = """query($id: ID!) { caseView(caseId: $id) {
      worries { harm { text } danger { text } complicatingFactors { text } }
      workingWell { strengths { text } existingSafety { text } }
      glossary { entries { key term } } } }"""
    body = (await system.graphql(query, {"id": str(demo_case)})).json()
    assert not body.get("errors"), body["errors"]
    view = body["data"]["caseView"]
    statements = [s["text"] for kind in ("harm", "danger") for s in view["worries"][kind]]
    assert statements, "the demo family has statements"
    assert view["glossary"]["entries"], "the glossary names the terms the view uses"
    assert all(worked_out.count(text) == 1 for text in statements), worked_out
    assert sorted(items) == ["complicating_factors", "existing_safety", "next_steps", "strengths"]


async def test_the_views_statements_and_trajectories_are_built_field_by_field_each_as_their_init_builds_it(
    system: EmbeddedSystem, demo_case: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The typed objects the full view builds most of (a statement with its people and plain-language findings,
    a trajectory) are built without a call of their dataclass's `__init__` with every field as a keyword: each
    has every field set, and equals what `__init__` makes of those fields."""
    from sop_gateway.demo.assessment import DEMO_DANGER_STATEMENT
    from sop_gateway.graphql import types

    labelled = {**DEMO_DANGER_STATEMENT, "caregiver_behaviour": "Maria is an alcoholic and refuses UA testing"}
    created = await system.client.post(
        f"/api/assessment/v1/cases/{demo_case}/statements", json=labelled, headers=system.bearer("fsw.rivera")
    )
    assert created.status_code == 201, created.text  # a statement with plain-language findings
    kinds = (types.Statement, types.PersonRef, types.PlainLanguageCheck, types.LanguageFinding, types.Trajectory)
    initialised: list[str] = []
    for kind in kinds:
        init = kind.__init__

        def counting(self: Any, *args: Any, __init: Any = init, **kwargs: Any) -> None:
            initialised.append(type(self).__name__)
            __init(self, *args, **kwargs)

        monkeypatch.setattr(kind, "__init__", counting)
    built: list[Any] = []
    for kind, name in ((types.Statement, "from_json"), (types.Trajectory, "from_json")):
        make = getattr(kind, name)

        def keeping(*args: Any, __make: Any = make) -> Any:
            built.append(__make(*args))
            return built[-1]

        monkeypatch.setattr(kind, name, keeping)
    query = """query($id: ID!) { caseView(caseId: $id) {
      worries { danger { recordId text children { name personId } caregivers { name }
                         plainLanguage { readingGrade findings { code severity category } } } }
      safetyScale { trajectory { statementId occasions { occasionOn } raters { raterName } } } } }"""
    body = (await system.graphql(query, {"id": str(demo_case)})).json()
    assert not body.get("errors"), body["errors"]
    view = body["data"]["caseView"]
    assert view["worries"]["danger"] and view["safetyScale"]["trajectory"], "the demo family has both"
    assert any(s["children"] for s in view["worries"]["danger"])
    assert any(s["plainLanguage"] and s["plainLanguage"]["findings"] for s in view["worries"]["danger"])
    assert initialised == []

    def inside(value: Any) -> list[Any]:
        if isinstance(value, list):
            return [item for element in value for item in inside(element)]
        return [value] if isinstance(value, kinds) else []

    objects = [made for top in built for made in [top, *inside(list(vars(top).values()))]]
    objects += [finding for made in objects if isinstance(made, types.PlainLanguageCheck) for finding in made.findings]
    assert {type(made) for made in objects} == set(kinds)
    monkeypatch.undo()
    for made in objects:
        fields = {field.name for field in dataclasses.fields(made) if field.init}
        assert set(vars(made)) == fields, type(made).__name__
        assert type(made)(**vars(made)) == made
