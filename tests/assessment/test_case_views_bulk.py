"""A caseload page in one call, on SQLite and PostgreSQL: each case's summary in the order asked, only cases the
bulk-read token carries, and a number of queries that does not grow with the number of cases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from query_counting import counted_queries
from sqlalchemy import func, select

from sop_shared.ids import new_id
from sop_shared.testing import InternalTokens, RunningService

V = "illustrative-1"


def caseload(tokens: InternalTokens, case_ids: list[uuid.UUID], **kwargs: Any) -> dict[str, str]:
    """Headers of a bulk-read token for these cases, as the gateway mints it for Ms. Rivera's caseload page."""
    return tokens.headers("assessment", tokens.principal(**kwargs).scoped_to_cases(case_ids))


async def post(svc: RunningService, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await svc.client.post(path, headers=headers, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def a_danger_statement(
    svc: RunningService, tokens: InternalTokens, case_id: uuid.UUID, statement: dict[str, Any]
) -> None:
    await post(svc, f"/v1/cases/{case_id}/statements", tokens.headers("assessment", case_id=case_id), statement)


@pytest.mark.sqlite_smoke
async def test_the_caseload_page_summarises_each_case_in_the_order_asked(
    assessment: RunningService,
    tokens: InternalTokens,
    maria_danger_statement: dict[str, Any],
) -> None:
    lopez, other, empty = new_id(), new_id(), new_id()
    for _ in range(2):
        await a_danger_statement(assessment, tokens, lopez, maria_danger_statement)
    await a_danger_statement(assessment, tokens, other, maria_danger_statement)
    lopez_headers = tokens.headers("assessment", case_id=lopez)
    for rater, score in (("Maria Lopez", 4), ("Dana Rivera", 5)):
        await post(
            assessment,
            f"/v1/cases/{lopez}/scale-ratings",
            lopez_headers,
            {"occasion_on": "2026-11-16", "rater_name": rater, "rater_role": "worker", "score": score},
        )
    safety = {f"T{n}": False for n in range(1, 12)} | {"V1": False, "V2": False, "V3": False}
    draft = await post(
        assessment,
        f"/v1/cases/{lopez}/sdm-assessments",
        lopez_headers,
        {"instrument_key": "safety_assessment", "instrument_version": V, "answers": safety},
    )
    await post(assessment, f"/v1/sdm-assessments/{draft['id']}/complete", lopez_headers, {})

    order = [other, empty, lopez]
    response = await assessment.client.post(
        "/v1/case-views", headers=caseload(tokens, order), json={"case_ids": [str(c) for c in order]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [
        {
            "case_id": str(other),
            "active_danger_statements": 1,
            "latest_overall_rating": None,
            "safety_decision": None,
            "risk_level": None,
            "pending_approvals": 0,
        },
        {
            "case_id": str(empty),
            "active_danger_statements": 0,
            "latest_overall_rating": None,
            "safety_decision": None,
            "risk_level": None,
            "pending_approvals": 0,
        },
        {
            "case_id": str(lopez),
            "active_danger_statements": 2,
            "latest_overall_rating": {"score": 4.5, "occasion_on": "2026-11-16"},
            "safety_decision": "safe",
            "risk_level": None,
            "pending_approvals": 0,
        },
    ]
    async with assessment.app.state.database.session() as s:
        audit = assessment.app.state.audit.tables.audit
        reads = (
            await s.execute(
                select(audit.c.case_id, func.count()).where(audit.c.resource == "case_view").group_by(audit.c.case_id)
            )
        ).all()
    assert sorted(reads) == sorted((c, 1) for c in order)


async def test_case_ids_are_one_to_fifty_different_cases_all_on_the_token(
    assessment: RunningService,
    tokens: InternalTokens,
) -> None:
    many = [new_id() for _ in range(51)]
    for case_ids in (many, [], [many[0], many[0]]):
        response = await assessment.client.post(
            "/v1/case-views", headers=caseload(tokens, many[:50]), json={"case_ids": [str(c) for c in case_ids]}
        )
        assert response.status_code == 422, case_ids
        assert response.json()["errors"][0]["field"] == "case_ids"
    outside = await assessment.client.post(
        "/v1/case-views", headers=caseload(tokens, many[:2]), json={"case_ids": [str(many[0]), str(many[2])]}
    )
    assert outside.status_code == 404
    single = tokens.headers("assessment", case_id=many[0])  # a one-case token reaches its own case only
    assert (
        await assessment.client.post("/v1/case-views", headers=single, json={"case_ids": [str(many[0])]})
    ).status_code == 200
    assert (
        await assessment.client.post("/v1/case-views", headers=single, json={"case_ids": [str(many[1])]})
    ).status_code == 404


async def test_the_number_of_queries_does_not_grow_with_the_number_of_cases(
    assessment: RunningService,
    tokens: InternalTokens,
    maria_danger_statement: dict[str, Any],
) -> None:
    cases = [new_id() for _ in range(20)]
    for case_id in cases:
        await a_danger_statement(assessment, tokens, case_id, maria_danger_statement)

    async def queries(case_ids: list[uuid.UUID]) -> list[str]:
        with counted_queries(assessment) as seen:
            response = await assessment.client.post(
                "/v1/case-views", headers=caseload(tokens, case_ids), json={"case_ids": [str(c) for c in case_ids]}
            )
        assert response.status_code == 200, response.text
        assert [i["active_danger_statements"] for i in response.json()["items"]] == [1] * len(case_ids)
        # The outbox relay polls on its own; everything the request itself sends must stay constant.
        return [q for q in seen if "outbox" not in q]

    one, ten, twenty = await queries(cases[:1]), await queries(cases[:10]), await queries(cases)
    # 4 grouped reads, then the audit trail's batch append (one record per case): on PostgreSQL one statement
    # however many records (the service wrote the chain head last), on SQLite a transaction of three statements
    appends = 1 if assessment.app.state.database.dialect == "postgresql" else 3
    assert (len(one), len(ten), len(twenty)) == (4 + appends, 4 + appends, 4 + appends)
