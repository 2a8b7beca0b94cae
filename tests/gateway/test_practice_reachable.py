"""The practice service behind the gateway (issue 15): part of the embedded system, reached through the REST
façade (`/api/practice/v1/…`) with a token the gateway mints, its audit chain verifiable like every other."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from sop_gateway.demo import seed_demo_family

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

pytestmark = pytest.mark.sqlite_smoke

CHAIN = 'query { auditChain(component: "practice") { component intact } }'


async def test_the_practice_service_answers_through_the_gateway(system: EmbeddedSystem) -> None:
    assert "practice" in system.services
    verdict = await system.client.get("/api/practice/v1/audit/verify", headers=system.bearer("audit.byrne"))
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["intact"] is True
    refused = await system.client.get("/api/practice/v1/audit/verify", headers=system.bearer("fsw.rivera"))
    assert refused.status_code == 403
    chain = (await system.graphql(CHAIN, user="audit.byrne")).json()
    assert chain["data"]["auditChain"] == {"component": "practice", "intact": True}, chain


async def test_a_coach_reads_no_case_through_the_gateway(system: EmbeddedSystem, demo_case: object) -> None:
    """The policy table gives practice roles no case scope: the demo family's case is, for the coach, the
    coordinator and the practice lead, exactly what a case that does not exist is."""
    for user in ("coach.tran", "coord.ellis", "lead.park", "trainer.moss"):
        view = (
            await system.graphql(
                "query($id: ID!) { caseView(caseId: $id) { case { recordId } } }", {"id": str(demo_case)}, user=user
            )
        ).json()
        assert view["data"] is None or view["data"]["caseView"] is None, (user, view)
        assert view["errors"][0]["extensions"]["code"] == "NOT_FOUND", (user, view)
        rest = await system.client.get(f"/api/network/v1/cases/{demo_case}", headers=system.bearer(user))
        assert rest.status_code == 404, (user, rest.text)


TRAINING_RECORD = """query($w: String!) { trainingRecord(worker: $w, asOf: "2026-12-06") {
  subject unit courses { courseCode topic required status dueOn } completions { courseCode } } }"""


async def test_a_workers_training_record_in_graphql(system: EmbeddedSystem) -> None:
    coordinator = system.bearer("coord.ellis")
    for body in (
        {
            "subject": "sup.okafor",
            "name": "Grace Okafor",
            "agency": "DCFS",
            "roles": ["supervisor"],
            "unit": "Pulaski-3",
        },
        {
            "subject": "fsw.rivera",
            "name": "Dana Rivera",
            "agency": "DCFS",
            "roles": ["worker"],
            "unit": "Pulaski-3",
            "supervisor_subject": "sup.okafor",
            "started_on": "2026-01-05",
        },
    ):
        registered = await system.client.post("/api/practice/v1/people", json=body, headers=coordinator)
        assert registered.status_code == 201, registered.text
    for user in ("fsw.rivera", "sup.okafor", "lead.park"):
        answer = (await system.graphql(TRAINING_RECORD, {"w": "fsw.rivera"}, user=user)).json()
        assert "errors" not in answer, (user, answer)
        record = answer["data"]["trainingRecord"]
        assert record["subject"] == "fsw.rivera" and record["unit"] == "Pulaski-3"
        foundations = next(c for c in record["courses"] if c["courseCode"] == "SOP-101")
        assert foundations == {
            "courseCode": "SOP-101",
            "topic": "SOP_FOUNDATIONS",
            "required": True,
            "status": "OVERDUE",
            "dueOn": "2026-04-05",
        }
    refused = (await system.graphql(TRAINING_RECORD, {"w": "fsw.rivera"}, user="fsw.lindqvist")).json()
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND", refused


async def practice_events(system: EmbeddedSystem) -> int:
    app = system.services["practice"]
    async with app.state.database.session() as session:
        return (await session.execute(select(func.count()).select_from(app.state.platform.outbox))).scalar_one()


async def test_the_demo_has_a_coach_a_coordinator_and_training_records(
    system: EmbeddedSystem, demo_case: object
) -> None:
    coach = system.bearer("coach.tran")
    caseload = await system.client.get("/api/practice/v1/coaches/coach.tran/caseload", headers=coach)
    assert caseload.status_code == 200, caseload.text
    assert [w["subject"] for w in caseload.json()["workers"]] == ["fsw.lindqvist", "fsw.rivera"]
    today = TRAINING_RECORD.replace(', asOf: "2026-12-06"', "")
    answer = (await system.graphql(today, {"w": "fsw.rivera"}, user="coach.tran")).json()
    assert "errors" not in answer, answer
    standings = {c["courseCode"]: c["status"] for c in answer["data"]["trainingRecord"]["courses"]}
    assert standings["SOP-101"] == standings["SDM-301"] == "CURRENT"
    assert standings["SOP-204"] == "OVERDUE"
    due = await system.client.get("/api/practice/v1/units/Pulaski-3/training-due", headers=system.bearer("sup.okafor"))
    assert due.status_code == 200, due.text
    assert {i["subject"] for i in due.json()["items"]} >= {"fsw.lindqvist", "fsw.rivera"}
    events = await practice_events(system)
    await seed_demo_family(system.gateway)  # seeding again changes nothing
    assert await practice_events(system) == events


COACHING_QUEUE = """query { coachingQueue { nodes { workerSubject topic status coachSubject consultationSnapshot
  sessions openGoals nextFollowUpOn } pageInfo { hasNextPage } } }"""


async def test_the_demo_coaching_referral_reaches_the_coachs_queue_in_graphql(
    system: EmbeddedSystem, demo_case: object
) -> None:
    """Ms. Okafor referred Ms. Rivera; Mr. Ellis routed her to Ms. Tran, who observed a mapping meeting and set a
    goal. The coach's queue shows the consultation's snapshot without the family's names or the case's id."""
    answer = (await system.graphql(COACHING_QUEUE, user="coach.tran")).json()
    assert "errors" not in answer, answer
    [item] = answer["data"]["coachingQueue"]["nodes"]
    assert (item["workerSubject"], item["status"], item["coachSubject"]) == ("fsw.rivera", "IN_COACHING", "coach.tran")
    assert (item["sessions"], item["openGoals"]) == (1, 1) and item["nextFollowUpOn"]
    snapshot = item["consultationSnapshot"]
    assert snapshot["question"] and "case_id" not in snapshot
    assert snapshot["family"] == [{"role": "mother"}, {"role": "child", "age": 7}]
    waiting = (await system.graphql(COACHING_QUEUE, user="coord.ellis")).json()
    assert waiting["data"]["coachingQueue"]["nodes"] == []  # routed already
    refused = (await system.graphql(COACHING_QUEUE, user="fsw.rivera")).json()
    assert refused["data"] is None and refused["errors"], refused
    # The worker's supervisor sees what Ms. Rivera brought whole, and the old assessment route says where to go.
    referrals = await system.client.get("/api/practice/v1/coaching-referrals", headers=system.bearer("sup.okafor"))
    assert referrals.json()["items"][0]["consultation_snapshot"]["family"][0]["name"] == "Maria Lopez"
    old = await system.client.get("/api/assessment/v1/coaching-referrals", headers=system.bearer("sup.okafor"))
    assert old.status_code == 200 and old.headers["link"].startswith("</api/practice/v1/coaching-referrals>")


RECORD_CONSULTATION = """mutation($input: RecordConsultationInput!) {
  recordConsultation(input: $input) { consultation { id } userErrors { code message } } }"""
BRING = """mutation($input: BringConsultationToCoachingInput!) { bringConsultationToCoaching(input: $input) {
  brought { id consultationId referralId broughtBy } userErrors { field code message } } }"""


async def test_the_worker_brings_a_consultation_to_her_coaching_in_graphql_and_the_coach_reads_it_deidentified(
    system: EmbeddedSystem, demo_case: object
) -> None:
    """Ms. Rivera brings a consultation of the demo family's case to the coaching Ms. Okafor referred her for: it
    replaces the pasted snapshot, says where it came from, and Ms. Tran reads it without the family's names."""
    recorded = (
        await system.graphql(
            RECORD_CONSULTATION,
            {
                "input": {
                    "caseId": str(demo_case),
                    "consultationType": "CASE_CONSULTATION",
                    "heldOn": "2026-11-21",
                    "facilitator": "Grace Okafor",
                    "participants": [{"name": "Maria Lopez", "role": "caregiver", "rating": 5}],
                    "presentingQuestion": "What would tell us the nights are safe?",
                }
            },
            user="fsw.rivera",
        )
    ).json()
    consultation = recorded["data"]["recordConsultation"]["consultation"]["id"]
    referrals = await system.client.get("/api/practice/v1/coaching-referrals", headers=system.bearer("sup.okafor"))
    [referral] = referrals.json()["items"]
    assert referral["snapshot_source"] == "pasted"  # the demo's, pasted before consultations could be brought
    given = {"caseId": str(demo_case), "consultationId": consultation, "referralId": referral["id"]}
    maria = (await system.graphql(BRING, {"input": given}, user="maria.lopez")).json()
    # a family member: the consultation does not exist for her (the assessment service's 404, audited there)
    assert maria["data"]["bringConsultationToCoaching"]["userErrors"][0]["code"] == "NOT_FOUND", maria
    sent = (await system.graphql(BRING, {"input": given}, user="fsw.rivera")).json()
    assert sent["data"]["bringConsultationToCoaching"]["userErrors"] == [], sent
    assert sent["data"]["bringConsultationToCoaching"]["brought"]["broughtBy"] == "fsw.rivera"

    url = f"/api/practice/v1/coaching-referrals/{referral['id']}"
    for _ in range(100):
        read = (await system.client.get(url, headers=system.bearer("coach.tran"))).json()
        if read["snapshot_source"] == "consultation":
            break
        await asyncio.sleep(0.05)
    assert (read["snapshot_source"], read["consultation_id"]) == ("consultation", consultation), read
    snapshot = read["consultation_snapshot"]
    assert snapshot["presenting_question"] == "What would tell us the nights are safe?"
    assert snapshot["participants"] == [{"role": "caregiver", "rating": 5, "rationale": None, "subject": None}]
    assert "Maria Lopez" not in str(snapshot) and str(demo_case) not in str(snapshot)
