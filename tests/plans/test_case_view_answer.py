"""The plans part of the case view answers plain data serialised once (`case_view.answer`,
`sop_shared.plain_answers`), not its response model: each answer must be, byte for byte, the JSON of the same
data validated through `PlansCaseView` and serialised by it (as the route answered before), for every audience of
the populated case. A field renamed, missing or extra (a rule's absent `commitment_id`), out of the model's order,
or formatted otherwise (times, enums, ids, null) fails here; and each answer holds the values the models gave
(`reference_view` of `test_case_view_reads.py`: `plan_out`, `plan_for_audience`, `add_translations`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from answer_bytes import keep_answers

from sop_plans.case_view import api
from sop_shared.ids import new_id
from sop_shared.policy import ActorType, Audience
from sop_shared.testing import InternalTokens, RunningService

sys.path.insert(0, str(Path(__file__).parent))
from conftest import PASTOR_GREENE_ID
from test_case_view_reads import populate, reference_view
from test_known_triggers import trauma_event

if TYPE_CHECKING:
    from conftest import PlanFlow


@pytest.mark.sqlite_smoke
async def test_each_audience_reads_the_json_the_response_model_gives(
    flow: PlanFlow,
    plans: RunningService,
    tokens: InternalTokens,
    lopez_ongoing_plan: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the populated case, its plans with a trigger plan (a known trigger of Sofia's) and the plan's own words
    # translated; read also by Pastor Greene of the network, who watches one rule of two
    trigger = new_id()
    await plans.bus.publish(trauma_event(flow.case_id, "recorded", 1, trigger, history=new_id()))
    avoids = "Rosa sleeps over on the nights Maria works."
    plan = {**lopez_ongoing_plan, "trigger_plan": [{"trigger_id": str(trigger), "how_avoided": avoids}]}
    populated = await populate(flow, tokens, plan)
    in_force = (await flow.call("GET", f"/v1/cases/{flow.case_id}/case-view"))["safety_plan"]
    await flow.call(
        "POST",
        f"/v1/cases/{flow.case_id}/translations",
        expect=201,
        json={
            "record_kind": "safety_plan",
            "record_id": in_force["id"],
            "source_field": "title",
            "language": "es",
            "text": "Mantener a Sofía y Mateo seguros en casa",
            "translated_by": "Lucía Gómez",
        },
    )
    greene = tokens.principal(subject="network.greene", actor_type=ActorType.network, roles=(), scopes=["case:read"])
    readers = {
        **{name: headers for name, (headers, _) in populated.items()},
        "network (Pastor Greene)": tokens.headers("plans", greene.scoped_to(flow.case_id, person_id=PASTOR_GREENE_ID)),
    }

    kept = keep_answers(monkeypatch, api, api.router)
    for name, headers in readers.items():
        read = await plans.client.get(f"/v1/cases/{flow.case_id}/case-view", headers=headers)
        assert read.status_code == 200, (name, read.text)
    assert len(kept.answers) == len(readers)
    for name, answer in zip(readers, kept.answers, strict=True):
        assert answer.body == answer.as_the_model_gives(), name
        principal = plans.app.state.token_verifier.verify(readers[name]["Authorization"].removeprefix("Bearer "))
        as_before = await reference_view(plans, principal, Audience(answer.content["audience"]))
        assert json.loads(answer.body) == as_before, name

    # what the comparison is about: translations, alerts, the trigger plan and the network's cut
    staff, greene_reads = (json.loads(kept.answers[i].body) for i in (0, -1))
    assert staff["alerts"] and staff["safety_plan"]["translations"] and staff["safety_plan"]["trigger_plan"]
    assert any(rule["translations"] for rule in staff["safety_plan"]["rules"])
    assert len(greene_reads["safety_plan"]["rules"]) == 1 < len(staff["safety_plan"]["rules"])
    assert greene_reads["safety_plan"]["trigger_plan"] == [] and not greene_reads["alerts"]
