"""The SACWIS batch's COPY path (PostgreSQL, `sop_network.bulk.insert_rows`) writes what the INSERT path (SQLite's,
and small writes') writes: the same rows, the same change log and outbox events in the same order, the same
audit record and the same per-record results, for a batch mixing new, repeated, changed and invalid records."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import asyncpg
import pytest
from query_counting import counted_queries
from sqlalchemy import text

from sop_network import bulk
from sop_network.cases.reporting import REPORTING_FACTS, reporting_facts
from sop_network.models import Person, PersonAlias
from sop_network.sacwis import service as sacwis_service
from sop_shared.testing import RunningService

BATCH = "/v1/sacwis/batch"
SYSTEMS = {"copy": "CHRIS", "insert": "CHRIS-B"}


def family(n: int) -> dict[str, Any]:
    """A fictional family: a mother with contact methods, two children, a report and a removal, two staff."""
    return {
        "case_type": "out_of_home" if n % 2 else "in_home",
        "status": "open",
        "county": "Pulaski",
        "opened_on": "2026-10-02",
        "members": [
            {
                "role": "caregiver",
                "relationship_to_children": "mother",
                "person": {
                    "external_id": f"P-{n}-1",
                    "first_name": "Ana",
                    "last_name": f"Family{n}",
                    "date_of_birth": "1990-01-01",
                    "preferred_language": "es" if n % 3 else "en",
                    "contact_methods": [
                        {"kind": "address", "value": f"{n} Elm St", "dv_confidential": True},
                        {"kind": "phone", "value": "501-555-0100"},
                    ],
                },
            },
            {
                "role": "child",
                "relationship_to_children": "daughter",
                "person": {"external_id": f"P-{n}-2", "first_name": "Lia", "last_name": f"Family{n}"},
            },
            {
                "role": "child",
                "relationship_to_children": "son",
                "person": {
                    "external_id": f"P-{n}-3",
                    "first_name": "Teo",
                    "last_name": f"Family{n}",
                    "date_of_birth": "2020-07-07",
                },
            },
        ],
        "assignments": [
            {"staff_subject": f"fsw.{n % 4}", "role": "worker", "unit": "U-7", "area": "6"},
            {"staff_subject": "sup.okafor", "role": "supervisor", "unit": "U-7"},
        ],
        "reports": [
            {
                "external_id": f"R-{n}",
                "received_on": "2026-09-30",
                "investigation_started_on": "2026-10-01",
                "disposition": "true",
                "disposition_on": "2026-10-20",
                "children": [f"P-{n}-2"],
            }
        ],
        "removals": [{"external_id": f"RM-{n}", "child": f"P-{n}-3", "removed_on": "2026-10-03"}] if n % 2 else [],
    }


def records() -> list[dict[str, Any]]:
    """Enough new cases for every table to take COPY, and beside them what goes one by one or is refused."""
    out: list[dict[str, Any]] = [{"kind": "case", "external_id": f"C-{n}", "data": family(n)} for n in range(30)]
    out.insert(3, {"kind": "person", "external_id": "P-ROSA", "data": {"first_name": "Rosa", "last_name": "Delgado"}})
    bad = {"kind": "case", "external_id": "C-BAD", "data": {**family(99), "case_type": "vacation"}}
    bad["data"]["members"][1]["person"]["date_of_birth"] = "2999-01-01"
    out.insert(7, bad)
    closed_early = {"kind": "case", "external_id": "C-EARLY", "data": {**family(98), "status": "closed"}}
    out.insert(11, closed_early)
    twice = copy.deepcopy(out[20])  # the same case twice with different content: both one by one
    twice["data"]["county"] = "Saline"
    out.append(twice)
    return out


async def dump(network: RunningService, system: str) -> dict[str, Any]:
    """Everything the batch wrote for `system`, with ids and times replaced by what they name."""
    async with network.app.state.database.session() as s:

        async def rows(sql: str) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in (await s.execute(text(sql), {"system": system})).all()]

        persons = await rows("SELECT * FROM person WHERE external_system = :system")
        cases = await rows('SELECT * FROM "case" WHERE external_system = :system')
        names = {p["id"]: f"person:{p['external_id']}" for p in persons} | {
            c["id"]: f"case:{c['external_id']}" for c in cases
        }
        of_cases = 'case_id IN (SELECT id FROM "case" WHERE external_system = :system)'
        tables = {
            "person": persons,
            "case": cases,
            "contact_method": await rows(
                "SELECT * FROM contact_method WHERE person_id IN "
                "(SELECT id FROM person WHERE external_system = :system)"
            ),
            "case_member": await rows(f"SELECT * FROM case_member WHERE {of_cases}"),
            "staff_assignment": await rows(f"SELECT * FROM staff_assignment WHERE {of_cases}"),
            "case_report": await rows(f"SELECT * FROM case_report WHERE {of_cases}"),
            "case_removal": await rows(f"SELECT * FROM case_removal WHERE {of_cases}"),
        }
        changes = await rows(
            "SELECT c.seq, c.subject, c.case_id, c.payload, c.occurred_at, o.subject AS outbox_subject, "
            "o.case_id AS outbox_case_id, o.payload AS outbox_payload, o.occurred_at AS outbox_occurred_at, "
            "o.attempts, o.published_at, o.last_error, o.trace_context "
            "FROM change_log c JOIN outbox_event o ON o.id = c.event_id "
            "WHERE c.payload ->> 'external_system' = :system ORDER BY c.seq"
        )
        audit = await rows(
            "SELECT actor_subject, actor_type, resource, resource_id, action, fields, case_id "
            "FROM audit_record ORDER BY seq"
        )

    def name(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return names.get(value, "an id")
        if isinstance(value, str):
            try:
                return names.get(uuid.UUID(value), value if len(value) != 36 else "an id")
            except ValueError:
                return value.replace(system, "SYSTEM")
        if isinstance(value, dict):
            return {k: name(v) for k, v in value.items()}
        if isinstance(value, list):
            return [name(v) for v in value]
        if hasattr(value, "tzinfo"):
            return "a time"
        return value

    def canonical(row: dict[str, Any]) -> str:
        row = {k: v for k, v in row.items() if k not in ("id", "seq")}
        if "trace_context" in row:  # each request's own trace: there, in the same form
            row["trace_context"] = str(row["trace_context"])[:3] + "..." + str(row["trace_context"])[-3:]
        for key in ("payload", "outbox_payload"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        return json.dumps(name(row), sort_keys=True, default=str)

    first_seq = changes[0]["seq"] if changes else 0
    return {
        **{table: sorted(canonical(r) for r in found) for table, found in tables.items()},
        "changes": [(c["seq"] - first_seq, canonical(c)) for c in changes],
        "payload text": [c["payload"] == c["outbox_payload"] for c in changes],
        "audit": [json.dumps(name(a), sort_keys=True, default=str) for a in audit],
    }


async def test_the_copy_path_writes_what_the_insert_path_writes_row_for_row_and_event_for_event(
    pg_network: RunningService, sacwis: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {}
    dumps = {}
    for path, system in SYSTEMS.items():
        monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 1 if path == "copy" else 10**9)
        body = {"system": system, "records": records()}
        response = await pg_network.client.post(BATCH, json=body, headers=sacwis)
        assert response.status_code == 200, response.text
        answers[path] = response.json()
        dumps[path] = await dump(pg_network, system)
    assert answers["copy"]["counts"] == answers["insert"]["counts"] == {"created": 31, "updated": 1, "invalid": 2}
    for copied, inserted in zip(answers["copy"]["results"], answers["insert"]["results"], strict=True):
        assert {k: v for k, v in copied.items() if k not in ("id", "external_id")} == {
            k: v for k, v in inserted.items() if k not in ("id", "external_id")
        }
    invalid = [r for r in answers["copy"]["results"] if r["status"] == "invalid"]
    assert [r["index"] for r in invalid] == [7, 11]
    assert {"records.7.data.case_type", "records.7.data.members.1.person.date_of_birth"} <= {
        e["field"] for e in invalid[0]["errors"]
    }
    assert [e["field"] for e in invalid[1]["errors"]] == ["records.11.data.closed_on"]
    copied, inserted = dumps["copy"], dumps["insert"]
    inserted["audit"] = inserted["audit"][len(copied["audit"]) :]  # what the second batch added
    assert copied["audit"][-1].count("sacwis_batch") == 1
    assert (len(copied["case"]), len(copied["case_removal"]), len(copied["changes"])) == (30, 15, 63)
    for key in copied:
        assert copied[key] == inserted[key], key
    assert all(copied["payload text"])  # the outbox and the change log carry the same JSON text


async def test_a_bulk_written_cases_reporting_facts_are_what_reading_them_back_finds(
    pg_network: RunningService, sacwis: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 1)
    response = await pg_network.client.post(BATCH, json={"system": "CHRIS", "records": records()}, headers=sacwis)
    case_ids = [uuid.UUID(r["id"]) for r in response.json()["results"] if r["kind"] == "case" and r["id"]]
    async with pg_network.app.state.database.session() as s:
        stored = await reporting_facts(s, case_ids)
        announced = {
            uuid.UUID(str(case_id)): payload if isinstance(payload, dict) else json.loads(payload)
            for case_id, payload in (
                await s.execute(
                    text("SELECT case_id, payload FROM change_log WHERE subject = :subject ORDER BY seq"),
                    {"subject": REPORTING_FACTS},
                )
            ).all()
        }
    assert len(stored) == 30
    assert announced == {case_id: json.loads(json.dumps(facts)) for case_id, facts in stored.items()}


async def test_on_postgresql_a_batch_looks_up_its_persons_aliases_and_cases_in_one_statement_each(
    pg_network: RunningService, sacwis: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ids go as one array whatever their number (a statement per `CHUNK` ids cost more than the lookups),
    and an alias among them still sends its record one by one."""
    monkeypatch.setattr(sacwis_service, "CHUNK", 5)  # 30 cases naming 93 persons: many chunks, were there any
    async with pg_network.app.state.database.session() as s:
        stranger = Person(first_name="Other", last_name="Person")
        s.add(stranger)
        await s.flush()
        s.add(PersonAlias(external_system="CHRIS", external_id="P-4-2", person_id=stranger.id))
    with counted_queries(pg_network) as seen:
        response = await pg_network.client.post(BATCH, json={"system": "CHRIS", "records": records()}, headers=sacwis)
    results = response.json()["results"]
    lookups = [s for s in seen if "unnest" in s]
    assert [("person_alias" in s, '"case"' in s) for s in lookups] == [(False, False), (True, False), (False, True)]
    assert {r["external_id"]: r["status"] for r in results if r["status"] != "created"} == {
        "C-BAD": "invalid",
        "C-EARLY": "invalid",
        "C-17": "updated",  # named twice with different content
    }
    # the alias sent C-4 one by one, where the crosswalk made the person it names its child
    c4 = next(uuid.UUID(r["id"]) for r in results if r["external_id"] == "C-4")
    async with pg_network.app.state.database.session() as s:
        members = (await s.execute(text("SELECT person_id FROM case_member WHERE case_id = :c"), {"c": c4})).all()
    assert stranger.id in {m[0] for m in members}


async def test_the_new_cases_reporting_facts_are_computed_while_postgresql_takes_the_persons_rows(
    pg_network: RunningService, sacwis: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's CPU beside PostgreSQL's work instead of after it; the facts are still recorded after every row
    is written, and are what a read-back finds (above)."""
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 1)
    writing: list[str] = []  # the tables whose COPY is with the driver meanwhile
    seen: list[list[str]] = []
    real_copy, real_facts = asyncpg.Connection.copy_records_to_table, sacwis_service.facts_of

    async def copy_records_to_table(self: asyncpg.Connection, table_name: str, **kwargs: Any) -> str:
        writing.append(table_name)
        try:
            return await real_copy(self, table_name, **kwargs)
        finally:
            writing.remove(table_name)

    def facts_of(*args: Any, **kwargs: Any) -> Any:
        seen.append(list(writing))
        return real_facts(*args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "copy_records_to_table", copy_records_to_table)
    monkeypatch.setattr(sacwis_service, "facts_of", facts_of)
    response = await pg_network.client.post(BATCH, json={"system": "CHRIS", "records": records()}, headers=sacwis)
    assert response.json()["counts"] == {"created": 31, "updated": 1, "invalid": 2}
    assert seen == [["person"]]
