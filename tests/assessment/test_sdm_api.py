"""SDM assessments over HTTP, on SQLite and PostgreSQL: the worker drafts and completes, the server scores,
overrides wait for a supervisor, approval freezes the result, and bad input writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_assessment.component import component
from sop_assessment.models import platform
from sop_assessment.sdm.instrument import PACKAGED_DIR
from sop_assessment.sdm.models import SdmAssessment
from sop_shared.db import Database
from sop_shared.testing import InternalTokens, RunningService, run_component

V = "illustrative-1"
Counts = Callable[[], Awaitable[dict[str, int]]]


@pytest.fixture
def okafor(tokens: InternalTokens, lopez_case: uuid.UUID) -> dict[str, str]:
    """Ms. Okafor, the unit supervisor."""
    return tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",), case_id=lopez_case)


@pytest.fixture
def counts(assessment: RunningService) -> Counts:
    async def count() -> dict[str, int]:
        async with database(assessment).session() as s:
            return {
                "assessments": (await s.execute(select(func.count()).select_from(SdmAssessment))).scalar_one(),
                "events": (await s.execute(select(func.count()).select_from(platform.outbox))).scalar_one(),
            }

    return count


def database(assessment: RunningService) -> Database:
    """The service's own database handle: a second SQLite connection opened while the relay writes can
    fail with "database is locked" (its WAL pragma runs before the busy timeout is set)."""
    return assessment.app.state.database  # type: ignore[no-any-return]


async def events(assessment: RunningService, subject: str) -> list[dict[str, Any]]:
    async with database(assessment).session() as s:
        rows = (
            await s.execute(
                select(platform.outbox.c.payload)
                .where(platform.outbox.c.subject == subject)
                .order_by(platform.outbox.c.id)
            )
        ).scalars()
        return list(rows)


def sdm_of(case_id: uuid.UUID) -> str:
    return f"/v1/cases/{case_id}/sdm-assessments"


def safety_answers(*threats: str, interventions: tuple[str, ...] = ()) -> dict[str, Any]:
    answers: dict[str, Any] = {f"T{n}": False for n in range(1, 12)} | {"V1": False, "V2": False, "V3": False}
    answers |= {t: True for t in threats}
    if interventions:
        answers["interventions"] = list(interventions)
    return answers


RISK_ALL_A: dict[str, Any] = {
    **{f"N{n}": "a" for n in range(1, 10)},
    **{f"A{n}": "a" for n in range(1, 9)},
    "threats_remain": False,
}


async def create(
    svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], key: str, answers: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    response = await svc.client.post(
        sdm_of(case_id),
        headers=headers,
        json={"instrument_key": key, "instrument_version": V, "answers": answers, **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def completed(
    svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], key: str, answers: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    draft = await create(svc, case_id, headers, key, answers, **extra)
    response = await svc.client.post(f"/v1/sdm-assessments/{draft['id']}/complete", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def screened_in(
    svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], answers: dict[str, Any]
) -> dict[str, Any]:
    """A hotline report completed with its report received on Friday 27 November 2026, 15:00 UTC."""
    return await completed(
        svc, case_id, headers, "hotline_screening", answers, anchors={"report_received": "2026-11-27T15:00:00+00:00"}
    )


async def test_the_worker_finds_the_instruments_and_reads_one_definition(
    assessment: RunningService,
    rivera: dict[str, str],
) -> None:
    listed = await assessment.client.get("/v1/instruments", headers=rivera)
    assert listed.status_code == 200, listed.text
    keys = {(i["key"], i["version"]) for i in listed.json()["items"]}
    assert ("safety_assessment", V) in keys and ("risk_assessment", V) in keys
    assert all(i["illustrative"] for i in listed.json()["items"])
    one = await assessment.client.get(f"/v1/instruments/risk_assessment/versions/{V}", headers=rivera)
    assert one.status_code == 200
    body = one.json()
    assert body["levels"] == ["low", "moderate", "high", "very_high"]
    assert body["overrides"]["policy_level"] == "very_high" and body["source"] == "packaged"
    missing = await assessment.client.get("/v1/instruments/risk_assessment/versions/9", headers=rivera)
    assert missing.status_code == 404
    only = await assessment.client.get("/v1/instruments?kind=safety_assessment", headers=rivera)
    assert {i["key"] for i in only.json()["items"]} == {"safety_assessment"}


async def test_the_state_loads_its_licensed_instrument_from_a_folder_without_a_code_change(
    database_url: str,
    tokens: InternalTokens,
    tmp_path: Path,
    lopez_case: uuid.UUID,
) -> None:
    licensed = json.loads((PACKAGED_DIR / "risk_assessment" / f"{V}.json").read_text())
    licensed |= {"version": "ar-2027.1", "illustrative": False, "notice": "", "title": "Risk assessment (Arkansas)"}
    folder = tmp_path / "licensed" / "risk_assessment"
    folder.mkdir(parents=True)
    (folder / "ar-2027.1.json").write_text(json.dumps(licensed))
    async with run_component(
        component,
        database_url=database_url,
        tokens=tokens,
        data_dir=tmp_path / "data",
        instruments_dir=tmp_path / "licensed",
    ) as svc:
        headers = tokens.headers("assessment", case_id=lopez_case)
        listed = (await svc.client.get("/v1/instruments", headers=headers)).json()["items"]
        assert {"key": "risk_assessment", "version": "ar-2027.1", "source": "configured"}.items() <= next(
            i for i in listed if i["version"] == "ar-2027.1"
        ).items()
        draft = await svc.client.post(
            sdm_of(lopez_case),
            headers=headers,
            json={"instrument_key": "risk_assessment", "instrument_version": "ar-2027.1", "answers": RISK_ALL_A},
        )
        assert draft.status_code == 201, draft.text
        assert draft.json()["instrument"]["illustrative"] is False


async def test_a_draft_keeps_partial_answers_and_shows_when_the_safety_assessment_is_due(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    draft = await create(
        assessment,
        lopez_case,
        rivera,
        "safety_assessment",
        {"T4": True},
        anchors={"first_contact": "2026-11-27T10:30:00+00:00"},
    )
    assert (draft["status"], draft["assessment_type"], draft["results"], draft["revision"]) == (
        "draft",
        "initial",
        None,
        1,
    )
    assert draft["instrument"] == {
        "key": "safety_assessment",
        "version": V,
        "sha256": draft["instrument"]["sha256"],
        "title": "Safety assessment (illustrative)",
        "illustrative": True,
    }
    assert draft["due"]["complete_by"]["due"] == "2026-12-01"  # Friday + 2 working days


async def test_bad_answers_are_refused_naming_each_field_and_nothing_is_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    before = await counts()
    response = await assessment.client.post(
        sdm_of(lopez_case),
        headers=rivera,
        json={
            "instrument_key": "risk_assessment",
            "instrument_version": V,
            "answers": {"N1": "z", "threats_remain": "maybe", "X1": "a"},
            "assessment_type": "closing",
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"answers.N1", "answers.threats_remain", "answers.X1", "assessment_type"}
    unknown = await assessment.client.post(
        sdm_of(lopez_case),
        headers=rivera,
        json={"instrument_key": "risk_assessment", "instrument_version": "2", "answers": {}},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "instrument_version"
    assert await counts() == before


async def test_results_are_never_taken_from_the_client(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    before = await counts()
    response = await assessment.client.post(
        sdm_of(lopez_case),
        headers=rivera,
        json={
            "instrument_key": "risk_assessment",
            "instrument_version": V,
            "answers": RISK_ALL_A,
            "results": {"scored_level": "low"},
            "final_level": "low",
        },
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"results", "final_level"}
    assert await counts() == before


@pytest.mark.sqlite_smoke
async def test_a_draft_changes_only_with_the_version_read(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    draft = await create(assessment, lopez_case, rivera, "risk_assessment", {"N1": "b", "N2": "c"})
    url = f"/v1/sdm-assessments/{draft['id']}"
    missing = await assessment.client.patch(url, headers=rivera, json={"answers": {"N3": "b"}})
    assert missing.status_code == 428
    patched = await assessment.client.patch(
        url, headers={**rivera, "If-Match": '"1"'}, json={"answers": {"N3": "b", "N1": None}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["answers"] == {"N2": "c", "N3": "b"} and patched.headers["ETag"] == '"2"'
    stale = await assessment.client.patch(url, headers={**rivera, "If-Match": '"1"'}, json={"answers": {"N4": "b"}})
    assert stale.status_code == 412


async def test_a_conditionally_safe_decision_asks_the_plans_service_for_a_safety_plan(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(
        assessment,
        lopez_case,
        rivera,
        "safety_assessment",
        safety_answers("T4", interventions=("I2",)),
        children=[{"name": "Sofia"}, {"name": "Mateo", "answers": {"T4": False}}],
    )
    assert done["status"] == "completed" and done["completed_by"] == "fsw.rivera"
    decision = done["results"]["decisions"]["safety_decision"]
    assert decision["final"] == "conditionally_safe"
    assert [(c["name"], c["outcome"]) for c in decision["children"]] == [
        ("Sofia", "conditionally_safe"),
        ("Mateo", "safe"),
    ]
    assert done["instrument"]["sha256"] and done["anchors"]["completed"]
    required = await events(assessment, "sop.assessment.safety_plan.required")
    assert len(required) == 1
    assert required[0]["sdm_assessment_id"] == done["id"] and required[0]["threat_codes"] == ["T4"]
    assert required[0]["decisions"] == {"safety_decision": "conditionally_safe"}
    assert "Sofia" not in json.dumps(required[0])  # names stay behind the case's access rules


async def test_a_safe_decision_needs_no_safety_plan(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "safety_assessment", safety_answers())
    assert done["results"]["decisions"]["safety_decision"]["final"] == "safe"
    assert await events(assessment, "sop.assessment.safety_plan.required") == []


async def test_unsafe_without_a_protective_placement_cannot_be_completed_and_nothing_changes(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    draft = await create(assessment, lopez_case, rivera, "safety_assessment", safety_answers("T1"))
    before = await counts()
    response = await assessment.client.post(f"/v1/sdm-assessments/{draft['id']}/complete", headers=rivera)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "answers.interventions",
            "message": "a child is unsafe: select the protective-placement intervention that protects them",
        }
    ]
    assert await counts() == before
    again = (await assessment.client.get(f"/v1/sdm-assessments/{draft['id']}", headers=rivera)).json()
    assert (again["status"], again["version"], again["results"]) == ("draft", 1, None)
    placed = await assessment.client.patch(
        f"/v1/sdm-assessments/{draft['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json={"answers": {"interventions": ["I5"]}},
    )
    assert placed.status_code == 200
    done = await assessment.client.post(f"/v1/sdm-assessments/{draft['id']}/complete", headers=rivera)
    assert done.json()["results"]["decisions"]["safety_decision"]["final"] == "unsafe"


async def test_completing_needs_every_required_answer(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    draft = await create(assessment, lopez_case, rivera, "risk_assessment", {"N1": "b"})
    response = await assessment.client.post(f"/v1/sdm-assessments/{draft['id']}/complete", headers=rivera)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert "answers.N2" in fields and "answers.A8" in fields and "answers.N1" not in fields


@pytest.mark.sqlite_smoke
async def test_risk_with_a_discretionary_override_waits_for_the_supervisor_then_is_frozen(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", {**RISK_ALL_A, "N2": "c"})
    assert (done["scored_level"], done["final_level"]) == ("moderate", "moderate")
    url = f"/v1/sdm-assessments/{done['id']}"
    asked = await assessment.client.post(
        f"{url}/override",
        headers=rivera,
        json={"kind": "discretionary", "reasons": "Maria's drinking got worse since the report."},
    )
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert body["status"] == "pending_approval" and body["final_level"] == "moderate"
    assert body["override"] | {"requested_at": None} == {
        "kind": "discretionary",
        "policy_reasons": [],
        "reasons": "Maria's drinking got worse since the report.",
        "requested_by": "fsw.rivera",
        "requested_at": None,
        "from": "moderate",
        "to": "high",
        "status": "pending",
    }
    queued = await events(assessment, "sop.assessment.approval.requested")
    assert [(e["kind"], e["subject_id"], e["source_service"]) for e in queued] == [
        ("sdm_override", done["id"], "assessment")
    ]

    by_worker = await assessment.client.post(f"{url}/approve", headers=rivera, json={"decision": "approve"})
    assert by_worker.status_code == 403
    approved = await assessment.client.post(
        f"{url}/approve", headers=okafor, json={"decision": "approve", "comment": "Agreed."}
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["scored_level"], body["final_level"], body["approved_by"]) == (
        "approved",
        "moderate",
        "high",
        "sup.okafor",
    )
    assert body["results"]["decisions"]["recommendation"]["final"] == "open_for_services"
    assert [a["decision"] for a in body["approvals"]] == ["approve"]

    for method, path, payload in (
        ("patch", url, {"answers": {"N1": "b"}}),
        ("post", f"{url}/complete", None),
        ("post", f"{url}/override", {"kind": "policy", "policy_reasons": ["P1"]}),
        ("post", f"{url}/approve", {"decision": "approve"}),
    ):
        headers = {**okafor, "If-Match": f'"{body["version"]}"'}
        response = await assessment.client.request(method, path, headers=headers, json=payload)
        assert response.status_code == 409, (path, response.text)
    assert (await assessment.client.get(url, headers=rivera)).json() == body


async def test_an_amendment_is_a_new_revision_and_the_approved_one_stays(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    url = f"/v1/sdm-assessments/{done['id']}"
    approved = (await assessment.client.post(f"{url}/approve", headers=okafor, json={"decision": "approve"})).json()
    amended = await assessment.client.post(f"{url}/amend", headers=rivera)
    assert amended.status_code == 201, amended.text
    new = amended.json()
    assert (new["status"], new["revision"], new["amends_id"], new["chain_id"]) == ("draft", 2, done["id"], done["id"])
    assert new["answers"] == done["answers"] and new["results"] is None
    assert (await assessment.client.get(url, headers=rivera)).json() == approved
    twice = await assessment.client.post(f"{url}/amend", headers=rivera)
    assert twice.status_code == 409  # amend the latest revision, not an older one


async def test_a_policy_override_makes_risk_very_high_at_once(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    response = await assessment.client.post(
        f"/v1/sdm-assessments/{done['id']}/override", headers=rivera, json={"kind": "policy", "policy_reasons": ["P2"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["scored_level"], body["final_level"]) == ("completed", "low", "very_high")
    assert body["override"]["status"] == "applied"
    assert await events(assessment, "sop.assessment.approval.requested") == []


async def test_override_limits_are_refused_with_nothing_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    url = f"/v1/sdm-assessments/{done['id']}/override"
    before = await counts()
    for payload, field in (
        ({"kind": "discretionary", "reasons": "worse", "to_level": "high"}, "to_level"),
        ({"kind": "discretionary"}, "reasons"),
        ({"kind": "policy", "policy_reasons": ["P9"]}, "policy_reasons"),
        ({"kind": "downgrade", "reasons": "x", "to_level": "low"}, "kind"),
    ):
        response = await assessment.client.post(url, headers=rivera, json=payload)
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]} or field in response.text
    assert await counts() == before


async def test_the_supervisor_returns_an_override_and_the_scored_level_stands(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    url = f"/v1/sdm-assessments/{done['id']}"
    await assessment.client.post(f"{url}/override", headers=rivera, json={"kind": "discretionary", "reasons": "x"})
    returned = await assessment.client.post(
        f"{url}/approve", headers=okafor, json={"decision": "return", "comment": "Say what you saw."}
    )
    assert returned.status_code == 200
    body = returned.json()
    assert (body["status"], body["final_level"], body["override"]["status"]) == ("completed", "low", "returned")
    decided = await events(assessment, "sop.assessment.approval.decided")
    assert [(e["kind"], e["status"], e["subject_id"]) for e in decided] == [("sdm_override", "returned", done["id"])]


async def test_an_assessment_waiting_for_a_supervisor_is_not_amended_around_the_decision(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    url = f"/v1/sdm-assessments/{done['id']}"
    await assessment.client.post(f"{url}/override", headers=rivera, json={"kind": "discretionary", "reasons": "x"})
    before = await counts()
    assert (await assessment.client.post(f"{url}/amend", headers=rivera)).status_code == 409
    assert await counts() == before


async def test_nobody_approves_their_own_override(
    assessment: RunningService,
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(assessment, lopez_case, okafor, "risk_assessment", RISK_ALL_A)
    url = f"/v1/sdm-assessments/{done['id']}"
    await assessment.client.post(f"{url}/override", headers=okafor, json={"kind": "discretionary", "reasons": "x"})
    response = await assessment.client.post(f"{url}/approve", headers=okafor, json={"decision": "approve"})
    assert response.status_code == 403


async def test_a_response_priority_downgrade_keeps_the_initial_and_current_priority(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await screened_in(
        assessment,
        lopez_case,
        rivera,
        {"screening_criteria": ["neglect"], "priority_criteria": ["child_under_3_alone"]},
    )
    assert done["due"]["initiate_by"]["due"] == "2026-11-28T15:00:00+00:00"
    url = f"/v1/sdm-assessments/{done['id']}"
    asked = await assessment.client.post(
        f"{url}/override",
        headers=rivera,
        json={"kind": "downgrade", "to_level": "72_hours", "reasons": "The child is with her grandmother now."},
    )
    assert asked.status_code == 200, asked.text
    assert [e["kind"] for e in await events(assessment, "sop.assessment.approval.requested")] == ["priority_downgrade"]
    approved = (await assessment.client.post(f"{url}/approve", headers=okafor, json={"decision": "approve"})).json()
    priority = approved["results"]["decisions"]["response_priority"]
    assert (priority["outcome"], priority["final"]) == ("24_hours", "72_hours")
    assert approved["due"]["initiate_by"]["due"] == "2026-11-30T15:00:00+00:00"


async def test_another_cases_token_cannot_tell_an_assessment_exists(
    assessment: RunningService,
    rivera: dict[str, str],
    tokens: InternalTokens,
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    other = tokens.headers("assessment", case_id=uuid.uuid4())
    assert (await assessment.client.get(f"/v1/sdm-assessments/{done['id']}", headers=other)).status_code == 404
    missing = await assessment.client.get(f"/v1/sdm-assessments/{uuid.uuid4()}", headers=rivera)
    assert missing.status_code == 404


async def test_the_case_lists_its_assessments_by_instrument(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    await create(assessment, lopez_case, rivera, "safety_assessment", {})
    listed = await assessment.client.get(f"{sdm_of(lopez_case)}?instrument_key=risk_assessment", headers=rivera)
    assert [i["instrument"]["key"] for i in listed.json()["items"]] == ["risk_assessment"]
    drafts = await assessment.client.get(f"{sdm_of(lopez_case)}?status=draft", headers=rivera)
    assert [i["instrument"]["key"] for i in drafts.json()["items"]] == ["safety_assessment"]
    assert (await assessment.client.get(f"{sdm_of(lopez_case)}?stauts=draft", headers=rivera)).status_code == 400


async def test_each_assessment_is_also_reachable_under_its_case_for_the_gateway(
    assessment: RunningService,
    rivera: dict[str, str],
    tokens: InternalTokens,
    lopez_case: uuid.UUID,
) -> None:
    draft = await create(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    nested = f"{sdm_of(lopez_case)}/{draft['id']}"
    assert (await assessment.client.get(nested, headers=rivera)).json() == draft
    done = await assessment.client.post(f"{nested}/complete", headers=rivera)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    other_case = uuid.uuid4()
    wrong = await assessment.client.get(
        f"{sdm_of(other_case)}/{draft['id']}", headers=tokens.headers("assessment", case_id=other_case)
    )
    assert wrong.status_code == 404
    # the flat route takes the `?case_id=` its OpenAPI document lists, and holds the record to it
    flat_with_case = await assessment.client.get(
        f"/v1/sdm-assessments/{draft['id']}?case_id={lopez_case}", headers=rivera
    )
    assert flat_with_case.status_code == 200 and flat_with_case.json()["id"] == draft["id"]


# --- the one approval queue ------------------------------------------------------------------------------


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    """What both doors must agree on, without ids and timestamps."""
    override = {k: v for k, v in (body["override"] or {}).items() if not k.endswith("_at")}
    return {
        "status": body["status"],
        "scored_level": body["scored_level"],
        "final_level": body["final_level"],
        "approved_by": body["approved_by"],
        "override": override,
        "version": body["version"],
        "approvals": [{k: v for k, v in a.items() if k != "decided_at"} for a in body["approvals"]],
        "results": body["results"],
    }


async def _queue(svc: RunningService, tokens: InternalTokens, status: str = "pending") -> list[dict[str, Any]]:
    supervisor = tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",))
    response = await svc.client.get("/v1/approvals", params={"status": status}, headers=supervisor)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("door", ["sdm", "queue"])
@pytest.mark.parametrize("decision", ["approve", "return"])
async def test_an_override_is_decided_at_either_door_with_the_same_end_state(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
    door: str,
    decision: str,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", {**RISK_ALL_A, "N2": "c"})
    url = f"/v1/sdm-assessments/{done['id']}"
    asked = await assessment.client.post(
        f"{url}/override",
        headers=rivera,
        json={
            "kind": "discretionary",
            "reasons": "Maria's drinking got worse since the report.",
            "supervisor": "sup.okafor",
        },
    )
    assert asked.status_code == 200, asked.text

    queue = await _queue(assessment, tokens)
    assert [
        (a["kind"], a["subject_id"], a["subject_version"], a["requested_by"], a["source_service"]) for a in queue
    ] == [("sdm_override", done["id"], 1, "fsw.rivera", "assessment")]
    assert "moderate to high" in queue[0]["summary"] and "drinking" in queue[0]["summary"]
    item = queue[0]

    comment = "Agreed." if decision == "approve" else "Say what you saw at the home visit."
    if door == "sdm":
        response = await assessment.client.post(
            f"{url}/approve", headers=okafor, json={"decision": decision, "comment": comment}
        )
        assert response.status_code == 200, response.text
    else:
        response = await assessment.client.post(
            f"/v1/cases/{lopez_case}/approvals/{item['id']}/decision",
            json={"decision": "approved" if decision == "approve" else "returned", "comment": comment},
            headers={**okafor, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
    body = (await assessment.client.get(url, headers=rivera)).json()
    expected_final = "high" if decision == "approve" else "moderate"
    assert (body["status"], body["final_level"], body["override"]["status"]) == (
        ("approved", expected_final, "approved") if decision == "approve" else ("completed", expected_final, "returned")
    )
    assert [(a["decision"], a["comment"], a["decided_by"]) for a in body["approvals"]] == [
        (decision, comment, "sup.okafor")
    ]

    closed = (await assessment.client.get(f"/v1/approvals/{item['id']}", headers=okafor)).json()
    assert (closed["status"], closed["decided_by"], closed["decision_comment"]) == (
        "approved" if decision == "approve" else "returned",
        "sup.okafor",
        comment,
    )
    assert [h["action"] for h in closed["history"]] == ["requested", closed["status"]]
    assert await _queue(assessment, tokens) == []
    # one pair of approval events, the queue's; the assessment's own lifecycle events as before
    requested = await events(assessment, "sop.assessment.approval.requested")
    decided = await events(assessment, "sop.assessment.approval.decided")
    assert [(e["approval_id"], e["status"]) for e in requested + decided] == [
        (item["id"], "pending"),
        (item["id"], closed["status"]),
    ]
    kind = "approved" if decision == "approve" else "returned"
    assert len(await events(assessment, f"sop.assessment.sdm_assessment.{kind}")) == 1
    # the other door is closed now, whichever was used
    again = await assessment.client.post(
        f"/v1/approvals/{item['id']}/decision",
        json={"decision": "approved"},
        headers={**okafor, "If-Match": f'"{closed["version"]}"'},
    )
    assert again.status_code == 409
    # Compared with the same story told through the other door (a second assessment).
    other = await completed(assessment, lopez_case, rivera, "risk_assessment", {**RISK_ALL_A, "N2": "c"})
    other_url = f"/v1/sdm-assessments/{other['id']}"
    await assessment.client.post(
        f"{other_url}/override",
        headers=rivera,
        json={
            "kind": "discretionary",
            "reasons": "Maria's drinking got worse since the report.",
            "supervisor": "sup.okafor",
        },
    )
    if door == "queue":
        await assessment.client.post(
            f"{other_url}/approve", headers=okafor, json={"decision": decision, "comment": comment}
        )
    else:
        [pending] = await _queue(assessment, tokens)
        await assessment.client.post(
            f"/v1/approvals/{pending['id']}/decision",
            json={"decision": "approved" if decision == "approve" else "returned", "comment": comment},
            headers={**okafor, "If-Match": '"1"'},
        )
    assert _comparable((await assessment.client.get(other_url, headers=rivera)).json()) == _comparable(body)


async def test_a_downgrade_approved_in_the_queue_moves_the_priority_and_the_due_date(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    done = await screened_in(
        assessment,
        lopez_case,
        rivera,
        {"screening_criteria": ["neglect"], "priority_criteria": ["child_under_3_alone"]},
    )
    url = f"/v1/sdm-assessments/{done['id']}"
    await assessment.client.post(
        f"{url}/override",
        headers=rivera,
        json={
            "kind": "downgrade",
            "to_level": "72_hours",
            "reasons": "With her grandmother now.",
            "supervisor": "sup.okafor",
        },
    )
    [item] = await _queue(assessment, tokens)
    assert item["kind"] == "priority_downgrade"
    own = await assessment.client.post(
        f"/v1/approvals/{item['id']}/decision", json={"decision": "approved"}, headers={**rivera, "If-Match": '"1"'}
    )
    assert own.status_code == 403
    decided = await assessment.client.post(
        f"/v1/approvals/{item['id']}/decision", json={"decision": "approved"}, headers={**okafor, "If-Match": '"1"'}
    )
    assert decided.status_code == 200, decided.text
    body = (await assessment.client.get(url, headers=rivera)).json()
    priority = body["results"]["decisions"]["response_priority"]
    assert (body["status"], priority["outcome"], priority["final"]) == ("approved", "24_hours", "72_hours")
    assert body["due"]["initiate_by"]["due"] == "2026-11-30T15:00:00+00:00"


async def test_a_returned_override_is_asked_again_at_the_assessment_not_resubmitted_in_the_queue(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    url = f"/v1/sdm-assessments/{done['id']}"
    ask = {"kind": "discretionary", "reasons": "x", "supervisor": "sup.okafor"}
    await assessment.client.post(f"{url}/override", headers=rivera, json=ask)
    [item] = await _queue(assessment, tokens)
    await assessment.client.post(
        f"/v1/approvals/{item['id']}/decision",
        headers={**okafor, "If-Match": '"1"'},
        json={"decision": "returned", "comment": "Say what you saw."},
    )
    resubmit = await assessment.client.post(
        f"/v1/approvals/{item['id']}/resubmit", json={}, headers={**rivera, "If-Match": '"2"'}
    )
    assert resubmit.status_code == 409
    again = await assessment.client.post(f"{url}/override", headers=rivera, json={**ask, "reasons": "Saw bottles."})
    assert again.status_code == 200, again.text
    assert [a["summary"].endswith("Saw bottles.") for a in await _queue(assessment, tokens)] == [True]


async def test_overrides_and_downgrades_are_not_filed_in_the_queue_by_hand(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(assessment, lopez_case, rivera, "risk_assessment", RISK_ALL_A)
    for kind in ("sdm_override", "priority_downgrade"):
        response = await assessment.client.post(
            f"/v1/cases/{lopez_case}/approvals",
            headers=rivera,
            json={
                "kind": kind,
                "subject_id": done["id"],
                "summary": "Raise risk to high",
                "approver_subject": "sup.okafor",
            },
        )
        assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["kind"]


# --- SDM practice rules over HTTP --------------------------------------------------------------------------


async def test_a_screened_in_report_without_its_deadline_anchor_is_not_completed(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    draft = await create(assessment, lopez_case, rivera, "hotline_screening", {"screening_criteria": ["neglect"]})
    before = await counts()
    refused = await assessment.client.post(f"/v1/sdm-assessments/{draft['id']}/complete", headers=rivera)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in refused.json()["errors"]] == ["anchors.report_received"]
    assert await counts() == before
    await assessment.client.patch(
        f"/v1/sdm-assessments/{draft['id']}",
        headers={**rivera, "If-Match": '"1"'},
        json={"anchors": {"report_received": "2026-11-27T15:00:00+00:00"}},
    )
    done = await assessment.client.post(f"/v1/sdm-assessments/{draft['id']}/complete", headers=rivera)
    assert done.status_code == 200, done.text
    assert done.json()["results"]["decisions"]["response_priority"]["final"] == "72_hours"
    assert done.json()["due"]["initiate_by"]["due"] == "2026-11-30T15:00:00+00:00"
    # a screened-out report needs no deadline
    out = await completed(assessment, lopez_case, rivera, "hotline_screening", {})
    assert out["results"]["decisions"]["response_priority"]["final"] == "none" and out["due"] == {}


async def test_a_screened_in_report_is_not_downgraded_to_no_response(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    done = await screened_in(assessment, lopez_case, rivera, {"screening_criteria": ["neglect"]})
    before = await counts()
    refused = await assessment.client.post(
        f"/v1/sdm-assessments/{done['id']}/override",
        headers=rivera,
        json={"kind": "downgrade", "to_level": "none", "reasons": "The family moved away."},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "to_level", "message": "a screened-in report needs a response priority, not none"}
    ]
    assert await counts() == before
    body = (await assessment.client.get(f"/v1/sdm-assessments/{done['id']}", headers=rivera)).json()
    assert (body["status"], body["override"]) == ("completed", None)


async def test_custody_without_a_threat_needs_a_supervisors_review(
    assessment: RunningService,
    rivera: dict[str, str],
    okafor: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    draft = await create(assessment, lopez_case, rivera, "safety_assessment", safety_answers(interventions=("I6",)))
    url = f"/v1/sdm-assessments/{draft['id']}/complete"
    before = await counts()
    refused = await assessment.client.post(url, headers=rivera)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "answers.interventions" and error["message"].startswith("I6: a protective intervention")
    review = {"supervisor_review": "Voluntary placement agreed by the mother; no threat was found."}
    assert (await assessment.client.post(url, headers=rivera, json=review)).status_code == 403
    assert await counts() == before
    done = await assessment.client.post(url, headers=okafor, json=review)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["results"]["decisions"]["safety_decision"]["final"] == "safe"
    [entry] = body["approvals"]
    assert (entry["subject"], entry["decided_by"], entry["comment"]) == (
        "protective_intervention_review",
        "sup.okafor",
        review["supervisor_review"],
    )
    [event] = await events(assessment, "sop.assessment.sdm_assessment.completed")
    assert event["supervisor_reviewed"] is True


async def test_custody_with_the_threat_it_answers_needs_no_review(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    done = await completed(
        assessment, lopez_case, rivera, "safety_assessment", safety_answers("T1", interventions=("I6",))
    )
    assert (done["results"]["decisions"]["safety_decision"]["final"], done["approvals"]) == ("unsafe", [])


async def test_a_close_recommendation_schedules_no_reassessment(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    low = {"R1": "a", "R2": "a", "R3": "a", "R4": "n", "R5": "a", "R6": "a"}
    closing = await completed(assessment, lopez_case, rivera, "risk_reassessment", {**low, "threats_remain": False})
    assert closing["results"]["decisions"]["recommendation"]["final"] == "close"
    assert "reassess_by" not in closing["due"]
    continuing = await completed(assessment, lopez_case, rivera, "risk_reassessment", {**low, "threats_remain": True})
    assert continuing["results"]["decisions"]["recommendation"]["final"] == "continue_services"
    assert continuing["due"]["reassess_by"]["due"] is not None
