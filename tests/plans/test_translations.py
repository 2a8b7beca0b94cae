"""Translations of a plan's words, its rules and next steps, on SQLite and PostgreSQL, by the shared workflow:
written by one person, verified by another, qualified one, carried by the case view beside the words, stale
once the words change, and listed in the case's queue while they wait."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import PlanFlow


@pytest.mark.sqlite_smoke
async def test_a_rule_and_a_red_flag_are_translated_verified_and_go_stale_when_the_plan_changes(
    flow: PlanFlow, lopez_ongoing_plan: dict[str, Any]
) -> None:
    plan = await flow.active_plan(lopez_ongoing_plan)
    rule = plan["rules"][0]
    url = f"/v1/cases/{flow.case_id}/translations"
    queue = await flow.call("GET", f"/v1/cases/{flow.case_id}/translation-queue", params={"language": "es"})
    waiting = {(i["record_kind"], i["source_field"]) for i in queue["items"]}
    assert ("plan_rule", "text") in waiting and ("safety_plan", "title") in waiting
    if plan["triggers"]:
        assert ("safety_plan", "triggers.0") in waiting

    made = await flow.call(
        "POST",
        url,
        expect=201,
        json={
            "record_kind": "plan_rule",
            "record_id": rule["id"],
            "language": "es",
            "text": "Rosa se queda con los niños cada noche",
            "translated_by": "Lucía Gómez",
        },
    )
    assert made["state"] == "needs_verifying"
    own = await flow.plans.client.post(
        f"{url}/{made['id']}/verify", headers=flow.worker, json={"qualification": "qualified_interpreter"}
    )
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "verified_by"
    verified = await flow.call(
        "POST",
        f"{url}/{made['id']}/verify",
        headers=flow.supervisor,
        json={"qualification": "qualified_interpreter", "verified_by": "Ana Ruiz"},
    )
    assert verified["state"] == "verified"

    family = {**flow.worker, "X-SOP-Audience": "family"}
    view = await flow.call("GET", f"/v1/cases/{flow.case_id}/case-view", headers=family)
    assert [t["text"] for t in view["safety_plan"]["rules"][0]["translations"]] == [made["text"]]

    # A new version with other words for the rule: the translation is stale for it.
    edited = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{plan['id']}",
        headers={**flow.worker, "If-Match": f'"{plan["version"]}"'},
        json={
            "change_note": "Rosa stays on weekends too",
            "rules": [
                {
                    **{k: rule[k] for k in ("id", "responsible", "monitors")},
                    "text": "Rosa stays every night and on weekends",
                }
            ],
        },
    )
    staff = await flow.call("GET", f"/v1/cases/{flow.case_id}/case-view")
    shown = next(p for p in staff["plans"] if p["id"] == plan["id"])
    assert shown["current_version_number"] == edited["current_version_number"]
    assert shown["rules"][0]["translations"] == []
    [listed] = (await flow.call("GET", url, params={"record_kind": "plan_rule", "record_id": rule["id"]}))["items"]
    assert listed["state"] == "stale"
