"""Child-voice records over HTTP, on SQLite and PostgreSQL: the child's exact words, drawings kept through
the attachment store, and the child's consent to share enforced for every audience."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_assessment.attachments.models import Attachment
from sop_assessment.child_voice.models import ChildVoiceRecord, SafetyHouseRuleLink
from sop_assessment.component import component
from sop_assessment.models import platform
from sop_shared.db import Database, utcnow
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService, run_component

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
Counts = Callable[[], Awaitable[dict[str, int]]]

SOFIAS_THREE_HOUSES: dict[str, Any] = {
    "kind": "three_houses",
    "child": {"name": "Sofia"},
    "language": "en",
    "consent": {"shared_with": ["family"], "note": "Sofia said her mom and grandma can see it."},
    "sharing_judgement": {"safe": True, "reason": "Maria already knows these worries; sharing them is safe."},
    "content": {
        "session_date": "2026-11-20",
        "parent_consent": "not_needed",
        "houses": [
            {
                "house": "worries",
                "child_name_for_house": "the sad house",
                "entries": [{"words": "when mommy sleeps on the couch and wont wake up  ", "read_back": True}],
            },
            {"house": "good_things", "entries": [{"words": "Grandma Rosa makes pancakes"}]},
            {
                "house": "dreams",
                "entries": [{"words": "mommy stays awake and we watch movies", "written_by": "worker"}],
            },
        ],
    },
}


def child_voice_of(case_id: uuid.UUID) -> str:
    return f"/v1/cases/{case_id}/child-voice"


def as_audience(headers: dict[str, str], audience: str) -> dict[str, str]:
    return {**headers, "X-SOP-Audience": audience}


def database(svc: RunningService) -> Database:
    return svc.app.state.database  # type: ignore[no-any-return]


@pytest.fixture
def counts(assessment: RunningService) -> Counts:
    async def count() -> dict[str, int]:
        async with database(assessment).session() as s:

            def n(table: Any) -> Any:
                return select(func.count()).select_from(table)

            return {
                "records": (await s.execute(n(ChildVoiceRecord))).scalar_one(),
                "attachments": (await s.execute(n(Attachment))).scalar_one(),
                "links": (await s.execute(n(SafetyHouseRuleLink))).scalar_one(),
                "events": (await s.execute(n(platform.outbox))).scalar_one(),
            }

    return count


@pytest.fixture
def maria(tokens: InternalTokens, lopez_case: uuid.UUID) -> dict[str, str]:
    """Maria, Sofia's mother, reading through the family view."""
    return tokens.headers(
        "assessment",
        subject="family.maria",
        actor_type=ActorType.family,
        roles=(),
        scopes=["case:read"],
        case_id=lopez_case,
    )


async def record(
    svc: RunningService,
    case_id: uuid.UUID,
    headers: dict[str, str],
    body: dict[str, Any],
) -> dict[str, Any]:
    response = await svc.client.post(child_voice_of(case_id), headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_childs_exact_words_are_kept_as_she_said_them(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    body = await record(assessment, lopez_case, rivera, SOFIAS_THREE_HOUSES)
    assert body["restricted"] is False and body["kind"] == "three_houses"
    assert body["content"]["houses"][0]["entries"][0]["words"] == "when mommy sleeps on the couch and wont wake up  "
    assert body["content"]["houses"][0]["child_name_for_house"] == "the sad house"
    assert body["consent"] == {"shared_with": ["family"], "note": "Sofia said her mom and grandma can see it."}
    assert body["child"] == {"name": "Sofia", "person_id": None} and body["version"] == 1
    again = await assessment.client.get(f"/v1/child-voice/{body['id']}", headers=rivera)
    assert again.json() == body and again.headers["ETag"] == '"1"'


async def test_an_audience_the_child_did_not_consent_to_sees_only_that_a_record_exists(
    assessment: RunningService,
    rivera: dict[str, str],
    maria: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    created = await record(assessment, lopez_case, rivera, SOFIAS_THREE_HOUSES)
    url = f"/v1/child-voice/{created['id']}"
    family = (await assessment.client.get(url, headers=maria)).json()  # a family token defaults to the family view
    assert family["restricted"] is False and family["content"] == created["content"]
    for audience in ("network", "partner", "court"):
        seen = (await assessment.client.get(url, headers=as_audience(rivera, audience))).json()
        assert seen == {
            "id": created["id"],
            "case_id": str(lopez_case),
            "kind": "three_houses",
            "restricted": True,
            "created_at": created["created_at"],
            "child": None,
            "language": None,
            "content": None,
            "consent": None,
            "sharing_judgement": None,
            "attachments": None,
            "rule_links": None,
            "created_by": None,
            "version": None,
            "updated_at": None,
            "translations": None,
        }
    supervisor = await assessment.client.get(url, headers=as_audience(rivera, "staff"))
    assert supervisor.json()["restricted"] is False


async def test_withdrawn_consent_hides_the_content_again(
    assessment: RunningService,
    rivera: dict[str, str],
    maria: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    created = await record(assessment, lopez_case, rivera, SOFIAS_THREE_HOUSES)
    url = f"/v1/child-voice/{created['id']}"
    changed = await assessment.client.patch(
        url, headers={**rivera, "If-Match": '"1"'}, json={"consent": {"shared_with": []}}
    )
    assert changed.status_code == 200, changed.text
    assert (await assessment.client.get(url, headers=maria)).json()["restricted"] is True
    listed = (await assessment.client.get(child_voice_of(lopez_case), headers=maria)).json()["items"]
    assert [(i["id"], i["restricted"], i["content"]) for i in listed] == [(created["id"], True, None)]


async def test_a_family_member_cannot_ask_for_the_staff_view_and_an_unknown_audience_is_refused(
    assessment: RunningService,
    rivera: dict[str, str],
    maria: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    created = await record(assessment, lopez_case, rivera, SOFIAS_THREE_HOUSES)
    url = f"/v1/child-voice/{created['id']}"
    assert (await assessment.client.get(url, headers=as_audience(maria, "staff"))).status_code == 403
    unknown = await assessment.client.get(url, headers=as_audience(rivera, "everyone"))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "X-SOP-Audience"


async def test_a_session_stopped_early_needs_a_reason_and_bad_records_write_nothing(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    before = await counts()
    stopped = {**SOFIAS_THREE_HOUSES, "content": {**SOFIAS_THREE_HOUSES["content"], "stopped_early": True}}
    response = await assessment.client.post(child_voice_of(lopez_case), headers=rivera, json=stopped)
    assert response.status_code == 422 and "stopped_reason" in response.text
    twice = {
        **SOFIAS_THREE_HOUSES,
        "content": {**SOFIAS_THREE_HOUSES["content"], "houses": [{"house": "worries"}, {"house": "worries"}]},
    }
    assert (await assessment.client.post(child_voice_of(lopez_case), headers=rivera, json=twice)).status_code == 422
    empty_words = {
        **SOFIAS_THREE_HOUSES,
        "consent": {"shared_with": ["everyone"]},
        "content": {**SOFIAS_THREE_HOUSES["content"], "houses": [{"house": "worries", "entries": [{"words": ""}]}]},
    }
    response = await assessment.client.post(child_voice_of(lopez_case), headers=rivera, json=empty_words)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"three_houses.consent.shared_with.0", "three_houses.content.houses.0.entries.0.words"} <= fields
    assert await counts() == before


async def test_safety_house_roof_rules_are_linked_to_the_safety_plan_rules(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    night_rule, call_rule = uuid.uuid4(), uuid.uuid4()
    # the plans service announced the plan with these rules: only then may the child's roof rules link to them
    await assessment.bus.publish(
        Event(
            id=new_id(),
            subject="sop.plans.safety_plan.created",
            occurred_at=utcnow(),
            case_id=lopez_case,
            data={"case_id": str(lopez_case), "plan_id": str(new_id()), "rule_ids": [str(night_rule), str(call_rule)]},
        )
    )
    house = await record(
        assessment,
        lopez_case,
        rivera,
        {
            "kind": "safety_house",
            "child": {"name": "Mateo"},
            "consent": {"shared_with": ["family", "network"]},
            "content": {
                "session_date": "2026-11-21",
                "path_position": 4,
                "inside_people": [{"name": "Grandma Rosa", "lives_or_visits": "visits", "why_safe": "she stays awake"}],
                "outside_people": [{"name": "Uncle Beto", "status": "supervised_only"}],
                "roof_rules": [
                    {"words": "Grandma comes when mommy drinks", "safety_plan_rule_id": str(night_rule)},
                    {"words": "I can call Grandma on the red phone", "safety_plan_rule_id": str(call_rule)},
                    {"words": "no yelling"},
                ],
            },
        },
    )
    assert house["rule_links"] == [
        {"roof_rule": 0, "safety_plan_rule_id": str(night_rule), "in_plan": True, "removed_in_version": None},
        {"roof_rule": 1, "safety_plan_rule_id": str(call_rule), "in_plan": True, "removed_in_version": None},
    ]
    assert (await counts())["links"] == 2
    content = {
        **house["content"],
        "roof_rules": [{"words": "Grandma comes when mommy drinks", "safety_plan_rule_id": str(night_rule)}],
    }
    changed = await assessment.client.patch(
        f"/v1/child-voice/{house['id']}", headers={**rivera, "If-Match": '"1"'}, json={"content": content}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["rule_links"] == [
        {"roof_rule": 0, "safety_plan_rule_id": str(night_rule), "in_plan": True, "removed_in_version": None}
    ]
    assert (await counts())["links"] == 1
    bad = await assessment.client.patch(
        f"/v1/child-voice/{house['id']}",
        headers={**rivera, "If-Match": '"2"'},
        json={"content": {**content, "path_position": 11}},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "content.path_position"


async def test_words_and_pictures_records_each_caregivers_review(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    body = await record(
        assessment,
        lopez_case,
        rivera,
        {
            "kind": "words_and_pictures",
            "child": {"name": "Sofia"},
            "language": "es",
            "content": {
                "pages": [
                    {"text": "Mamá a veces toma mucho y se duerme."},
                    {"text": "La abuela Rosa viene cuando mamá toma."},
                ],
                "caregiver_reviews": [{"name": "Maria", "decision": "agreed", "comment": "Sí, es verdad."}],
                "shared_with_child_on": "2026-11-25",
            },
        },
    )
    assert body["language"] == "es" and body["content"]["caregiver_reviews"][0]["decision"] == "agreed"
    assert body["consent"]["shared_with"] == []


@pytest.mark.sqlite_smoke("attachments as files beside the SQLite database")
async def test_a_drawing_is_kept_and_shown_only_to_audiences_the_child_consented_to(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tmp_path: Path,
) -> None:
    created = await record(assessment, lopez_case, rivera, SOFIAS_THREE_HOUSES)
    url = f"/v1/child-voice/{created['id']}/attachments"
    uploaded = await assessment.client.post(url, headers={**rivera, "Content-Type": "image/png"}, content=PNG)
    assert uploaded.status_code == 201, uploaded.text
    drawing = uploaded.json()
    assert (drawing["content_type"], drawing["size"]) == ("image/png", len(PNG))
    assert next(iter((tmp_path / "attachments" / str(lopez_case)).iterdir())).read_bytes() == PNG
    got = await assessment.client.get(f"{url}/{drawing['id']}", headers=rivera)
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    shared = await assessment.client.get(f"{url}/{drawing['id']}", headers=as_audience(rivera, "family"))
    assert shared.status_code == 200
    hidden = await assessment.client.get(f"{url}/{drawing['id']}", headers=as_audience(rivera, "court"))
    assert hidden.status_code == 404

    content = SOFIAS_THREE_HOUSES["content"] | {
        "houses": [
            {"house": "dreams", "entries": [{"words": "our house with a big tree", "drawing_id": drawing["id"]}]}
        ]
    }
    linked = await assessment.client.patch(
        f"/v1/child-voice/{created['id']}", headers={**rivera, "If-Match": '"1"'}, json={"content": content}
    )
    assert linked.status_code == 200, linked.text
    assert [a["id"] for a in linked.json()["attachments"]] == [drawing["id"]]
    content["houses"][0]["entries"][0]["drawing_id"] = str(uuid.uuid4())
    stranger = await assessment.client.patch(
        f"/v1/child-voice/{created['id']}", headers={**rivera, "If-Match": '"2"'}, json={"content": content}
    )
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "content.houses.0.entries.0.drawing_id"


async def test_only_real_png_and_jpeg_drawings_are_accepted_and_a_refused_one_writes_nothing(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
    tmp_path: Path,
) -> None:
    created = await record(assessment, lopez_case, rivera, SOFIAS_THREE_HOUSES)
    url = f"/v1/child-voice/{created['id']}/attachments"
    before = await counts()
    for content_type, data, field in (
        ("image/png", b"<svg onload=alert(1)>", "body"),
        ("image/png", JPEG, "Content-Type"),
        ("image/gif", b"GIF89a" + b"\x00" * 10, "body"),
        ("image/png", b"", "body"),
    ):
        response = await assessment.client.post(url, headers={**rivera, "Content-Type": content_type}, content=data)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    assert await counts() == before
    assert not (tmp_path / "attachments").exists()
    jpeg = await assessment.client.post(url, headers={**rivera, "Content-Type": "image/jpeg"}, content=JPEG)
    assert jpeg.status_code == 201 and jpeg.json()["content_type"] == "image/jpeg"


async def test_a_drawing_over_the_size_limit_is_refused(
    database_url: str,
    tokens: InternalTokens,
    tmp_path: Path,
    lopez_case: uuid.UUID,
) -> None:
    async with run_component(
        component, database_url=database_url, tokens=tokens, data_dir=tmp_path, attachment_max_bytes=100
    ) as svc:
        headers = tokens.headers("assessment", case_id=lopez_case)
        created = await record(svc, lopez_case, headers, SOFIAS_THREE_HOUSES)
        url = f"/v1/child-voice/{created['id']}/attachments"
        png = {**headers, "Content-Type": "image/png"}
        assert (await svc.client.post(url, headers=png, content=PNG + b"\x00" * 100)).status_code == 413
        assert (await svc.client.post(url, headers=png, content=PNG)).status_code == 201


async def test_another_cases_token_cannot_tell_a_record_exists(
    assessment: RunningService,
    rivera: dict[str, str],
    tokens: InternalTokens,
    lopez_case: uuid.UUID,
) -> None:
    created = await record(assessment, lopez_case, rivera, SOFIAS_THREE_HOUSES)
    other = tokens.headers("assessment", case_id=uuid.uuid4())
    assert (await assessment.client.get(f"/v1/child-voice/{created['id']}", headers=other)).status_code == 404
    listed = await assessment.client.get(child_voice_of(lopez_case), headers=other)
    assert listed.status_code == 404


@pytest.mark.sqlite_smoke
async def test_a_repeat_with_the_same_idempotency_key_records_the_session_once(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    headers = {**rivera, "Idempotency-Key": "sofia-three-houses-1"}
    first = await record(assessment, lopez_case, headers, SOFIAS_THREE_HOUSES)
    second = await record(assessment, lopez_case, headers, SOFIAS_THREE_HOUSES)
    assert first == second and (await counts())["records"] == 1


async def test_each_record_is_also_reachable_under_its_case_for_the_gateway(
    assessment: RunningService,
    rivera: dict[str, str],
    tokens: InternalTokens,
    lopez_case: uuid.UUID,
) -> None:
    created = await record(assessment, lopez_case, rivera, SOFIAS_THREE_HOUSES)
    nested = f"{child_voice_of(lopez_case)}/{created['id']}"
    assert (await assessment.client.get(nested, headers=rivera)).json() == created
    uploaded = await assessment.client.post(
        f"{nested}/attachments", headers={**rivera, "Content-Type": "image/png"}, content=PNG
    )
    assert uploaded.status_code == 201
    other_case = uuid.uuid4()
    wrong = await assessment.client.get(
        f"{child_voice_of(other_case)}/{created['id']}", headers=tokens.headers("assessment", case_id=other_case)
    )
    assert wrong.status_code == 404


# --- a Safety House rule and the plan rule it is linked to (issue 14: the plans' version events) ----------------


def test_the_newest_plan_version_says_which_rules_a_plan_removed_whatever_the_order_of_its_events() -> None:
    from sop_assessment.child_voice import rules

    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    v1 = rules.merge_plan_version(None, 1, [a, b])
    v2 = rules.merge_plan_version(v1, 2, [a, c])
    assert rules.removed_rules([v2]) == {b: 2}
    assert rules.merge_plan_version(v2, 2, [a, c]) == v2  # the same event again changes nothing
    late = rules.merge_plan_version(rules.merge_plan_version(None, 2, [a, c]), 1, [a, b])  # version 1 arrives last
    assert late == v2
    assert rules.removed_link_errors([(0, a), (1, b)], {b: 2}) == [
        {
            "field": "content.roof_rules.1.safety_plan_rule_id",
            "message": "this rule was removed from the safety plan in version 2",
        }
    ]


def plan_version_event(case_id: uuid.UUID, plan_id: uuid.UUID, number: int, rule_ids: list[uuid.UUID]) -> Event:
    return Event(
        id=new_id(),
        subject="sop.plans.safety_plan.created" if number == 1 else "sop.plans.safety_plan.version_created",
        occurred_at=utcnow(),
        case_id=case_id,
        data={
            "case_id": str(case_id),
            "plan_id": str(plan_id),
            "version_number": number,
            "rule_ids": [str(r) for r in rule_ids],
        },
    )


async def test_a_roof_rule_linked_to_a_plan_rule_a_later_version_removed_is_flagged_and_a_new_link_refused(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    plan_id, night_rule, call_rule, new_rule = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await assessment.bus.publish(plan_version_event(lopez_case, plan_id, 1, [night_rule, call_rule]))
    roof = [
        {"words": "Grandma comes when mommy drinks", "safety_plan_rule_id": str(night_rule)},
        {"words": "I can call Grandma on the red phone", "safety_plan_rule_id": str(call_rule)},
    ]
    body = {
        "kind": "safety_house",
        "child": {"name": "Mateo"},
        "consent": {"shared_with": ["family"]},
        "content": {"session_date": "2026-11-21", "roof_rules": roof},
    }
    house = await record(assessment, lopez_case, rivera, body)
    assert [link["in_plan"] for link in house["rule_links"]] == [True, True]

    # version 2 of the plan drops the phone rule (delivered twice: applied once)
    version_2 = plan_version_event(lopez_case, plan_id, 2, [night_rule, new_rule])
    await assessment.bus.publish(version_2)
    await assessment.bus.publish(version_2)
    shown = await assessment.client.get(f"/v1/child-voice/{house['id']}", headers=rivera)
    assert shown.status_code == 200, shown.text
    assert [(x["in_plan"], x["removed_in_version"]) for x in shown.json()["rule_links"]] == [(True, None), (False, 2)]

    # a new link to the removed rule is refused, naming the field, and nothing is written
    before = await counts()
    refused = await assessment.client.post(child_voice_of(lopez_case), headers=rivera, json=body)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["content.roof_rules.1.safety_plan_rule_id"]
    assert await counts() == before
    # a plan rule never announced in this case is refused as before (the case boundary)
    unknown = {
        **body,
        "content": {**body["content"], "roof_rules": [{"words": "x", "safety_plan_rule_id": str(uuid.uuid4())}]},
    }
    assert (await assessment.client.post(child_voice_of(lopez_case), headers=rivera, json=unknown)).status_code == 422
    # linked to the rule still in the plan (and the new one): accepted
    kept = {
        **body,
        "content": {**body["content"], "roof_rules": [roof[0], {"words": "new", "safety_plan_rule_id": str(new_rule)}]},
    }
    assert (await record(assessment, lopez_case, rivera, kept))["rule_links"][1]["in_plan"] is True


# --- sharing: the caregivers see a child's Three Houses only with the worker's judgement; Words and Pictures is
# the adults' explanation, seen by the caregivers who wrote or approved it --------------------------------------

MARIA = uuid.UUID("0190f0d2-0000-7000-8000-00000000a001")
JOSE = uuid.UUID("0190f0d2-0000-7000-8000-00000000a002")


def member(tokens: InternalTokens, case_id: uuid.UUID, person: uuid.UUID, actor: ActorType) -> dict[str, str]:
    """A family or network member's token: the person their login is bound to travels in it."""
    principal = tokens.principal(
        f"member.{person}", actor_type=actor, roles=(), scopes=["case:read", "case:participate"], case_id=case_id
    )
    return tokens.headers("assessment", replace(principal, person_id=person))


async def test_the_childs_consent_alone_does_not_share_her_houses_with_her_caregivers(
    assessment: RunningService,
    rivera: dict[str, str],
    maria: dict[str, str],
    lopez_case: uuid.UUID,
    counts: Counts,
) -> None:
    unjudged = {k: v for k, v in SOFIAS_THREE_HOUSES.items() if k != "sharing_judgement"}
    created = await record(assessment, lopez_case, rivera, unjudged)
    url = f"/v1/child-voice/{created['id']}"
    assert (await assessment.client.get(url, headers=maria)).json()["restricted"] is True
    assert created["sharing_judgement"] is None
    not_safe = {"safe": False, "reason": "Maria does not know about the worries yet; we talk with her first."}
    judged = await assessment.client.patch(
        url, headers={**rivera, "If-Match": '"1"'}, json={"sharing_judgement": not_safe}
    )
    assert judged.status_code == 200, judged.text
    assert judged.json()["sharing_judgement"]["judged_by"] == "fsw.rivera"
    assert (await assessment.client.get(url, headers=maria)).json()["restricted"] is True
    safe = {"safe": True, "reason": "We talked with Maria; hearing Sofia's worries is safe."}
    await assessment.client.patch(url, headers={**rivera, "If-Match": '"2"'}, json={"sharing_judgement": safe})
    seen = (await assessment.client.get(url, headers=maria)).json()
    assert seen["restricted"] is False and seen["sharing_judgement"] is None  # the worker's note is the agency's
    # new words are judged again: until then the caregivers do not see them
    content = {**SOFIAS_THREE_HOUSES["content"], "stopped_early": True, "stopped_reason": "Sofia was tired"}
    changed = await assessment.client.patch(url, headers={**rivera, "If-Match": '"3"'}, json={"content": content})
    assert changed.json()["sharing_judgement"] is None
    assert (await assessment.client.get(url, headers=maria)).json()["restricted"] is True
    # the network sees it with the child's consent alone (no judgement is asked for the network)
    await assessment.client.patch(
        url, headers={**rivera, "If-Match": '"4"'}, json={"consent": {"shared_with": ["network"]}}
    )
    assert (await assessment.client.get(url, headers=as_audience(rivera, "network"))).json()["restricted"] is False
    # a judgement on a record that is not a Three Houses is refused, naming the field, and nothing is written
    house = await record(
        assessment,
        lopez_case,
        rivera,
        {"kind": "safety_house", "child": {"name": "Sofia"}, "content": {"session_date": "2026-11-20"}},
    )
    before = await counts()
    refused = await assessment.client.patch(
        f"/v1/child-voice/{house['id']}", headers={**rivera, "If-Match": '"1"'}, json={"sharing_judgement": safe}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "sharing_judgement"
    assert await counts() == before


async def test_words_and_pictures_is_seen_by_the_caregivers_who_wrote_or_approved_it(
    assessment: RunningService,
    rivera: dict[str, str],
    tokens: InternalTokens,
    lopez_case: uuid.UUID,
) -> None:
    await assessment.bus.publish(  # the network service's word for who is in the case
        Event(
            id=new_id(),
            subject="sop.network.case.updated",
            occurred_at=utcnow(),
            case_id=lopez_case,
            data={"case_id": str(lopez_case), "person_ids": [str(MARIA), str(JOSE)]},
        )
    )
    created = await record(
        assessment,
        lopez_case,
        rivera,
        {
            "kind": "words_and_pictures",
            "child": {"name": "Sofia"},
            "language": "es",
            "content": {
                "pages": [{"text": "Mamá a veces toma mucho y se duerme."}],
                "written_by": [{"name": "Maria", "person_id": str(MARIA)}],
            },
        },
    )
    url = f"/v1/child-voice/{created['id']}"
    maria = member(tokens, lopez_case, MARIA, ActorType.family)
    jose = member(tokens, lopez_case, JOSE, ActorType.family)
    # no child's consent was asked: it is the adults' explanation, and Maria wrote it
    assert created["consent"]["shared_with"] == []
    assert (await assessment.client.get(url, headers=maria)).json()["restricted"] is False
    assert (await assessment.client.get(url, headers=jose)).json()["restricted"] is True
    listed = (await assessment.client.get(child_voice_of(lopez_case), headers=jose)).json()["items"]
    assert [i["restricted"] for i in listed] == [True]
    content = {
        **created["content"],
        "caregiver_reviews": [{"name": "José", "person_id": str(JOSE), "decision": "agreed"}],
    }
    await assessment.client.patch(url, headers={**rivera, "If-Match": '"1"'}, json={"content": content})
    assert (await assessment.client.get(url, headers=jose)).json()["restricted"] is False
    # the network sees it only when it is shared with them
    grandma = member(tokens, lopez_case, uuid.uuid4(), ActorType.network)
    assert (await assessment.client.get(url, headers=grandma)).json()["restricted"] is True
