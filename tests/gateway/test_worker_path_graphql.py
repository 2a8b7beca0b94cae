"""The worker's path in GraphQL alone (issue 13): a new family from the SACWIS upsert to an active, signed safety
plan with a check-in, with the supervisor's approvals on the way — and an edit of the plan, whose new version is
approved and signed from what the edit answered. Every call is a GraphQL request to the gateway; no REST.

A fictional family: Dana Walker and her son Eli, with Eli's uncle Marcus as the safety person."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sop_gateway.demo.assessment_sdm import DEMO_SAFETY_ANSWERS

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ERRORS = "userErrors { field message code }"
WORKER, SUPERVISOR, SACWIS = "fsw.rivera", "sup.okafor", "sacwis.sync"


class Walk:
    """Runs each step as one GraphQL request and counts them."""

    def __init__(self, system: EmbeddedSystem) -> None:
        self.system = system
        self.calls = 0

    async def query(self, document: str, variables: dict[str, Any] | None = None, user: str = WORKER) -> Any:
        self.calls += 1
        response = await self.system.graphql(document, variables or {}, user=user)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def write(self, name: str, selection: str, user: str = WORKER, **fields: Any) -> Any:
        kind = name[0].upper() + name[1:]
        document = f"mutation($input: {kind}Input!) {{ {name}(input: $input) {{ {selection} {ERRORS} }} }}"
        payload = (await self.query(document, {"input": fields}, user))[name]
        assert payload["userErrors"] == [], (name, payload["userErrors"])
        return next(v for k, v in payload.items() if k != "userErrors")


async def test_a_new_family_from_sacwis_to_an_active_signed_plan_in_graphql_alone(system: EmbeddedSystem) -> None:
    walk = Walk(system)
    external_id = f"WALK-{uuid.uuid4().hex[:8]}"

    # 1. SACWIS creates the case, with the family and the staff assigned
    case = await walk.write(
        "upsertCaseByExternalId",
        "case { id version members { id role person { id firstName } } }",
        user=SACWIS,
        system="CHRIS",
        externalId=external_id,
        caseType="IN_HOME",
        status="OPEN",
        county="Pulaski",
        openedOn="2026-11-30",
        members=[
            {
                "role": "CAREGIVER",
                "relationshipToChildren": "mother",
                "person": {"externalId": f"{external_id}-1", "firstName": "Dana", "lastName": "Walker"},
            },
            {
                "role": "CHILD",
                "relationshipToChildren": "son",
                "person": {"externalId": f"{external_id}-2", "firstName": "Eli", "lastName": "Walker"},
            },
            {
                "role": "NETWORK",
                "relationshipToChildren": "uncle",
                "person": {"externalId": f"{external_id}-3", "firstName": "Marcus", "lastName": "Walker"},
            },
        ],
        assignments=[{"staffSubject": WORKER, "role": "WORKER"}, {"staffSubject": SUPERVISOR, "role": "SUPERVISOR"}],
    )
    case_id = case["id"]
    people = {m["person"]["firstName"]: m["person"]["id"] for m in case["members"]}

    # 2. the safety network: Marcus, known to SACWIS
    member = await walk.write(
        "addNetworkMember",
        "member { id circle }",
        caseId=case_id,
        personId=people["Marcus"],
        circle="INNER",
        roles=["safety person in the evenings"],
    )
    assert member["circle"] == "INNER"
    commitment = await walk.write(
        "recordNetworkCommitment",
        "commitment { id status origin sharing }",
        caseId=case_id,
        memberId=member["id"],
        text="Comes by every evening at 6 and stays until Eli is asleep.",
        schedule="daily",
    )
    assert (commitment["status"], commitment["origin"], commitment["sharing"]) == ("CONFIRMED", "WORKER", "SHARED")

    # 3. the map, the danger statement, its safety goal and a rating; then the map is complete
    the_map = await walk.write(
        "createMap",
        "map { id currentVersion status }",
        caseId=case_id,
        context="IN_HOME",
        title="Walker family, first home visit",
        strengths=[{"text": "Dana walks Eli to school every morning", "source": {"name": "Eli's teacher"}}],
        existingSafety=[
            {"text": "Marcus stays over when Dana has been drinking", "source": {"name": "Marcus"}, "byWhom": "Marcus"}
        ],
    )
    danger = await walk.write(
        "createStatement",
        "statement { id status composedText }",
        caseId=case_id,
        kind="DANGER",
        language="en",
        whoIsWorried="Marcus and the agency",
        caregiverBehaviour="Dana drinks until she falls asleep",
        contextTrigger="when she is alone with Eli at night",
        children=[{"name": "Eli", "personId": people["Eli"]}],
        fearedImpactOnChild="could be hurt with no adult awake to help him",
        threatCodes=["T4"],
    )
    await walk.write(
        "createSafetyGoal",
        "safetyGoal { id status }",
        caseId=case_id,
        dangerStatementId=danger["id"],
        duration="P3M",
        owner="FAMILY",
        caregiverWillBeDoing="Dana will make sure a sober adult is awake in the house every night.",
    )
    await walk.write(
        "rateSafetyScale",
        "scaleRating { id score }",
        caseId=case_id,
        statementId=danger["id"],
        occasionOn="2026-11-30",
        raterName="Dana Walker",
        raterRole="CAREGIVER",
        score=5,
        rationale="Marcus comes most evenings now.",
    )
    completed = await walk.write(
        "completeMap", "map { status completedVersion }", caseId=case_id, mapId=the_map["id"], expectedVersion=1
    )
    assert completed == {"status": "COMPLETE", "completedVersion": 1}

    # 4. the safety assessment: conditionally safe
    safety = await walk.write(
        "startSdmAssessment",
        "sdmAssessment { id version status }",
        caseId=case_id,
        instrumentKey="safety_assessment",
        instrumentVersion="illustrative-1",
        anchors={"first_contact": "2026-11-30T15:00:00Z"},
        answers=DEMO_SAFETY_ANSWERS,
        children=[{"name": "Eli"}],
    )
    decided = await walk.write(
        "completeSdmAssessment",
        "sdmAssessment { status results }",
        caseId=case_id,
        assessmentId=safety["id"],
        expectedVersion=safety["version"],
    )
    assert decided["status"] == "COMPLETED"
    assert decided["results"]["decisions"]["safety_decision"]["final"] == "conditionally_safe"

    # 5. the risk assessment, raised one level by a discretionary override the supervisor approves
    risk = await walk.write(
        "startSdmAssessment",
        "sdmAssessment { id version }",
        caseId=case_id,
        instrumentKey="risk_assessment",
        instrumentVersion="illustrative-1",
        answers={
            **{f"N{i}": "a" for i in range(1, 10)},
            **{f"A{i}": "a" for i in range(1, 9)},
            "N1": "b",
            "N2": "c",
            "threats_remain": True,
        },
    )
    risk = await walk.write(
        "completeSdmAssessment",
        "sdmAssessment { id version scoredLevel }",
        caseId=case_id,
        assessmentId=risk["id"],
        expectedVersion=risk["version"],
    )
    pending = await walk.write(
        "overrideSdmAssessment",
        "sdmAssessment { id status finalLevel }",
        caseId=case_id,
        assessmentId=risk["id"],
        kind="DISCRETIONARY",
        toLevel="high",
        reasons="Dana has been drinking most nights for months and nobody else is awake at night yet.",
        supervisor=SUPERVISOR,
    )
    assert pending["status"] == "PENDING_APPROVAL"
    queue = await walk.query(
        "{ approvalQueue(kind: SDM_OVERRIDE) { nodes { id caseId version subjectId } pageInfo { hasNextPage } } }",
        user=SUPERVISOR,
    )
    [item] = [n for n in queue["approvalQueue"]["nodes"] if n["caseId"] == case_id]
    assert item["subjectId"] == risk["id"]
    await walk.write(
        "decideApproval",
        "approval { id status }",
        user=SUPERVISOR,
        caseId=case_id,
        approvalId=item["id"],
        expectedVersion=item["version"],
        decision="APPROVED",
        comment="Agreed: nobody is awake at night yet.",
    )

    # 6. the safety plan: drafted, submitted, approved, signed by Dana, active; Marcus checks in
    plan_selection = (
        "safetyPlan { id status version currentVersionNumber contentHash participants { id name role } "
        "rules { id text } }"
    )
    plan = await walk.write(
        "createSafetyPlan",
        plan_selection,
        caseId=case_id,
        planType="ONGOING",
        title="Evenings with Marcus",
        dangerStatementIds=[danger["id"]],
        threatCodes=["T4"],
        participants=[{"name": "Dana Walker", "personId": people["Dana"], "role": "CAREGIVER"}],
        rules=[
            {
                "text": "Marcus is at the house every evening from 6 until Eli is asleep.",
                "threatCode": "T4",
                "responsible": [{"name": "Marcus Walker", "personId": people["Marcus"]}],
                "monitors": [{"name": "Marcus Walker", "personId": people["Marcus"]}],
            }
        ],
    )

    async def approve_and_sign(plan: dict[str, Any]) -> dict[str, Any]:
        submitted = await walk.write(
            "submitSafetyPlan",
            "safetyPlan { status version }",
            caseId=case_id,
            planId=plan["id"],
            expectedVersion=plan["version"],
            supervisor=SUPERVISOR,
        )
        assert submitted["status"] == "PENDING_APPROVAL"
        approved = await walk.write(
            "approveSafetyPlan",
            "safetyPlan { status version }",
            user=SUPERVISOR,
            caseId=case_id,
            planId=plan["id"],
            expectedVersion=submitted["version"],
            versionNumber=plan["currentVersionNumber"],
            contentHash=plan["contentHash"],
            decision="APPROVED",
        )
        dana = next(p for p in plan["participants"] if p["name"] == "Dana Walker")
        signature = await walk.write(
            "signSafetyPlan",
            "signature { decision versionNumber }",
            caseId=case_id,
            planId=plan["id"],
            versionNumber=plan["currentVersionNumber"],
            contentHash=plan["contentHash"],
            participantId=dana["id"],
            signerName="Dana Walker",
            signerPersonId=people["Dana"],
            signerRole="CAREGIVER",
            method="TYPED_NAME",
            typedName="Dana Walker",
            affirmation="I agree to this plan.",
        )
        assert signature == {"decision": "SIGNED", "versionNumber": plan["currentVersionNumber"]}
        return approved  # type: ignore[no-any-return]

    await approve_and_sign(plan)
    active = await walk.write(  # If-Match is optional here: the plan's version moved with the signature
        "activateSafetyPlan", "safetyPlan { status version }", caseId=case_id, planId=plan["id"]
    )
    assert active["status"] == "ACTIVE"
    check_in = await walk.write(
        "recordCheckIn",
        "checkIn { id kept }",
        caseId=case_id,
        planId=plan["id"],
        ruleId=plan["rules"][0]["id"],
        reportedBy={"name": "Marcus Walker", "personId": people["Marcus"]},
        kept=True,
        note="Eli asleep at 8:30, Dana sober.",
    )
    assert check_in["kept"] is True

    # 7. an edit: the new version (and who takes part in it) comes back, so it is approved and signed from it
    edited = await walk.write(
        "editSafetyPlan",
        plan_selection,
        caseId=case_id,
        planId=plan["id"],
        expectedVersion=active["version"],
        changeNote="Marcus also comes on Saturday mornings.",
        rules=[
            {"id": plan["rules"][0]["id"], "text": plan["rules"][0]["text"], "threatCode": "T4"},
            {"text": "Marcus takes Eli to football on Saturday mornings.", "threatCode": "T4"},
        ],
    )
    assert edited["currentVersionNumber"] == 2 and edited["participants"]
    await approve_and_sign(edited)

    # the whole path, in GraphQL alone
    view = await walk.query(
        "query($id: ID!) { caseView(caseId: $id) { safetyPlan { status versionNumber } } }", {"id": case_id}
    )
    assert view["caseView"]["safetyPlan"]["versionNumber"] in (1, 2)
    print(f"\nworker's path in GraphQL alone: {walk.calls} calls")
    assert walk.calls == 26  # before: about 68 calls, 25 of them REST (a commitment is recorded on its own now)
