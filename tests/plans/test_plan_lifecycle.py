"""A plan's life on SQLite and PostgreSQL: sign, submit, approve, activate; only legal transitions; edits
after approval or signing are new versions; signatures bind to the version hash and a tampered row shows;
the supervisor's decision and its event for the approval queue."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select, text

from sop_plans.models import ImmutableRecordError, SafetyPlanSignature, platform
from sop_shared.testing import InternalTokens, RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow

# The smallest valid PNG (1x1 transparent pixel): what a tablet's signature pad sends, only smaller.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


async def _subjects(plans: RunningService) -> list[str]:
    async with plans.app.state.database.session() as s:
        return [row.subject for row in (await s.execute(select(platform.outbox).order_by(platform.outbox.c.id))).all()]


async def _count(plans: RunningService, table: Any) -> int:
    async with plans.app.state.database.session() as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar_one()


@pytest.mark.sqlite_smoke
async def test_the_family_signs_the_supervisor_approves_and_the_plan_comes_into_force(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    created = await flow.create(lopez_ongoing_plan)
    maria = {"name": "Maria Lopez", "person_id": created["participants"][0]["person_id"]}
    assert created["sign_off"] == {
        "version_number": 1,
        "policy": "all",
        "required": [maria],
        "signed": [],
        "refused": [],
        "missing": ["Maria Lopez"],
        "complete": False,
    }
    signature = await flow.sign(created)
    assert (signature["version_number"], signature["version_hash"]) == (1, created["content_hash"])
    assert signature["recorded_by"] == "fsw.rivera" and len(signature["signature_hash"]) == 64
    await flow.sign(created, 1, method="click", typed_name=None)  # Rosa, from the network, clicks to agree
    pending = await flow.submit(created["id"], supervisor="sup.okafor", note="Signed at the home visit.")
    assert (pending["status"], pending["supervisor"]) == ("pending_approval", "sup.okafor")
    approved = await flow.decide(pending)
    assert approved["status"] == "approved"
    assert approved["latest_approval"]["decided_by"] == "sup.okafor"
    assert approved["latest_approval"]["version_hash"] == created["content_hash"]
    active = await flow.activate(created["id"])
    assert active["status"] == "active"
    assert active["in_force"]["version_number"] == 1 and active["in_force"]["content_hash"] == created["content_hash"]
    assert active["sign_off"]["complete"] and active["sign_off"]["signed"] == ["Maria Lopez"]
    assert [s["signer_name"] for s in active["signatures"]] == ["Maria Lopez", "Rosa Delgado"]
    assert active["review"]["next_review_due"].startswith("2026-12-03T09:00:00")  # 30 days after activation
    assert active["activated_at"].startswith("2026-11-03T09:00:00")
    assert await _subjects(plans) == [
        "sop.plans.safety_plan.created",
        "sop.plans.safety_plan.signature_recorded",
        "sop.plans.safety_plan.signature_recorded",
        "sop.plans.safety_plan.approval_requested",
        "sop.plans.safety_plan.approval_decided",
        "sop.plans.safety_plan.activated",
    ]


async def test_submitting_tells_the_supervisors_approval_queue(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    created = await flow.create(lopez_ongoing_plan)
    await flow.submit(created["id"], supervisor="sup.okafor")
    async with plans.app.state.database.session() as s:
        event = (
            await s.execute(
                select(platform.outbox).where(platform.outbox.c.subject == "sop.plans.safety_plan.approval_requested")
            )
        ).one()
    assert event.payload["plan_id"] == created["id"]
    assert event.payload["supervisor"] == "sup.okafor" and event.payload["requested_by"] == "fsw.rivera"
    assert event.payload["content_hash"] == created["content_hash"] and event.payload["version_number"] == 1
    assert event.payload["decide_at"] == f"/v1/safety-plans/{created['id']}/approve"


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        ([], "activate"),  # a draft cannot come into force
        ([], "approve"),  # nor be approved before it is submitted
        (["submit"], "submit"),  # nor be submitted twice
        (["submit"], "activate"),  # pending approval is not approved
        (["submit", "approve", "activate"], "submit"),  # an active plan is not re-submitted unchanged
        (["submit", "approve", "activate"], "approve"),
        (["terminate"], "terminate"),  # the end is final
        (["terminate"], "submit"),
        (["terminate"], "edit"),
        (["submit"], "edit"),  # the supervisor is reading this version
    ],
)
async def test_illegal_transitions_are_refused_with_409_and_change_nothing(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
    steps: list[str],
    action: str,
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    await flow.sign(plan)
    for i, step in enumerate([*steps, action]):
        plan = await flow.get(plan["id"])
        last = i == len(steps)
        expect = 409 if last else 200
        events_before = await _count(plans, platform.outbox)
        path = f"/v1/safety-plans/{plan['id']}"
        if step == "submit":
            result = await flow.call("POST", f"{path}/submit", expect=expect)
        elif step == "approve":
            result = await flow.decide(plan, expect=expect)
        elif step == "activate":
            result = await flow.activate(plan["id"], expect=expect)
        elif step == "terminate":
            result = await flow.call(
                "POST", f"{path}/terminate", json={"reason": "The family moved to Texas."}, expect=expect
            )
        else:
            result = await flow.call(
                "PATCH",
                path,
                json={"change_note": "x", "title": "Another title"},
                headers={**flow.worker, "If-Match": f'"{plan["version"]}"'},
                expect=expect,
            )
        if last:
            assert result["type"].endswith("/illegal-transition") and result["status"] == 409
            assert result["action"] == action
            after = await flow.get(plan["id"])
            assert (after["status"], after["version"]) == (plan["status"], plan["version"])
            assert await _count(plans, platform.outbox) == events_before


async def test_only_a_supervisor_decides_and_never_on_a_version_they_wrote(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
    tokens: InternalTokens,
    case_id: uuid.UUID,
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    pending = await flow.submit(plan["id"])
    refused = await flow.decide(pending, headers=flow.worker, expect=403)
    assert "approvals:decide" in refused["detail"]
    # a supervisor who wrote the plan herself cannot approve it
    author = tokens.headers("plans", subject="sup.bell", roles=("supervisor",), case_id=case_id)
    theirs = await flow.call(
        "POST", f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan, headers=author, expect=201
    )
    theirs = await flow.call("POST", f"/v1/safety-plans/{theirs['id']}/submit", headers=author)
    assert (await flow.decide(theirs, headers=author, expect=403))["detail"].startswith("a supervisor cannot approve")
    assert (await flow.decide(theirs))["status"] == "approved"  # another supervisor can


async def test_requires_modification_sends_the_plan_back_with_the_supervisors_comment(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    pending = await flow.submit(plan["id"])
    no_comment = await flow.decide(pending, "requires_modification", comment=None, expect=422)
    assert no_comment["errors"] == [{"field": "comment", "message": "say what needs to change"}]
    returned = await flow.decide(pending, "requires_modification", comment="Who drives on weekdays?")
    assert returned["status"] == "draft"
    assert returned["latest_approval"]["decision"] == "requires_modification"
    assert returned["latest_approval"]["comment"] == "Who drives on weekdays?"


async def test_the_supervisor_decides_on_the_version_they_read(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    pending = await flow.submit(plan["id"])
    stale = await flow.decide({**pending, "content_hash": "0" * 64}, expect=409)
    assert stale["type"].endswith("/version-moved")
    assert (await flow.decide({**pending, "current_version_number": 2}, expect=409))["current_version_number"] == 1


async def test_a_plan_is_not_activated_until_every_caregiver_has_signed(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    lopez_ongoing_plan["participants"].append({"name": "Luis Lopez", "role": "caregiver"})
    plan = await flow.create(lopez_ongoing_plan)
    await flow.sign(plan, 0)
    await flow.sign(
        plan,
        2,
        decision="refused",
        method=None,
        typed_name=None,
        affirmation=None,
        refusal_reason="Luis says he does not drink, so the plan is not about him.",
    )
    await flow.submit(plan["id"])
    await flow.decide(await flow.get(plan["id"]))
    blocked = await flow.activate(plan["id"], expect=409)
    assert blocked["type"].endswith("/sign-off-incomplete") and blocked["refused"] == ["Luis Lopez"]
    status = (await flow.get(plan["id"]))["sign_off"]
    assert (status["signed"], status["refused"], status["complete"]) == (["Maria Lopez"], ["Luis Lopez"], False)
    # after a talk with Ms. Rivera, Luis signs: his latest sign-off counts
    await flow.sign(plan, 2)
    assert (await flow.activate(plan["id"]))["status"] == "active"


async def test_a_plan_naming_no_caregiver_cannot_come_into_force(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    lopez_ongoing_plan["participants"] = [lopez_ongoing_plan["participants"][1]]
    plan = await flow.create(lopez_ongoing_plan)
    assert "no_caregiver_participant" in {w["code"] for w in plan["warnings"]}
    await flow.submit(plan["id"])
    await flow.decide(await flow.get(plan["id"]))
    assert "no caregiver" in (await flow.activate(plan["id"], expect=409))["detail"]


async def test_an_edit_after_signing_is_a_new_version_and_the_old_signatures_stay_on_the_old_one(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    v1 = await flow.call("GET", f"/v1/safety-plans/{active['id']}/versions/1")
    rule_ids = [r["id"] for r in active["rules"]]
    edit = {
        "change_note": "Pastor Greene also drives on Wednesdays.",
        "rules": [
            {"id": rule_ids[0], **{k: lopez_ongoing_plan["rules"][0][k] for k in ("text", "threat_code")}},
            {
                "id": rule_ids[1],
                **lopez_ongoing_plan["rules"][1],
                "frequency": "Every school day, every weekend trip and Wednesday church",
            },
        ],
    }
    no_if_match = await flow.plans.client.patch(f"/v1/safety-plans/{active['id']}", json=edit, headers=flow.worker)
    assert no_if_match.status_code == 428
    stale = await flow.plans.client.patch(
        f"/v1/safety-plans/{active['id']}", json=edit, headers={**flow.worker, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    response = await flow.plans.client.patch(
        f"/v1/safety-plans/{active['id']}", json=edit, headers={**flow.worker, "If-Match": f'"{active["version"]}"'}
    )
    assert response.status_code == 200, response.text
    modified = response.json()
    assert response.headers["ETag"] == f'"{modified["version"]}"'
    assert (modified["status"], modified["current_version_number"]) == ("modified", 2)
    assert modified["content_hash"] != active["content_hash"]
    # version 1 still binds the family until version 2 is approved, signed and activated
    assert modified["in_force"] == active["in_force"]
    assert modified["signatures"] == [] and modified["sign_off"]["missing"] == ["Maria Lopez"]
    assert [r["id"] for r in modified["rules"]] == rule_ids  # the rules continue, check-ins still point at them
    # version 1 is exactly as it was, with its signature
    assert await flow.call("GET", f"/v1/safety-plans/{active['id']}/versions/1") == v1
    assert [s["signer_name"] for s in v1["signatures"]] == ["Maria Lopez"]
    assert v1["approvals"][0]["decision"] == "approved"
    v2 = await flow.call("GET", f"/v1/safety-plans/{active['id']}/versions/2")
    assert (v2["created_by"], v2["change_note"]) == ("fsw.rivera", "Pastor Greene also drives on Wednesdays.")
    assert {(c["field"], c["change"]) for c in v2["changes"]} == {
        (f"rules.{rule_ids[0]}", "changed"),
        (f"rules.{rule_ids[1]}", "changed"),
    }
    assert v2["signatures"] == [] and v2["approvals"] == []
    # a signature offered for version 1 now is refused: it would not be what the plan says
    late = await flow.sign({**active, "current_version_number": 1}, expect=409)
    assert late["type"].endswith("/version-moved") and late["current_version_number"] == 2
    # the new version goes through the same steps, and then it is in force
    await flow.sign(modified)
    await flow.submit(active["id"])
    await flow.decide(await flow.get(active["id"]))
    again = await flow.activate(active["id"])
    assert again["in_force"]["version_number"] == 2 and again["in_force"]["content_hash"] == modified["content_hash"]
    signatures = await flow.call("GET", f"/v1/safety-plans/{active['id']}/signatures")
    assert [(s["version_number"], s["version_hash"]) for s in signatures] == [
        (1, active["content_hash"]),
        (2, modified["content_hash"]),
    ]


@pytest.mark.sqlite_smoke
async def test_no_endpoint_and_no_code_path_changes_a_signed_version(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    await flow.sign(plan)
    v1 = await flow.call("GET", f"/v1/safety-plans/{plan['id']}/versions/1")
    for method in ("PUT", "DELETE", "PATCH", "POST"):
        response = await plans.client.request(
            method, f"/v1/safety-plans/{plan['id']}/versions/1", json={"content": {}}, headers=flow.worker
        )
        assert response.status_code == 405, (method, response.text)
    # an edit of the signed draft is version 2; the draft's version 1 keeps its content and signature
    edited = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{plan['id']}",
        json={"change_note": "A clearer title.", "title": "Sofía and Mateo sleep safe"},
        headers={**flow.worker, "If-Match": f'"{(await flow.get(plan["id"]))["version"]}"'},
    )
    assert (edited["status"], edited["current_version_number"], edited["title"]) == (
        "draft",
        2,
        "Sofía and Mateo sleep safe",
    )
    assert await flow.call("GET", f"/v1/safety-plans/{plan['id']}/versions/1") == v1
    with pytest.raises(ImmutableRecordError):
        async with plans.app.state.database.session() as s:
            signature = (await s.execute(select(SafetyPlanSignature))).scalar_one()
            signature.typed_name = "Someone else"


@pytest.mark.sqlite_smoke("hashes over values read back from SQLite")
async def test_a_drawn_signature_is_stored_and_bound_by_its_hash(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    signature = await flow.sign(
        plan,
        method="drawn",
        typed_name=None,
        image_png_base64="data:image/png;base64," + base64.b64encode(TINY_PNG).decode(),
    )
    assert signature["method"] == "drawn" and signature["image_sha256"] == hashlib.sha256(TINY_PNG).hexdigest()
    async with plans.app.state.database.session() as s:
        stored = (await s.execute(select(SafetyPlanSignature))).scalar_one()
    assert stored.image_png == TINY_PNG
    verdict = await flow.call("GET", f"/v1/safety-plans/{plan['id']}/signatures/{signature['id']}/verify")
    assert verdict["valid"] and all(verdict["checks"].values())


@pytest.mark.parametrize(
    ("column", "value", "failed"),
    [
        ("typed_name", "'Rosa Delgado'", "signature_hash"),  # someone else's name
        ("version_hash", "'" + "ab" * 32 + "'", "signature_hash"),  # pointed at other content
        ("signed_at", "signed_at", None),  # an untouched row still verifies
    ],
)
@pytest.mark.sqlite_smoke("hashes over values read back from SQLite")
async def test_a_tampered_signature_row_fails_its_hash_check(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
    column: str,
    value: str,
    failed: str | None,
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    signature = await flow.sign(plan)
    verify = f"/v1/safety-plans/{plan['id']}/signatures/{signature['id']}/verify"
    assert (await flow.call("GET", verify))["valid"]
    async with plans.app.state.database.engine.begin() as conn:  # straight SQL: around every check in the code
        await conn.execute(text(f"UPDATE safety_plan_signature SET {column} = {value}"))
    verdict = await flow.call("GET", verify)
    if failed is None:
        assert verdict["valid"]
        return
    assert not verdict["valid"] and not verdict["checks"][failed]
    assert verdict["recomputed_hash"] != verdict["signature_hash"] == signature["signature_hash"]


async def test_a_tampered_version_or_image_fails_the_signatures_check(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    signature = await flow.sign(
        plan, method="drawn", typed_name=None, image_png_base64=base64.b64encode(TINY_PNG).decode()
    )
    verify = f"/v1/safety-plans/{plan['id']}/signatures/{signature['id']}/verify"
    async with plans.app.state.database.engine.begin() as conn:
        await conn.execute(text("UPDATE safety_plan_signature SET image_png = :png"), {"png": TINY_PNG + b"\x00"})
    assert (await flow.call("GET", verify))["checks"] == {
        "signature_hash": True,
        "version_hash": True,
        "content": True,
        "image": False,
    }
    async with plans.app.state.database.engine.begin() as conn:
        row = (await conn.execute(text("SELECT content FROM safety_plan_version"))).scalar_one()
        tampered = (row if isinstance(row, str) else json.dumps(row)).replace("for the night", "for the weekend")
        await conn.execute(text("UPDATE safety_plan_version SET content = :c"), {"c": tampered})
    checks = (await flow.call("GET", verify))["checks"]
    assert checks["content"] is False and checks["signature_hash"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"method": "drawn", "typed_name": None, "image_png_base64": "not base64!"}, "image_png_base64"),
        (
            {"method": "drawn", "typed_name": None, "image_png_base64": base64.b64encode(b"GIF89a...").decode()},
            "image_png_base64",
        ),
        (
            {
                "method": "drawn",
                "typed_name": None,
                "image_png_base64": base64.b64encode(TINY_PNG + b"\x00" * 200_000).decode(),
            },
            "image_png_base64",
        ),
        ({"method": "typed_name", "typed_name": None}, "typed_name"),
        ({"affirmation": None}, "affirmation"),
        ({"decision": "refused", "method": None, "typed_name": None, "affirmation": None}, "refusal_reason"),
        ({"participant_id": str(uuid.uuid4())}, "participant_id"),
        ({"signer_role": "network"}, "signer_role"),
        ({"content_hash": "not a hash"}, "content_hash"),
        ({"method": "thumbprint"}, "method"),
    ],
)
async def test_a_bad_signature_is_422_naming_the_field_and_nothing_is_written(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
    overrides: dict[str, Any],
    field: str,
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    events = await _count(plans, platform.outbox)
    problem = await flow.sign(plan, expect=422, **overrides)
    assert field in {e["field"] for e in problem["errors"]}, problem
    assert await _count(plans, SafetyPlanSignature.__table__) == 0
    assert await _count(plans, platform.outbox) == events
    assert (await flow.get(plan["id"]))["version"] == plan["version"]


async def test_signing_the_same_sign_off_twice_with_an_idempotency_key_records_it_once(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    key = {**flow.worker, "Idempotency-Key": "tablet-9-signature-1"}
    body = {
        "version_number": 1,
        "content_hash": plan["content_hash"],
        "participant_id": plan["participants"][0]["id"],
        "signer_name": "Maria Lopez",
        "signer_role": "caregiver",
        "method": "pin",
        "affirmation": "Estoy de acuerdo con este plan.",
    }
    first = await flow.call("POST", f"/v1/safety-plans/{plan['id']}/signatures", json=body, headers=key, expect=201)
    again = await flow.call("POST", f"/v1/safety-plans/{plan['id']}/signatures", json=body, headers=key, expect=201)
    assert first == again and await _count(plans, SafetyPlanSignature.__table__) == 1


async def test_plan_routes_answer_under_the_case_too_and_only_for_the_plans_case(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    """The gateway's façade scopes tokens by a cases/{case_id} prefix, so every plan route also answers there."""
    plan = await flow.create(lopez_ongoing_plan)
    under_case = f"/v1/cases/{case_id}/safety-plans/{plan['id']}"
    assert (await flow.call("GET", under_case))["id"] == plan["id"]
    assert (await flow.call("POST", f"{under_case}/submit"))["status"] == "pending_approval"
    other_case = uuid.uuid4()
    other = tokens.headers("plans", case_id=other_case)
    await flow.call("GET", f"/v1/cases/{other_case}/safety-plans/{plan['id']}", headers=other, expect=404)
    await flow.call("GET", f"/v1/cases/{other_case}/safety-plans/{plan['id']}", expect=404)  # path and token differ
    malformed = await flow.call("GET", f"/v1/cases/not-a-case/safety-plans/{plan['id']}", expect=422)
    assert [e["field"] for e in malformed["errors"]] == ["case_id"]  # as on every route under a case


async def test_every_rule_comes_back_with_its_plain_language_check(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    lopez_ongoing_plan["rules"][1]["text"] = "Maria stays away from substance abuse when the children are home."
    plan = await flow.create(lopez_ongoing_plan)
    first, second = plan["rules"]
    assert first["plain_language"]["language"] == "en" and isinstance(first["plain_language"]["findings"], list)
    jargon = [f for f in second["plain_language"]["findings"] if f["code"] == "jargon"]
    assert jargon and jargon[0]["term"].lower() == "substance abuse" and jargon[0]["suggestion"]
    # issue 11: a rule says what people will be doing, so "never" and service compliance are flagged
    lopez_ongoing_plan["rules"][1]["text"] = "Maria never drives the children after drinking."
    never = (await flow.create(lopez_ongoing_plan))["rules"][1]["plain_language"]["findings"]
    assert [f["term"] for f in never if f["code"] == "negative_phrasing"] == ["never"]
    lopez_ongoing_plan["rules"][1]["text"] = "Maria will attend AA meetings and complete parenting classes."
    classes = (await flow.create(lopez_ongoing_plan))["rules"][1]["plain_language"]["findings"]
    assert [f["term"] for f in classes if f["code"] == "service_compliance"] == [
        "attend AA meetings",
        "complete parenting classes",
    ]
    spanish = await flow.create({**lopez_ongoing_plan, "language": "es"})
    assert spanish["rules"][0]["plain_language"]["language"] == "es"


async def test_an_edit_that_empties_a_required_field_is_422_and_writes_nothing(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    events = await _count(plans, platform.outbox)
    if_match = {**flow.worker, "If-Match": f'"{plan["version"]}"'}
    for body, field in (
        ({"change_note": "x", "title": None}, "title"),
        ({"change_note": "x", "expires_at": None}, "expires_at"),
        ({"change_note": "x", "rules": []}, "rules"),
        ({"change_note": "x", "expires_at": "2026-11-01T00:00:00Z"}, "expires_at"),
        ({"title": "No reason given"}, "change_note"),
        ({"change_note": "Nothing really", "title": plan["title"]}, "body"),
    ):
        problem = await flow.call("PATCH", f"/v1/safety-plans/{plan['id']}", json=body, headers=if_match, expect=422)
        assert field in {e["field"] for e in problem["errors"]}, (body, problem)
    after = await flow.get(plan["id"])
    assert (after["current_version_number"], after["version"]) == (1, plan["version"])
    assert await _count(plans, platform.outbox) == events
