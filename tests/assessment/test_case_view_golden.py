"""The case-view read answers exactly as it did: a populated fictional case read by each audience (staff,
Maria in Spanish, a network member, a partner) gives byte for byte the JSON recorded in `golden/` (ids,
cursors and times, which differ between runs, replaced by placeholders in order of appearance), on SQLite and
PostgreSQL; and the read runs a handful of SQL statements whatever the case holds.

To record the answers anew (only when a change of the answer is meant): `SOP_UPDATE_GOLDEN=1 pytest …`."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from query_counting import counted_queries
from sharing_steps import share
from sqlalchemy import select

from sop_shared.policy import ActorType, NetworkSharing
from sop_shared.testing import InternalTokens, RunningService
from sop_shared.wide_union import WideUnion

GOLDEN = Path(__file__).parent / "golden"
V = "illustrative-1"
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(rb'"\d{4}-\d{2}-\d{2}(T[0-9:.+\-Z]*)?"')
CURSOR = re.compile(rb'"((?:next|start|end)_cursor)":"[^"]*"')


def normalised(body: bytes) -> bytes:
    """The answer with what differs between runs replaced: each id by its order of first appearance, each
    date and time, each cursor."""
    ids: dict[bytes, bytes] = {}
    body = UUID.sub(lambda m: ids.setdefault(m.group(0), b"<id-%d>" % len(ids)), body)
    body = CURSOR.sub(rb'"\1":"<cursor>"', body)
    return TIME.sub(b'"<time>"', body)


async def created(svc: RunningService, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await svc.client.post(path, headers=headers, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def populate(
    svc: RunningService, case_id: uuid.UUID, rivera: dict[str, str], danger: dict[str, Any], harm: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The Lopez family's case as a year of work leaves it: statements of both kinds (shared, a draft, a Part 2
    one with a consent, one resolved), translations, goals, ratings by the family and the agency, a map, SDM
    assessments, the children's voices and a trauma history."""
    case = f"/v1/cases/{case_id}"
    made: dict[str, dict[str, Any]] = {}
    for name, body, shared in (
        ("harm", harm, True),
        ("harm2", {**harm, "when_or_how_often": "on 9 October 2026", "who_reported": "a neighbour"}, True),
        ("harm_draft", {**harm, "when_or_how_often": "most weekends"}, False),
        ("danger", danger, True),
        (
            "part2",
            {
                **danger,
                "caregiver_behaviour": "Maria stopped going to her treatment at the clinic",
                "sensitivity_labels": ["substance_use_part2"],
            },
            True,
        ),
        ("danger2", {**danger, "context_trigger": "when Rosa is away"}, True),
        ("danger_draft", {**danger, "context_trigger": "on Fridays"}, False),
    ):
        made[name] = await created(svc, f"{case}/statements", rivera, body)
        if shared:
            made[name] = await share(svc, case_id, rivera, "statements", made[name])
    resolved = await svc.client.patch(
        f"/v1/statements/{made['danger2']['id']}",
        headers={**rivera, "If-Match": f'"{made["danger2"]["version"]}"'},
        json={"status": "resolved"},
    )
    assert resolved.status_code == 200, resolved.text
    for statement, language, text, verified in (
        ("danger", "es", "Maria bebe hasta quedarse dormida cuando está sola con los niños por la noche.", True),
        ("danger", "mh", "Maria ej idaak.", False),
        ("harm", "es", "Maria dejó a Sofia y Mateo solos en casa toda la noche.", False),
    ):
        body: dict[str, Any] = {"language": language, "text": text, "translated_by": "Ana Cruz"}
        if verified:
            body |= {"verified": True, "verified_by": "Luis Ortega", "verifier_qualification": "qualified_interpreter"}
        await created(svc, f"/v1/statements/{made[statement]['id']}/translations", rivera, body)
    for name, statement in (("goal", "danger"), ("goal_part2", "part2")):
        goal = await created(
            svc,
            f"{case}/safety-goals",
            rivera,
            {
                "danger_statement_id": made[statement]["id"],
                "duration": "P3M",
                "owner": "family",
                "caregiver_will_be_doing": "Maria will call Rosa when she has been drinking",
            },
        )
        made[name] = await share(svc, case_id, rivera, "safety-goals", goal)
    for on, score, role, name, target in (
        ("2026-11-02", 3, "caregiver", "Maria Lopez", "danger"),
        ("2026-11-16", 6, "caregiver", "Maria Lopez", "danger"),
        ("2026-11-16", 5, "worker", "Dana Rivera", "danger"),
        ("2026-11-16", 4, "caregiver", "Maria Lopez", "part2"),
        ("2026-11-02", 4, "worker", "Dana Rivera", None),
        ("2026-11-16", 5, "worker", "Dana Rivera", None),
        ("2026-11-16", 7, "caregiver", "Maria Lopez", None),
    ):
        rating = {"occasion_on": on, "rater_name": name, "rater_role": role, "score": score}
        if target is not None:
            rating["statement_id"] = made[target]["id"]
        await created(svc, f"{case}/scale-ratings", rivera, rating)
    the_map = await created(
        svc,
        f"{case}/maps",
        rivera,
        {
            "context": "in_home",
            "title": "Lopez family",
            "strengths": [{"text": "Rosa lives close by"}],
            "complicating_factors": [{"text": "Maria drinks at night"}],
        },
    )
    made["map"] = await share(svc, case_id, rivera, "maps", the_map)
    safety = {f"T{n}": False for n in range(1, 12)} | {"V1": False, "V2": False, "V3": False}
    done = await created(
        svc,
        f"{case}/sdm-assessments",
        rivera,
        {"instrument_key": "safety_assessment", "instrument_version": V, "answers": safety},
    )
    await created(svc, f"/v1/sdm-assessments/{done['id']}/complete", rivera, {})
    risk = {**{f"N{n}": "a" for n in range(1, 10)}, **{f"A{n}": "a" for n in range(1, 9)}, "threats_remain": False}
    draft = await created(
        svc,
        f"{case}/sdm-assessments",
        rivera,
        {"instrument_key": "risk_assessment", "instrument_version": V, "answers": risk},
    )
    await created(svc, f"/v1/sdm-assessments/{draft['id']}/complete", rivera, {})
    for child, shared_with in (("Sofia", ["family"]), ("Mateo", [])):
        record = await created(
            svc,
            f"{case}/child-voice",
            rivera,
            {
                "kind": "three_houses",
                "child": {"name": child},
                "language": "en",
                "consent": {"shared_with": shared_with, "note": f"{child} said who can see it."},
                "content": {
                    "session_date": "2026-11-20",
                    "parent_consent": "not_needed",
                    "houses": [
                        {"house": "worries", "entries": [{"words": "when mommy sleeps on the couch"}]},
                        {"house": "good_things", "entries": [{"words": "Grandma Rosa makes pancakes"}]},
                        {"house": "dreams", "entries": [{"words": "we watch movies"}]},
                    ],
                },
            },
        )
        if shared_with:
            judged = await svc.client.patch(
                f"/v1/child-voice/{record['id']}",
                headers={**rivera, "If-Match": '"1"'},
                json={
                    "sharing_judgement": {"safe": True, "reason": "Maria knows these worries and wants to hear them."}
                },
            )
            assert judged.status_code == 200, judged.text
    await created(
        svc,
        f"{case}/trauma-histories",
        rivera,
        {
            "person": {"name": "Sofia"},
            "person_role": "child",
            "history": "Sofia found her mother asleep and could not wake her, twice, at night.",
            "triggers": [
                {"trigger": "Being alone in the house at night", "what_helps": "Knowing Grandma Rosa is on her way"},
                {"trigger": "A door that will not open"},
            ],
            "consented_audiences": ["staff", "supervisor"],
            "consent_note": "Maria agreed for Sofia that her worker and supervisor may read this.",
        },
    )
    return made


def readers(tokens: InternalTokens, case_id: uuid.UUID, opened: uuid.UUID) -> dict[str, tuple[dict[str, str], str]]:
    """Each audience's headers and language: the worker; Maria in Spanish; Rosa of the safety network, to whom
    the family opened one harm statement; a partner agency's worker."""
    sharing = NetworkSharing(statement_ids=frozenset({opened}))
    return {
        "staff": (tokens.headers("assessment", case_id=case_id), "en"),
        "family_es": (
            tokens.headers(
                "assessment",
                subject="family.maria",
                actor_type=ActorType.family,
                roles=(),
                scopes=["case:read"],
                case_id=case_id,
            ),
            "es",
        ),
        "network": (
            tokens.headers(
                "assessment",
                tokens.principal(
                    subject="network.rosa", actor_type=ActorType.network, roles=(), scopes=["case:read"]
                ).scoped_to(case_id, network_sharing=sharing),
            ),
            "en",
        ),
        "partner": (
            tokens.headers(
                "assessment",
                subject="partner.chen",
                actor_type=ActorType.partner,
                roles=(),
                scopes=["case:read"],
                case_id=case_id,
            ),
            "en",
        ),
    }


async def answers(svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], language: str) -> bytes:
    """The full view, a view of one item per list, and the windows after it, one answer a line."""
    case = f"/v1/cases/{case_id}"
    lines = []

    async def read(path: str, params: dict[str, Any]) -> dict[str, Any]:
        response = await svc.client.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text
        lines.append(normalised(response.content))
        return response.json()  # type: ignore[no-any-return]

    await read(f"{case}/case-view", {"language": language})
    first = await read(
        f"{case}/case-view", {"language": language, "harm_first": 1, "danger_first": 1, "scale_first": 1}
    )
    for kind in ("harm", "danger"):
        cursor = first["statements"][f"{kind}_paging"]["next_cursor"]
        if cursor is not None:
            await read(f"{case}/case-view/statements", {"kind": kind, "language": language, "cursor": cursor})
    cursor = first["safety_scale"]["trajectory_paging"]["next_cursor"]
    if cursor is not None:
        page = await read(f"{case}/case-view/safety-scale", {"cursor": cursor, "limit": 1})
        if page["next_cursor"] is not None:
            await read(f"{case}/case-view/safety-scale", {"cursor": page["next_cursor"], "limit": 5})
    return b"\n".join(lines) + b"\n"


async def audited(svc: RunningService) -> list[bytes]:
    """The sensitive fields each read's audit record names, in the order read."""
    async with svc.app.state.database.session() as s:
        audit = svc.app.state.audit.tables.audit
        rows = (
            await s.execute(select(audit.c.fields).where(audit.c.resource == "case_view").order_by(audit.c.id))
        ).all()
    return [b"audit: %s\n" % json.dumps(row.fields).encode() for row in rows]


@pytest.mark.sqlite_smoke
async def test_each_audience_reads_the_case_view_exactly_as_recorded(
    assessment: RunningService,
    tokens: InternalTokens,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    made = await populate(assessment, lopez_case, rivera, maria_danger_statement, maria_harm_statement)
    for audience, (headers, language) in readers(tokens, lopez_case, uuid.UUID(made["harm"]["id"])).items():
        before = len(await audited(assessment))
        got = await answers(assessment, lopez_case, headers, language)
        got += b"".join((await audited(assessment))[before:])
        golden = GOLDEN / f"case_view_{audience}.jsonl"
        if os.environ.get("SOP_UPDATE_GOLDEN"):
            golden.write_bytes(got)
        assert got == golden.read_bytes(), audience


async def every_answer(
    assessment: RunningService, case_id: uuid.UUID, audiences: dict[str, tuple[dict[str, str], str]]
) -> dict[str, bytes]:
    """Each audience's case view of `case_id`, as the raw bytes the service answered."""
    got = {}
    for audience, (headers, language) in audiences.items():
        response = await assessment.client.get(
            f"/v1/cases/{case_id}/case-view", headers=headers, params={"language": language}
        )
        assert response.status_code == 200, response.text
        got[audience] = response.content
    return got


async def test_a_read_leaves_the_next_one_byte_for_byte_the_same(
    assessment: RunningService,
    tokens: InternalTokens,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    """The plain-language checks a case view shows are kept per process and shared by every read
    (`shown_statement_check`, `shown_item_check`): no audience's read may change what the next one shows. Each
    audience's answer, ids, times and cursors included, is the same after every other audience has read."""
    made = await populate(assessment, lopez_case, rivera, maria_danger_statement, maria_harm_statement)
    audiences = readers(tokens, lopez_case, uuid.UUID(made["harm"]["id"]))

    first = await every_answer(assessment, lopez_case, audiences)
    assert b'"plain_language":{' in first["staff"] and b'"findings":[{' in first["staff"]
    assert await every_answer(assessment, lopez_case, audiences) == first


async def test_the_view_keeps_its_order_whatever_order_the_database_returns_the_rows_in(
    assessment: RunningService,
    tokens: InternalTokens,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case view's statement has no ORDER BY (a union): each family's order is its SQL numbering or, for the
    families ordered by id alone (`BY_ID`), a sort by id in Python. A database may hand the rows back in any order,
    so every audience's answer is the same bytes when each family's rows come back reversed; the families are
    checked to hold more than one row, so the reversal changes what is read."""
    made = await populate(assessment, lopez_case, rivera, maria_danger_statement, maria_harm_statement)
    audiences = readers(tokens, lopez_case, uuid.UUID(made["harm"]["id"]))

    as_read = await every_answer(assessment, lopez_case, audiences)
    several: set[str] = set()
    read = WideUnion.read

    async def reversed_rows(self: WideUnion, session: Any, params: Any) -> dict[str, list[dict[str, Any]]]:
        found = await read(self, session, params)
        several.update(name for name, rows in found.items() if len(rows) > 1)
        return {name: rows[::-1] for name, rows in found.items()}

    monkeypatch.setattr(WideUnion, "read", reversed_rows)
    assert await every_answer(assessment, lopez_case, audiences) == as_read
    assert {"statement", "rating", "goal", "translation"} <= several, several


@pytest.mark.sqlite_smoke
async def test_the_case_view_reads_the_case_in_one_statement_whatever_it_holds(
    assessment: RunningService,
    tokens: InternalTokens,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    made = await populate(assessment, lopez_case, rivera, maria_danger_statement, maria_harm_statement)
    counts = {}
    for audience, (headers, language) in readers(tokens, lopez_case, uuid.UUID(made["harm"]["id"])).items():
        with counted_queries(assessment) as seen:
            response = await assessment.client.get(
                f"/v1/cases/{lopez_case}/case-view", headers=headers, params={"language": language}
            )
        assert response.status_code == 200, response.text
        # The outbox relay polls on its own; the audit trail's append is statements of its own (on PostgreSQL one,
        # in a transaction of its own, the service having written the chain head last; three on SQLite).
        audit = [q for q in seen if "audit" in q]
        assert len(audit) == (1 if assessment.app.state.database.dialect == "postgresql" else 3), audit
        counts[audience] = len([q for q in seen if "outbox" not in q and "audit" not in q])
    # One statement reads every family of the case's records (it was 18 to 24, a statement per family and
    # window, and three per child's-voice record shown whole).
    assert counts == {"staff": 1, "family_es": 1, "network": 1, "partner": 1}
