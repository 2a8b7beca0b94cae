"""Safety plans over HTTP, on SQLite and PostgreSQL: create, read, list, versions, idempotent creates,
validation that writes nothing, and the practice warnings."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_plans.models import ImmutableVersionError, SafetyPlan, SafetyPlanVersion, platform
from sop_shared.db import Database
from sop_shared.ids import is_uuid7
from sop_shared.testing import InternalTokens, RunningService


def _plans_path(case_id: uuid.UUID) -> str:
    return f"/v1/cases/{case_id}/safety-plans"


async def _counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.session() as s:
            return {
                "plans": (await s.execute(select(func.count()).select_from(SafetyPlan))).scalar_one(),
                "versions": (await s.execute(select(func.count()).select_from(SafetyPlanVersion))).scalar_one(),
                "events": (await s.execute(select(func.count()).select_from(platform.outbox))).scalar_one(),
            }
    finally:
        await db.dispose()


async def _create(
    plans: RunningService, case_id: uuid.UUID, headers: dict[str, str], plan: dict[str, Any]
) -> dict[str, Any]:
    response = await plans.client.post(_plans_path(case_id), json=plan, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.sqlite_smoke
async def test_a_new_plan_is_a_draft_with_version_one_and_the_familys_rules(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    response = await plans.client.post(_plans_path(case_id), json=lopez_ongoing_plan, headers=worker)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert is_uuid7(uuid.UUID(plan["id"]))
    assert response.headers["Location"] == f"/v1/safety-plans/{plan['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (plan["status"], plan["plan_type"], plan["case_id"]) == ("draft", "ongoing", str(case_id))
    assert (plan["current_version_number"], plan["version"], plan["created_by"]) == (1, 1, "fsw.rivera")
    assert plan["effective_from"].startswith("2026-11-02T15:00:00")
    assert plan["threat_codes"] == ["T4"] and len(plan["danger_statement_ids"]) == 1
    assert [r["text"] for r in plan["rules"]] == [r["text"] for r in lopez_ongoing_plan["rules"]]
    assert all(is_uuid7(uuid.UUID(r["id"])) for r in plan["rules"])
    assert plan["rules"][0]["monitors"] == lopez_ongoing_plan["rules"][0]["monitors"]  # Rosa, by name and id
    assert plan["rules"][0]["responsible"] == lopez_ongoing_plan["rules"][0]["responsible"]
    assert plan["if_rule_broken"]["who_is_called"][1] == {"name": "Ms. Rivera (FSW)", "person_id": None}
    assert plan["worker_monitoring"]["contact_frequency"] == "weekly"
    assert plan["warnings"] == []
    assert await _counts(plans.database_url) == {"plans": 1, "versions": 1, "events": 1}


@pytest.mark.sqlite_smoke
async def test_creating_a_plan_emits_one_created_event_in_the_same_transaction(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan = await _create(plans, case_id, worker, lopez_ongoing_plan)
    async with plans.app.state.database.session() as s:
        events = (await s.execute(select(platform.outbox))).all()
    assert [e.subject for e in events] == ["sop.plans.safety_plan.created"]
    assert events[0].case_id == case_id
    assert events[0].payload["plan_id"] == plan["id"]
    assert events[0].payload["content_hash"] == plan["content_hash"]
    assert events[0].payload["version_number"] == 1


@pytest.mark.sqlite_smoke
async def test_the_worker_reads_the_plan_back_with_its_etag_and_the_read_is_audited(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    created = await _create(plans, case_id, worker, lopez_ongoing_plan)
    response = await plans.client.get(f"/v1/safety-plans/{created['id']}", headers=worker)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.json() == created
    async with plans.app.state.database.session() as s:
        verdict = await plans.app.state.audit.verify(s)
        audited = {(r.resource, r.action, r.resource_id) for r in (await s.execute(select(platform.audit))).all()}
    assert verdict.intact
    assert {("safety_plan", "create", created["id"]), ("safety_plan", "read", created["id"])} <= audited


async def test_a_version_is_its_content_exactly_as_agreed_with_the_hash_that_binds_it(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    created = await _create(plans, case_id, worker, lopez_ongoing_plan)
    response = await plans.client.get(f"/v1/safety-plans/{created['id']}/versions/1", headers=worker)
    assert response.status_code == 200
    version = response.json()
    assert (version["plan_id"], version["case_id"], version["number"]) == (created["id"], str(case_id), 1)
    canonical = json.dumps(version["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert version["content_hash"] == hashlib.sha256(canonical.encode("utf-8")).hexdigest() == created["content_hash"]
    # What the family agreed is the words: the check's findings and the translations are read beside them.
    assert version["content"]["rules"] == [
        {k: v for k, v in r.items() if k not in {"plain_language", "translations"}} for r in created["rules"]
    ]
    assert set(version["content"]) == {
        "title",
        "language",
        "effective_from",
        "expires_at",
        "safety_assessment_id",
        "danger_statement_ids",
        "threat_codes",
        "participants",
        "rules",
        "triggers",
        "if_rule_broken",
        "backup_plan",
        "worker_monitoring",
    }
    assert version["content"]["expires_at"] == "2026-12-02T15:00:00Z"  # the dates are agreed, so hashed too
    missing = await plans.client.get(f"/v1/safety-plans/{created['id']}/versions/2", headers=worker)
    assert missing.status_code == 404
    for nonsense in ("0", "99999999999", "latest"):
        response = await plans.client.get(f"/v1/safety-plans/{created['id']}/versions/{nonsense}", headers=worker)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "n"
    listed = (await plans.client.get(f"/v1/safety-plans/{created['id']}/versions", headers=worker)).json()
    assert listed == {"items": [version], "next_cursor": None}
    assert (version["change_note"], version["changes"], version["signatures"]) == (None, [], [])


async def test_two_plans_with_different_rules_have_different_hashes(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    first = await _create(plans, case_id, worker, lopez_ongoing_plan)
    lopez_ongoing_plan["rules"][0]["frequency"] = "Any evening and any weekend Maria has had a drink"
    second = await _create(plans, case_id, worker, lopez_ongoing_plan)
    assert first["content_hash"] != second["content_hash"]


@pytest.mark.sqlite_smoke
async def test_a_stored_version_cannot_be_changed(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    created = await _create(plans, case_id, worker, lopez_ongoing_plan)
    with pytest.raises(ImmutableVersionError):
        async with plans.app.state.database.session() as s:
            version = (
                await s.execute(select(SafetyPlanVersion).where(SafetyPlanVersion.plan_id == uuid.UUID(created["id"])))
            ).scalar_one()
            version.content_hash = "0" * 64
    assert (await plans.client.get(f"/v1/safety-plans/{created['id']}/versions/1", headers=worker)).json()[
        "content_hash"
    ] == created["content_hash"]


async def test_the_case_list_returns_every_plan_with_its_current_rules_in_one_call(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
    tokens: InternalTokens,
    lopez_records_in: Any,
) -> None:
    ongoing = await _create(plans, case_id, worker, lopez_ongoing_plan)
    immediate = await _create(
        plans,
        case_id,
        worker,
        dict(lopez_ongoing_plan, plan_type="immediate", expires_at=None, title="Tonight: the children stay with Rosa"),
    )
    # no expiry given: the policy's default for an immediate plan (config/plan_rules.json: 7 days)
    assert immediate["expires_at"].startswith("2026-11-09T15:00:00")
    other_case = uuid.uuid4()
    await lopez_records_in(other_case)
    await _create(plans, other_case, tokens.headers("plans", case_id=other_case), lopez_ongoing_plan)
    response = await plans.client.get(_plans_path(case_id), headers=worker)
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert body["items"] == [ongoing, immediate]
    drafts = (await plans.client.get(_plans_path(case_id), params={"status": "draft"}, headers=worker)).json()
    active = (await plans.client.get(_plans_path(case_id), params={"status": "active"}, headers=worker)).json()
    assert len(drafts["items"]) == 2 and active["items"] == []


@pytest.mark.sqlite_smoke
async def test_the_case_list_pages_with_a_cursor(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    ids = [(await _create(plans, case_id, worker, lopez_ongoing_plan))["id"] for _ in range(3)]
    first = (await plans.client.get(_plans_path(case_id), params={"limit": 2}, headers=worker)).json()
    assert [p["id"] for p in first["items"]] == ids[:2] and first["next_cursor"]
    second = (
        await plans.client.get(
            _plans_path(case_id), params={"limit": 2, "cursor": first["next_cursor"]}, headers=worker
        )
    ).json()
    assert [p["id"] for p in second["items"]] == ids[2:] and second["next_cursor"] is None


async def test_an_unknown_or_misspelt_filter_is_refused_not_ignored(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
) -> None:
    response = await plans.client.get(_plans_path(case_id), params={"stauts": "active"}, headers=worker)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [{"field": "stauts", "message": "unknown query parameter"}]
    bad_status = await plans.client.get(_plans_path(case_id), params={"status": "finished"}, headers=worker)
    assert bad_status.status_code == 422 and bad_status.json()["errors"][0]["field"] == "status"
    assert (await plans.client.get(_plans_path(case_id), params={"limit": 500}, headers=worker)).status_code == 422


@pytest.mark.sqlite_smoke
async def test_repeating_a_create_with_the_same_idempotency_key_returns_the_first_plan(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    headers = {**worker, "Idempotency-Key": "tablet-7f3a-plan-1"}
    responses = [
        await plans.client.post(_plans_path(case_id), json=lopez_ongoing_plan, headers=headers) for _ in range(3)
    ]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert responses[0].json() == responses[2].json()
    assert responses[2].headers["Location"] == responses[0].headers["Location"]
    assert responses[2].headers["Idempotent-Replayed"] == "true"
    assert await _counts(plans.database_url) == {"plans": 1, "versions": 1, "events": 1}


async def test_the_same_idempotency_key_with_another_plan_is_422(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    headers = {**worker, "Idempotency-Key": "tablet-7f3a-plan-2"}
    assert (await plans.client.post(_plans_path(case_id), json=lopez_ongoing_plan, headers=headers)).status_code == 201
    lopez_ongoing_plan["title"] = "Another plan"
    response = await plans.client.post(_plans_path(case_id), json=lopez_ongoing_plan, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await _counts(plans.database_url) == {"plans": 1, "versions": 1, "events": 1}


async def test_two_workers_using_the_same_idempotency_key_each_get_their_own_plan(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    key = {"Idempotency-Key": "plan-1"}
    mine = await plans.client.post(_plans_path(case_id), json=lopez_ongoing_plan, headers={**worker, **key})
    supervisor = tokens.headers("plans", subject="sup.okafor", roles=("supervisor",), case_id=case_id)
    theirs = await plans.client.post(_plans_path(case_id), json=lopez_ongoing_plan, headers={**supervisor, **key})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["created_by"] == "sup.okafor"


async def test_bad_input_is_422_naming_each_field_and_nothing_is_written(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    lopez_ongoing_plan["plan_type"] = "forever"
    lopez_ongoing_plan["rules"][0]["text"] = "   "
    lopez_ongoing_plan["rules"][1]["text"] = "x" * 2001
    lopez_ongoing_plan["rules"][1]["colour"] = "blue"
    lopez_ongoing_plan["effective_from"] = "2026-11-02T15:00:00"  # no time zone
    response = await plans.client.post(
        _plans_path(case_id), json=lopez_ongoing_plan, headers={**worker, "Idempotency-Key": "bad-1"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"plan_type", "rules.0.text", "rules.1.text", "rules.1.colour", "effective_from"} <= fields
    assert await _counts(plans.database_url) == {"plans": 0, "versions": 0, "events": 0}


async def test_a_plan_without_rules_is_422(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    lopez_ongoing_plan["rules"] = []
    response = await plans.client.post(_plans_path(case_id), json=lopez_ongoing_plan, headers=worker)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["rules"]
    assert (await _counts(plans.database_url))["plans"] == 0


async def test_a_plan_that_expires_before_it_starts_is_422_and_nothing_is_written(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    lopez_ongoing_plan["expires_at"] = "2026-11-02T14:59:59Z"
    response = await plans.client.post(_plans_path(case_id), json=lopez_ongoing_plan, headers=worker)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["expires_at"]
    assert await _counts(plans.database_url) == {"plans": 0, "versions": 0, "events": 0}


async def test_a_rule_without_a_monitor_is_a_warning_not_an_error(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    lopez_ongoing_plan["rules"][1]["monitors"] = []
    plan = await _create(plans, case_id, worker, lopez_ongoing_plan)
    assert [(w["code"], w["field"]) for w in plan["warnings"]] == [("rule_without_monitor", "rules.1.monitors")]
    assert plan["warnings"][0]["message"]
    # the warning stays visible on every read, not only on the create
    read = (await plans.client.get(f"/v1/safety-plans/{plan['id']}", headers=worker)).json()
    assert read["warnings"] == plan["warnings"]


async def test_a_rule_that_is_only_a_service_referral_is_a_warning_not_an_error(
    plans: RunningService,
    case_id: uuid.UUID,
    worker: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    maria_and_rosa = {k: lopez_ongoing_plan["rules"][0][k] for k in ("responsible", "monitors")}
    lopez_ongoing_plan["rules"].append(
        {"text": "Maria will attend parenting classes at the community center.", **maria_and_rosa}
    )
    plan = await _create(plans, case_id, worker, lopez_ongoing_plan)
    assert [(w["code"], w["field"]) for w in plan["warnings"]] == [("rule_is_only_a_service_referral", "rules.2.text")]
    assert plan["status"] == "draft"


async def test_a_plans_approval_history_is_the_agencys_and_not_shown_to_the_family(
    plans: RunningService, case_id: uuid.UUID, worker: dict[str, str], lopez_ongoing_plan: dict[str, Any], tokens: Any
) -> None:
    """The supervisor's decisions on a plan are supervision records (policy section `supervision`), like the
    assessment's approvals: a family member, or staff speaking for the family, find no such route."""
    from sop_shared.policy import ActorType

    created = await plans.client.post(f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan, headers=worker)
    assert created.status_code == 201, created.text
    url = f"/v1/safety-plans/{created.json()['id']}/approvals"
    assert (await plans.client.get(url, headers=worker)).status_code == 200
    maria = tokens.headers(
        "plans", subject="maria.lopez", actor_type=ActorType.family, roles=(), scopes=("case:read",), case_id=case_id
    )
    for headers in (maria, {**worker, "X-SOP-Audience": "family"}):
        refused = await plans.client.get(url, headers=headers)
        assert refused.status_code == 404, refused.text
