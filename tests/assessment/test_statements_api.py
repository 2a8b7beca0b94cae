"""Harm and danger statements over HTTP, on SQLite and PostgreSQL: writing them with the family, reading
them back page by page, and the plain-language check each one carries."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from sop_assessment.models import platform
from sop_shared.events import Event
from sop_shared.ids import is_uuid7
from sop_shared.testing import InternalTokens, RunningService
from sop_shared.threat_codes import INSTRUMENTS_PUBLISHED

Stored = Callable[[], Awaitable[dict[str, int]]]

STATEMENT_FIELDS = {
    "id",
    "case_id",
    "kind",
    "status",
    "language",
    "composed_text",
    "text_source",
    "who_is_worried",
    "caregiver_behaviour",
    "context_trigger",
    "feared_impact_on_child",
    "who_reported",
    "caregivers",
    "action_or_inaction",
    "when_or_how_often",
    "impact_on_child",
    "children",
    "threat_codes",
    "agrees",
    "disputes",
    "created_by",
    "version",
    "created_at",
    "updated_at",
    "plain_language",
    "sensitivity_labels",
    "consented_audiences",
    "redacted",
    "sharing",  # draft until the worker marks it ready to share
    "shared_at",
    "shared_by",
    "share_reason",
}


def statements_of(case_id: uuid.UUID) -> str:
    return f"/v1/cases/{case_id}/statements"


def codes(body: dict[str, Any]) -> list[str]:
    return [f["code"] for f in body["plain_language"]["findings"]]


@pytest.mark.sqlite_smoke
async def test_the_worker_writes_a_danger_statement_and_the_server_composes_the_sentence(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    response = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == STATEMENT_FIELDS
    assert is_uuid7(uuid.UUID(body["id"]))
    assert response.headers["Location"] == f"/v1/statements/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["composed_text"] == (
        "Grandma Rosa and the agency are worried that Maria drinks until she falls asleep when she is alone "
        "with the children at night. If nothing changes, Sofia and Mateo could be hurt with no adult awake "
        "to help them."
    )
    assert (body["kind"], body["status"], body["text_source"], body["version"]) == ("danger", "active", "composed", 1)
    assert body["case_id"] == str(lopez_case) and body["created_by"] == "fsw.rivera"
    assert body["children"] == [{"name": "Sofia", "person_id": None}, {"name": "Mateo", "person_id": None}]
    assert body["threat_codes"] == ["T4", "T7"]
    assert (body["agrees"], body["disputes"]) == (["Grandma Rosa"], ["Maria Lopez"])
    check = body["plain_language"]
    assert check["language"] == "en" and isinstance(check["reading_grade"], float)
    assert not {"missing_part", "jargon"} & set(codes(body))


async def test_a_harm_statement_says_what_happened_to_whom_and_how_it_is_known(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_harm_statement: dict[str, Any],
) -> None:
    response = await assessment.client.post(statements_of(lopez_case), json=maria_harm_statement, headers=rivera)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["composed_text"] == (
        "Sofia's teacher reported that Maria left Sofia and Mateo alone at home overnight on 2 October 2026. "
        "Sofia and Mateo were scared and went to bed without dinner."
    )
    assert body["caregivers"] == [{"name": "Maria", "person_id": None}]
    assert "missing_part" not in codes(body)


async def test_jargon_in_the_workers_own_words_is_flagged_where_it_stands_but_still_saved(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    text = "CPS is worried about DV and substance abuse when Maria is alone with Sofia and Mateo."
    maria_danger_statement["text"] = text
    response = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["composed_text"] == text and body["text_source"] == "worker"
    jargon = [f for f in body["plain_language"]["findings"] if f["code"] == "jargon"]
    assert [(f["term"], f["start"], f["end"]) for f in jargon] == [
        ("CPS", 0, 3),
        ("DV", text.index("DV"), text.index("DV") + 2),
        ("substance abuse", text.index("substance"), text.index("substance") + len("substance abuse")),
    ]
    assert all(text[f["start"] : f["end"]] == f["term"] and f["suggestion"] for f in jargon)
    again = (await assessment.client.get(f"/v1/statements/{body['id']}", headers=rivera)).json()
    assert again["plain_language"] == body["plain_language"]


async def test_a_danger_statement_without_the_impact_on_the_children_is_saved_with_a_warning_naming_it(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    del maria_danger_statement["feared_impact_on_child"]
    maria_danger_statement["who_is_worried"] = "   "
    response = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    assert response.status_code == 201, response.text
    body = response.json()
    missing = [f["part"] for f in body["plain_language"]["findings"] if f["code"] == "missing_part"]
    assert missing == ["who_is_worried", "feared_impact_on_child"]
    assert body["who_is_worried"] is None
    assert body["composed_text"] == (
        "The worry is that Maria drinks until she falls asleep when she is alone with the children at night."
    )


async def test_a_spanish_danger_statement_is_composed_in_spanish_and_checked_with_the_spanish_word_list(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
) -> None:
    response = await assessment.client.post(
        statements_of(lopez_case),
        headers=rivera,
        json={
            "kind": "danger",
            "language": "es",
            "who_is_worried": "La abuela Rosa y la agencia",
            "caregiver_behaviour": "María toma alcohol hasta quedarse dormida y hay negligencia",
            "context_trigger": "cuando está sola con los niños de noche",
            "children": [{"name": "Sofía"}, {"name": "Isabel"}],
            "feared_impact_on_child": "podrían lastimarse sin un adulto despierto que las ayude",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    text = body["composed_text"]
    assert text == (
        "La abuela Rosa y la agencia se preocupan porque María toma alcohol hasta quedarse dormida y "
        "hay negligencia cuando está sola con los niños de noche. Si nada cambia, Sofía e Isabel "
        "podrían lastimarse sin un adulto despierto que las ayude."
    )
    jargon = [f for f in body["plain_language"]["findings"] if f["code"] == "jargon"]
    assert [(f["term"], f["start"]) for f in jargon] == [("negligencia", text.index("negligencia"))]
    assert body["plain_language"]["reading_grade"] is None


async def test_a_marshallese_statement_keeps_the_workers_words_and_says_no_word_list_checked_them(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    maria_danger_statement["language"] = "mh"
    refused = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["text"]
    maria_danger_statement["text"] = "Rosa im agency ej inebata kōn Maria."  # written with the interpreter
    response = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    assert response.status_code == 201, response.text
    findings = response.json()["plain_language"]["findings"]
    glossary = [f for f in findings if f["code"] == "glossary_missing"]
    assert len(glossary) == 1 and glossary[0]["severity"] == "info"
    assert "jargon" not in {f["code"] for f in findings}


async def test_the_workers_reads_one_statement_by_its_id(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    created = (
        await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    ).json()
    response = await assessment.client.get(f"/v1/statements/{created['id']}", headers=rivera)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.json() == created


@pytest.mark.sqlite_smoke
async def test_a_case_with_many_statements_comes_back_page_by_page_without_repeats(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    created = []
    for i in range(5):
        payload = maria_danger_statement if i % 2 else maria_harm_statement
        created.append(
            (await assessment.client.post(statements_of(lopez_case), json=payload, headers=rivera)).json()["id"]
        )
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await assessment.client.get(statements_of(lopez_case), params=params, headers=rivera)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        assert all("plain_language" in item for item in body["items"])
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == created  # oldest first, each once


@pytest.mark.sqlite_smoke
async def test_the_kind_and_status_filters_narrow_the_list(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    for payload in (maria_danger_statement, maria_harm_statement, maria_danger_statement):
        assert (
            await assessment.client.post(statements_of(lopez_case), json=payload, headers=rivera)
        ).status_code == 201

    async def kinds(**params: str) -> list[str]:
        response = await assessment.client.get(statements_of(lopez_case), params=params, headers=rivera)
        assert response.status_code == 200, response.text
        return [item["kind"] for item in response.json()["items"]]

    assert await kinds(kind="danger") == ["danger", "danger"]
    assert await kinds(kind="harm") == ["harm"]
    assert await kinds(status="active") == ["danger", "harm", "danger"]
    assert await kinds(kind="danger", status="resolved") == []


async def test_statements_of_another_case_never_appear_in_this_cases_list(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
    maria_danger_statement: dict[str, Any],
) -> None:
    other_case = uuid.uuid4()
    other = tokens.headers("assessment", subject="fsw.lindqvist", case_id=other_case)
    await assessment.client.post(statements_of(other_case), json=maria_danger_statement, headers=other)
    response = await assessment.client.get(statements_of(lopez_case), headers=rivera)
    assert response.json() == {"items": [], "next_cursor": None}


async def test_an_unknown_or_misspelt_filter_is_400_and_never_ignored(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    created = (
        await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    ).json()
    for path, params in (
        (statements_of(lopez_case), {"kinds": "danger"}),
        (statements_of(lopez_case), {"kind": "danger", "case_id": "x"}),
        (f"/v1/statements/{created['id']}", {"include": "all"}),
    ):
        response = await assessment.client.get(path, params=params, headers=rivera)
        assert response.status_code == 400, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("/bad-query")
    bad_value = await assessment.client.get(statements_of(lopez_case), params={"kind": "past"}, headers=rivera)
    assert bad_value.status_code == 422 and [e["field"] for e in bad_value.json()["errors"]] == ["kind"]
    post = await assessment.client.post(
        statements_of(lopez_case), params={"dry_run": "1"}, json=maria_danger_statement, headers=rivera
    )
    assert post.status_code == 400


@pytest.mark.sqlite_smoke
async def test_repeating_a_create_with_the_same_idempotency_key_returns_the_first_statement(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    stored: Stored,
) -> None:
    headers = {**rivera, "Idempotency-Key": "tablet-7f3a-statement-1"}
    first = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=headers)
    again = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert await stored() == {"statements": 1, "events": 1}


async def test_the_same_idempotency_key_with_another_statement_is_422_and_writes_nothing(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
    stored: Stored,
) -> None:
    headers = {**rivera, "Idempotency-Key": "tablet-7f3a-statement-1"}
    await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=headers)
    response = await assessment.client.post(statements_of(lopez_case), json=maria_harm_statement, headers=headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["Idempotency-Key"]
    assert await stored() == {"statements": 1, "events": 1}


@pytest.mark.sqlite_smoke
async def test_two_workers_using_the_same_idempotency_key_each_get_their_own_statement(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
    maria_danger_statement: dict[str, Any],
    stored: Stored,
) -> None:
    supervisor = tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",), case_id=lopez_case)
    key = {"Idempotency-Key": "statement-1"}
    mine = await assessment.client.post(
        statements_of(lopez_case), json=maria_danger_statement, headers={**rivera, **key}
    )
    theirs = await assessment.client.post(
        statements_of(lopez_case), json=maria_danger_statement, headers={**supervisor, **key}
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["created_by"] == "sup.okafor"
    assert (await stored())["statements"] == 2


async def test_bad_input_is_422_naming_each_field_and_nothing_is_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    stored: Stored,
) -> None:
    maria_danger_statement.update(
        kind="worry",
        who_is_worried=5,
        children="Sofia",
        worry_level="high",
        language="english!",
        text="x" * 2001,
        threat_codes=["S 4"],
    )
    response = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"kind", "who_is_worried", "children", "worry_level", "language", "text", "threat_codes.0"} <= fields
    assert await stored() == {"statements": 0, "events": 0}


async def test_a_statement_without_a_kind_is_422(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    stored: Stored,
) -> None:
    for kind in ("", None):
        payload = {**maria_danger_statement, "kind": kind}
        response = await assessment.client.post(statements_of(lopez_case), json=payload, headers=rivera)
        assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["kind"]
    del maria_danger_statement["kind"]
    response = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["kind"]
    assert await stored() == {"statements": 0, "events": 0}


async def test_mixed_up_statements_are_422_naming_the_field_and_nothing_is_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_harm_statement: dict[str, Any],
    stored: Stored,
) -> None:
    maria_harm_statement.update(
        who_is_worried="the agency",
        agrees=["Grandma Rosa"],
        disputes=["Maria", "grandma rosa"],
        threat_codes=["T4", "T4"],
    )
    response = await assessment.client.post(statements_of(lopez_case), json=maria_harm_statement, headers=rivera)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["who_is_worried", "disputes.1", "threat_codes.1"]
    empty = await assessment.client.post(
        statements_of(lopez_case), json={"kind": "danger", "children": [{"name": "Sofia"}]}, headers=rivera
    )
    assert empty.status_code == 422 and [e["field"] for e in empty.json()["errors"]] == ["text"]
    assert await stored() == {"statements": 0, "events": 0}


@pytest.mark.sqlite_smoke
async def test_each_new_statement_announces_itself_once_with_ids_but_not_its_words(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    received: list[Event] = []
    arrived = asyncio.Event()

    async def collect(event: Event) -> None:
        received.append(event)
        arrived.set()

    await assessment.bus.subscribe("sop.assessment.statement.*", "test-collector", collect)
    created = (
        await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    ).json()
    await asyncio.wait_for(arrived.wait(), timeout=5)
    [event] = received
    assert event.subject == "sop.assessment.statement.created" and event.case_id == lopez_case
    assert event.data == {
        "statement_id": created["id"],
        "case_id": str(lopez_case),
        "kind": "danger",
        "status": "active",
        "version": 1,
        "threat_codes": ["T4", "T7"],
    }
    async with assessment.app.state.database.session() as s:
        rows = (
            await s.execute(select(platform.outbox).where(platform.outbox.c.subject != INSTRUMENTS_PUBLISHED))
        ).all()
    # The event on the bus is the one written with the statement (marking it published is the relay's job,
    # committed just after the bus accepts it, so it is not asserted here).
    assert [row.id for row in rows] == [event.id]


@pytest.mark.sqlite_smoke
async def test_writes_and_reads_of_statements_are_audited_on_an_intact_chain(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    created = (
        await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    ).json()
    await assessment.client.get(f"/v1/statements/{created['id']}", headers=rivera)
    await assessment.client.get(statements_of(lopez_case), headers=rivera)
    async with assessment.app.state.database.session() as s:
        verdict = await assessment.app.state.audit.verify(s)
        rows = (await s.execute(select(platform.audit).order_by(platform.audit.c.seq))).all()
    assert verdict.intact
    assert [(r.action, r.resource, r.resource_id, r.actor_subject, r.case_id) for r in rows] == [
        ("create", "statement", created["id"], "fsw.rivera", lopez_case),
        ("read", "statement", created["id"], "fsw.rivera", lopez_case),
        ("read", "statement", None, "fsw.rivera", lopez_case),
    ]


def _if_match(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


async def test_a_correction_is_a_new_version_with_its_reason_and_the_earlier_words_are_kept(
    assessment: RunningService, rivera: dict[str, str], lopez_case: uuid.UUID, maria_danger_statement: dict[str, Any]
) -> None:
    """A correction is a new version with its reason; the earlier words are kept and read back; the statement is
    a draft again and the translations of the earlier version are stale."""
    made = await assessment.client.post(statements_of(lopez_case), headers=rivera, json=maria_danger_statement)
    assert made.status_code == 201, made.text
    statement: dict[str, Any] = made.json()
    url = f"/v1/cases/{lopez_case}/statements/{statement['id']}"
    shared = await assessment.client.post(
        f"{url}/share", headers=_if_match(rivera, 1), json={"reason": "Read with Maria and Rosa"}
    )
    assert shared.status_code == 200 and shared.json()["sharing"] == "shared", shared.text
    translated = await assessment.client.post(
        f"{url}/translations",
        headers=rivera,
        json={"language": "es", "text": "Rosa está preocupada porque María toma.", "translated_by": "Ana Ruiz"},
    )
    assert translated.status_code == 201, translated.text

    correction = {"context_trigger": "when she is alone with Sofia and Mateo at night"}
    no_reason = await assessment.client.patch(url, headers=_if_match(rivera, 1), json=correction)
    assert no_reason.status_code == 422 and [e["field"] for e in no_reason.json()["errors"]] == ["change_reason"]
    wrong_kind = await assessment.client.patch(
        url, headers=_if_match(rivera, 1), json={"who_reported": "The school", "change_reason": "typo"}
    )
    assert wrong_kind.status_code == 422 and [e["field"] for e in wrong_kind.json()["errors"]] == ["who_reported"]
    reason_alone = await assessment.client.patch(url, headers=_if_match(rivera, 1), json={"change_reason": "typo"})
    assert reason_alone.status_code == 422 and [e["field"] for e in reason_alone.json()["errors"]] == ["change_reason"]
    unchanged = (await assessment.client.get(url, headers=rivera)).json()
    assert (unchanged["version"], unchanged["sharing"]) == (1, "shared")

    reason = "Grandma Rosa asked that Sofia and Mateo be named"
    corrected = await assessment.client.patch(
        url, headers=_if_match(rivera, 1), json={**correction, "change_reason": reason}
    )
    assert corrected.status_code == 200, corrected.text
    body = corrected.json()
    assert corrected.headers["ETag"] == '"2"' and body["version"] == 2
    assert body["composed_text"] == (
        "Grandma Rosa and the agency are worried that Maria drinks until she falls asleep when she is alone with "
        "Sofia and Mateo at night. If nothing changes, Sofia and Mateo could be hurt with no adult awake to help them."
    )
    assert (body["sharing"], body["shared_at"]) == ("draft", None), "new words are a draft again"
    family = {**rivera, "X-SOP-Audience": "family"}
    assert (await assessment.client.get(url, headers=family)).status_code == 404

    revisions = await assessment.client.get(f"{url}/revisions", headers=rivera)
    assert revisions.status_code == 200, revisions.text
    [earlier] = revisions.json()["items"]
    assert (earlier["from_version"], earlier["to_version"], earlier["change_reason"], earlier["corrected_by"]) == (
        1,
        2,
        reason,
        "fsw.rivera",
    )
    assert earlier["composed_text"] == statement["composed_text"]
    assert earlier["context_trigger"] == maria_danger_statement["context_trigger"]
    assert (await assessment.client.get(f"{url}/revisions", headers=family)).status_code == 404

    [translation] = (await assessment.client.get(f"{url}/translations", headers=rivera)).json()["items"]
    assert (translation["statement_version"], translation["current"]) == (1, False)

    # a second correction keeps both earlier wordings; the worker's own text stays the worker's
    own = await assessment.client.patch(
        url,
        headers=_if_match(rivera, 2),
        json={"text": "Rosa worries that Maria drinks at night when Sofia is home.", "change_reason": "Rosa's words"},
    )
    assert own.status_code == 200 and own.json()["text_source"] == "worker", own.text
    items = (await assessment.client.get(f"{url}/revisions", headers=rivera)).json()["items"]
    assert [(i["from_version"], i["composed_text"]) for i in items] == [
        (1, statement["composed_text"]),
        (2, body["composed_text"]),
    ]
