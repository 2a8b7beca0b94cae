"""The SACWIS case upsert and the case read, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_network.models import Case, CaseMember, Person, platform
from sop_shared.db import Database
from sop_shared.ids import is_uuid7
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0001"


FACTS = "sop.network.case.reporting_facts"


async def _counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.session() as s:
            return {
                "cases": (await s.execute(select(func.count()).select_from(Case))).scalar_one(),
                "persons": (await s.execute(select(func.count()).select_from(Person))).scalar_one(),
                "members": (await s.execute(select(func.count()).select_from(CaseMember))).scalar_one(),
                # the case's own events; each goes with its reporting facts (counted apart)
                "events": (
                    await s.execute(
                        select(func.count()).select_from(platform.outbox).where(platform.outbox.c.subject != FACTS)
                    )
                ).scalar_one(),
                "reporting_facts": (
                    await s.execute(
                        select(func.count()).select_from(platform.outbox).where(platform.outbox.c.subject == FACTS)
                    )
                ).scalar_one(),
            }
    finally:
        await db.dispose()


@pytest.mark.sqlite_smoke
async def test_sacwis_upsert_creates_the_case_with_its_children_and_caregivers(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    response = await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    assert response.status_code == 201, response.text
    body = response.json()
    assert is_uuid7(uuid.UUID(body["id"]))
    assert response.headers["ETag"] == '"1"'
    roles = sorted((m["role"], m["person"]["first_name"]) for m in body["members"])
    assert roles == [("caregiver", "Maria"), ("child", "Mateo"), ("child", "Sofia")]
    assert {a["staff_subject"] for a in body["assignments"]} == {"fsw.rivera", "sup.okafor"}


@pytest.mark.sqlite_smoke
async def test_replaying_the_same_sacwis_case_three_times_leaves_one_copy_and_one_event(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    statuses = [
        (await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).status_code for _ in range(3)
    ]
    assert statuses == [201, 200, 200]
    assert await _counts(network.database_url) == {
        "cases": 1,
        "persons": 3,
        "members": 3,
        "events": 1,
        "reporting_facts": 1,
    }


async def test_a_changed_sacwis_case_bumps_the_version_and_emits_an_update(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    maria_and_the_children["county"] = "Saline"
    maria_and_the_children["members"].pop()  # Mateo leaves the case in SACWIS
    response = await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2 and body["county"] == "Saline"
    mateo = next(m for m in body["members"] if m["person"]["first_name"] == "Mateo")
    assert mateo["active"] is False  # the record that he was in the case stays
    counted = await _counts(network.database_url)
    assert counted["events"] == counted["reporting_facts"] == 2


async def test_a_stale_if_match_on_the_upsert_is_refused(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    maria_and_the_children["county"] = "Saline"
    response = await network.client.put(UPSERT, json=maria_and_the_children, headers={**sacwis, "If-Match": '"7"'})
    assert response.status_code == 412
    assert response.json()["current_version"] == 1


async def test_bad_input_is_422_naming_each_field_and_nothing_is_written(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    maria_and_the_children["case_type"] = "vacation"
    maria_and_the_children["members"][1]["person"]["date_of_birth"] = "2999-01-01"
    response = await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"case_type", "members.1.person.date_of_birth"} <= fields
    assert set((await _counts(network.database_url)).values()) == {0}


async def test_cross_field_rules_are_422_with_nothing_written(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    maria_and_the_children.update(status="closed", opened_on="2026-10-02", closed_on="2026-09-01")
    response = await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["closed_on"]
    assert (await _counts(network.database_url))["cases"] == 0


@pytest.mark.sqlite_smoke
async def test_the_assigned_worker_reads_the_case_and_the_read_is_audited(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    case_id = uuid.UUID((await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"])
    response = await network.client.get(f"/v1/cases/{case_id}", headers=tokens.headers("network", case_id=case_id))
    assert response.status_code == 200
    assert len(response.json()["members"]) == 3
    async with network.app.state.database.session() as s:
        verdict = await network.app.state.audit.verify(s)
        reads = (
            await s.execute(
                select(platform.audit).where(
                    platform.audit.c.action == "read", platform.audit.c.actor_subject == "fsw.rivera"
                )
            )
        ).all()
    assert verdict.intact and len(reads) == 1


async def test_a_worker_not_on_the_case_cannot_tell_it_exists(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    case_id = uuid.UUID((await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"])
    other = tokens.headers("network", subject="fsw.lindqvist", case_id=case_id)
    existing = await network.client.get(f"/v1/cases/{case_id}", headers=other)
    missing_id = uuid.uuid4()
    missing = await network.client.get(
        f"/v1/cases/{missing_id}", headers=tokens.headers("network", subject="fsw.lindqvist", case_id=missing_id)
    )
    assert existing.status_code == missing.status_code == 404
    assert existing.json()["title"] == missing.json()["title"]
    assert existing.json()["detail"] == missing.json()["detail"]


async def test_access_decision_names_the_relationship(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    case_id = uuid.UUID((await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"])
    worker = (
        await network.client.get(f"/v1/cases/{case_id}/access", headers=tokens.headers("network", case_id=case_id))
    ).json()
    supervisor = (
        await network.client.get(
            f"/v1/cases/{case_id}/access",
            headers=tokens.headers("network", subject="sup.okafor", roles=("supervisor",), case_id=case_id),
        )
    ).json()
    stranger = (
        await network.client.get(
            f"/v1/cases/{case_id}/access", headers=tokens.headers("network", subject="fsw.lindqvist", case_id=case_id)
        )
    ).json()
    partner = (
        await network.client.get(
            f"/v1/cases/{case_id}/access",
            headers=tokens.headers(
                "network",
                subject="casa.1",
                actor_type=ActorType.partner,
                roles=(),
                scopes=("case:read",),
                agency="CASA",
                case_id=case_id,
            ),
        )
    ).json()
    assert worker["allowed"] and worker["relationships"] == ["assigned_worker"]
    assert supervisor["allowed"] and supervisor["relationships"] == ["assigned_supervisor"]
    assert "approvals:decide" in supervisor["scopes"]
    assert not stranger["allowed"] and stranger["scopes"] == []
    assert not partner["allowed"]


async def test_the_case_view_slice_gives_access_and_case_in_one_call_and_nothing_when_denied(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    case_id = uuid.UUID((await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"])
    allowed = (
        await network.client.get(f"/v1/cases/{case_id}/view", headers=tokens.headers("network", case_id=case_id))
    ).json()
    denied = (
        await network.client.get(
            f"/v1/cases/{case_id}/view", headers=tokens.headers("network", subject="fsw.lindqvist", case_id=case_id)
        )
    ).json()
    assert allowed["access"]["allowed"] and len(allowed["case"]["members"]) == 3
    assert denied == {
        "access": {
            "case_id": str(case_id),
            "subject": "fsw.lindqvist",
            "allowed": False,
            "relationships": [],
            "scopes": [],
            "audiences": [],
            "person_id": None,  # a family or network member's own person on the case
            "language": None,
            "network_sees": None,  # what the family opened to their network (members of it only)
        },
        "case": None,
        "safety_network": None,
    }
