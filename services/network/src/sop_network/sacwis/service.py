"""The SACWIS batch: many case and person records per request, each applied all-or-nothing on its own.

Two paths, one result:
- the bulk path takes every record that is new (or a true repeat) and writes it with a handful of
  multi-row INSERTs for the whole batch, inside one savepoint — this is what makes a 100k-case load fast;
- every other record (a real change to an existing record, anything touching a merged person or an
  alias, an id that occurs twice in the batch with different content) goes through the per-record upsert,
  each in its own savepoint (`session.begin_nested()`), in batch order, so a failing record rolls back
  alone and never half-writes.
If the bulk savepoint fails (say a concurrent writer inserted the same external id first), it is rolled
back whole and its records are retried one by one on the per-record path.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter, getitem
from typing import Any

from pydantic import ValidationError
from sqlalchemy import String, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from sop_network.bulk import insert_rows
from sop_network.cases.history import history_unchanged, removal_rows, report_rows
from sop_network.cases.reporting import announce_cases_of_children, facts_changes, facts_of
from sop_network.cases.rules import check_case_upsert
from sop_network.cases.service import (
    CASE_FIELDS,
    PERSON_FIELDS,
    _upsert_person,
    contact_key,
    language_of,
    upsert_case_from_sacwis,
)
from sop_network.changes.service import Change, record_change, record_changes
from sop_network.models import (
    Case,
    CaseMember,
    CaseRemoval,
    CaseReport,
    ContactMethod,
    MemberRole,
    Person,
    PersonAlias,
    StaffAssignment,
)
from sop_network.schemas import CaseUpsert, PersonIn, RecordResult, SacwisRecord
from sop_shared.db import table_of, utcnow
from sop_shared.ids import new_id
from sop_shared.person_languages import PEOPLE_KEY, PersonLanguage
from sop_shared.problems import Conflict, InvalidInput, Problem

CHUNK = 500


@dataclass
class _Valid:
    index: int
    record: SacwisRecord
    body: CaseUpsert | PersonIn
    persons: list[PersonIn] = field(init=False)  # the persons the record names, in its order (once)

    def __post_init__(self) -> None:
        self.persons = [self.body] if isinstance(self.body, PersonIn) else [m.person for m in self.body.members]


@dataclass
class _Plan:
    """What the bulk path will write."""

    persons: dict[str, dict[str, Any]] = field(default_factory=dict)  # external_id -> row
    contacts: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    removals: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    # each new case's children as `cases.reporting.facts_of` takes them: (case id, person id, external id, born)
    children: list[tuple[uuid.UUID, uuid.UUID, str | None, date | None]] = field(default_factory=list)
    results: dict[int, RecordResult] = field(default_factory=dict)
    deferred: list[_Valid] = field(default_factory=list)  # to the per-record path after all


def _by_external_ids(session: AsyncSession, model: Any, system: str, ids: Sequence[str], *where: Any) -> Any:
    """Rows of `model` with these external ids, as one index probe per id whatever the table statistics.

    On PostgreSQL the ids go as one array, unnested, each looked up through a LATERAL subquery with
    LIMIT 1 (the id is unique per system), which the planner cannot turn into a hash join over the whole
    table. (A long `IN ($1, ..., $500)` is compared row by row, and on freshly loaded tables the planner
    chose to scan every row of the system; a plain join on unnest() went to a hash join as tables grew.)"""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        wanted = (
            func.unnest(bindparam("external_ids", list(ids), type_=ARRAY(String())))
            .table_valued("external_id")
            .render_derived(name="wanted")
        )
        hit = (
            select(model)
            .where(model.external_system == system, model.external_id == wanted.c.external_id, *where)
            .limit(1)
            .lateral("hit")
        )
        return select(aliased(model, hit)).select_from(wanted).join(hit, true())
    return select(model).where(model.external_system == system, model.external_id.in_(list(ids)), *where)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _lookup_chunks(session: AsyncSession, ids: Sequence[str]) -> Iterable[Sequence[str]]:
    """The external ids `_by_external_ids` looks up per statement: on PostgreSQL all of them (one array, one
    parameter, whatever its length: a statement per 500 ids cost more to build and send than the lookups took),
    elsewhere `CHUNK` at a time (a parameter per id)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return [ids] if ids else []
    return _chunks(ids)


def parse_record(index: int, record: SacwisRecord) -> _Valid | RecordResult:
    """Validate one record on its own; errors name fields as `records.<i>.data.<field>`."""
    prefix = f"records.{index}.data"
    try:
        if record.kind == "case":
            case_body = CaseUpsert.model_validate(record.data)
            check_case_upsert(case_body)
            body: CaseUpsert | PersonIn = case_body
        else:
            if "external_id" in record.data and record.data["external_id"] != record.external_id:
                raise InvalidInput.field("external_id", "differs from the record's external_id")
            body = PersonIn.model_validate({**record.data, "external_id": record.external_id})
    except ValidationError as exc:
        errors = [{"field": ".".join([prefix, *(str(p) for p in e["loc"])]), "message": e["msg"]} for e in exc.errors()]
        return RecordResult(
            index=index, kind=record.kind, external_id=record.external_id, status="invalid", errors=errors
        )
    except InvalidInput as exc:
        return RecordResult(
            index=index,
            kind=record.kind,
            external_id=record.external_id,
            status="invalid",
            errors=[{**e, "field": f"{prefix}.{e['field']}"} for e in exc.errors],
        )
    return _Valid(index, record, body)


_person_fields = attrgetter(*PERSON_FIELDS)  # a person's own fields, as a tuple in PERSON_FIELDS' order


def _person_values(p: PersonIn) -> tuple[Any, ...]:
    contacts = (
        None
        if p.contact_methods is None
        else tuple(sorted(contact_key(c.kind, c.value, c.dv_confidential) for c in p.contact_methods))
    )
    return (*_person_fields(p), contacts)


async def apply_batch(session: AsyncSession, system: str, records: list[SacwisRecord]) -> list[RecordResult]:
    results: dict[int, RecordResult] = {}
    valid: list[_Valid] = []
    for i, record in enumerate(records):
        parsed = parse_record(i, record)
        if isinstance(parsed, RecordResult):
            results[i] = parsed
        else:
            valid.append(parsed)
    bulk, one_by_one, persons = await _split(session, system, valid)
    plan = await _plan_bulk(session, system, bulk, persons) if bulk else _Plan()
    bulk = [i for i in bulk if i.index in plan.results]
    one_by_one = sorted([*one_by_one, *plan.deferred], key=lambda v: v.index)
    if bulk:
        try:
            async with session.begin_nested():
                await _write_plan(session, plan)
            results.update(plan.results)
        except IntegrityError:
            one_by_one = sorted([*one_by_one, *bulk], key=lambda v: v.index)
    for item in one_by_one:
        results[item.index] = await _apply_one(session, system, item)
    return [results[i] for i in range(len(records))]


async def _apply_one(session: AsyncSession, system: str, item: _Valid) -> RecordResult:
    base = {"index": item.index, "kind": item.record.kind, "external_id": item.record.external_id}
    try:
        async with session.begin_nested():
            if isinstance(item.body, CaseUpsert):
                case, created, changed = await upsert_case_from_sacwis(
                    session, system=system, external_id=item.record.external_id, body=item.body, expected_version=None
                )
                await session.flush()
                status = "created" if created else ("updated" if changed else "unchanged")
                return RecordResult(**base, status=status, id=case.id)
            existed = (
                await session.execute(
                    select(col(Person.id)).where(
                        col(Person.external_system) == system, col(Person.external_id) == item.body.external_id
                    )
                )
            ).first()
            person, changed = await _upsert_person(session, system, item.body)
            await session.flush()
            if changed:
                await record_change(
                    session,
                    subject=f"sop.network.person.{'updated' if existed else 'created'}",
                    data={
                        "person_id": str(person.id),
                        "external_system": system,
                        "external_id": item.body.external_id,
                        "version": person.version,
                        PEOPLE_KEY: [language_of(person)],
                    },
                )
                await announce_cases_of_children(session, [person.id])  # a child's birth date, for the outcomes
            status = "updated" if changed and existed else ("created" if changed else "unchanged")
            return RecordResult(**base, status=status, id=person.id)
    except InvalidInput as exc:
        return RecordResult(
            **base,
            status="invalid",
            errors=[{**e, "field": f"records.{item.index}.data.{e['field']}"} for e in exc.errors],
        )
    except Conflict as exc:
        return RecordResult(**base, status="conflict", errors=[{"field": "external_id", "message": exc.detail}])
    except Problem as exc:
        return RecordResult(**base, status="failed", errors=[{"field": "", "message": exc.detail}])
    except IntegrityError:
        return RecordResult(
            **base,
            status="conflict",
            errors=[
                {"field": "external_id", "message": "conflicts with a record stored at the same moment; send it again"}
            ],
        )


async def _split(
    session: AsyncSession, system: str, valid: list[_Valid]
) -> tuple[list[_Valid], list[_Valid], dict[str, Person]]:
    """Which records can take the bulk path: each external id once (or repeated identically), no merged
    person or alias involved; and the stored persons the records name, by external id (for `_plan_bulk`).
    Existing-and-changed records are found later, in `_plan_bulk`."""
    case_counts: dict[str, int] = {}
    first_named: dict[str, PersonIn] = {}  # each person as first named in the batch
    tricky_people: set[str] = set()  # persons named twice with different values
    for item in valid:
        if isinstance(item.body, CaseUpsert):
            case_counts[item.record.external_id] = case_counts.get(item.record.external_id, 0) + 1
        for p in item.persons:
            first = first_named.setdefault(p.external_id, p)  # values compared only for a person named again
            if first is not p and _person_values(first) != _person_values(p):
                tricky_people.add(p.external_id)
    ids = list(first_named)
    persons: dict[str, Person] = {}
    for chunk in _lookup_chunks(session, ids):
        for p in (await session.execute(_by_external_ids(session, Person, system, chunk))).scalars():
            persons[p.external_id or ""] = p
            if p.merged_into_id is not None:
                tricky_people.add(p.external_id or "")
        for alias in (await session.execute(_by_external_ids(session, PersonAlias, system, chunk))).scalars():
            tricky_people.add(alias.external_id)
    bulk, one_by_one = [], []
    for item in valid:
        repeated_case = isinstance(item.body, CaseUpsert) and case_counts[item.record.external_id] > 1
        if repeated_case or any(p.external_id in tricky_people for p in item.persons):
            one_by_one.append(item)
        else:
            bulk.append(item)
    return bulk, one_by_one, persons


async def _plan_bulk(session: AsyncSession, system: str, items: list[_Valid], known: dict[str, Person]) -> _Plan:
    """Preload what exists (a few IN queries per batch; `known`: the stored persons `_split` found), then decide
    per record: new -> insert in bulk, a true repeat -> unchanged, anything else -> the per-record path (moved
    out of `items`)."""
    plan = _Plan()
    now = utcnow()
    case_ids = [i.record.external_id for i in items if isinstance(i.body, CaseUpsert)]
    cases: dict[str, Case] = {}
    for chunk in _lookup_chunks(session, case_ids):
        for c in (await session.execute(_by_external_ids(session, Case, system, chunk))).scalars():
            cases[c.external_id] = c
    wanted = {p.external_id for i in items for p in i.persons}
    persons = {ext: p for ext, p in known.items() if ext in wanted}
    contacts: dict[uuid.UUID, list[tuple[str, str, bool]]] = {}
    members: dict[uuid.UUID, list[CaseMember]] = {}
    assignments: dict[uuid.UUID, list[StaffAssignment]] = {}
    reports: dict[uuid.UUID, list[CaseReport]] = {}
    removals: dict[uuid.UUID, list[CaseRemoval]] = {}
    person_pks = [p.id for p in persons.values()]
    for chunk in _chunks(person_pks):
        for c in (
            await session.execute(select(ContactMethod).where(col(ContactMethod.person_id).in_(chunk)))
        ).scalars():
            contacts.setdefault(c.person_id, []).append(contact_key(c.kind, c.value, c.dv_confidential))
    case_pks = [c.id for c in cases.values()]
    for chunk in _chunks(case_pks):
        for m in (await session.execute(select(CaseMember).where(col(CaseMember.case_id).in_(chunk)))).scalars():
            members.setdefault(m.case_id, []).append(m)
        for a in (
            await session.execute(select(StaffAssignment).where(col(StaffAssignment.case_id).in_(chunk)))
        ).scalars():
            assignments.setdefault(a.case_id, []).append(a)
    with_history = [c.id for c in cases.values()]
    if not any(isinstance(i.body, CaseUpsert) and (i.body.reports, i.body.removals) != (None, None) for i in items):
        with_history = []  # no record says anything of reports or removals: nothing to compare
    for chunk in _chunks(with_history):
        for r in (await session.execute(select(CaseReport).where(col(CaseReport.case_id).in_(chunk)))).scalars():
            reports.setdefault(r.case_id, []).append(r)
        for v in (await session.execute(select(CaseRemoval).where(col(CaseRemoval.case_id).in_(chunk)))).scalars():
            removals.setdefault(v.case_id, []).append(v)

    def person_unchanged(p: PersonIn) -> bool:
        stored = persons[p.external_id]
        if any(getattr(stored, f) != getattr(p, f) for f in PERSON_FIELDS):
            return False
        return p.contact_methods is None or sorted(contacts.get(stored.id, [])) == sorted(
            contact_key(c.kind, c.value, c.dv_confidential) for c in p.contact_methods
        )

    def person_id(p: PersonIn) -> uuid.UUID:
        if p.external_id in persons:
            return persons[p.external_id].id
        row = plan.persons.get(p.external_id)
        if row is None:
            row = {
                "id": new_id(),
                "external_system": system,
                "external_id": p.external_id,
                **{f: getattr(p, f) for f in PERSON_FIELDS},
                "principal_subject": None,
                "merged_into_id": None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            plan.persons[p.external_id] = row
            for c in p.contact_methods or []:
                plan.contacts.append(
                    {
                        "id": new_id(),
                        "person_id": row["id"],
                        "kind": c.kind,
                        "value": c.value,
                        "dv_confidential": c.dv_confidential,
                        "created_at": now,
                    }
                )
        pk: uuid.UUID = row["id"]
        return pk

    def stored_person(p: PersonIn) -> tuple[str | None, date | None]:
        # the person's external id and birth date as stored once the plan is written
        stored = persons.get(p.external_id)
        if stored is not None:
            return stored.external_id, stored.date_of_birth
        row = plan.persons[p.external_id]
        return row["external_id"], row["date_of_birth"]

    def person_language(p: PersonIn, pk: uuid.UUID) -> dict[str, Any]:
        # on this path a known person is unchanged (else the record is deferred), a new one is version 1
        version = persons[p.external_id].version if p.external_id in persons else 1
        return PersonLanguage(pk, p.preferred_language, p.needs_interpreter, version).to_event()

    person_pks_by_ext = {ext: p.id for ext, p in persons.items()}
    deferred: list[_Valid] = []
    for item in items:
        base = {"index": item.index, "kind": item.record.kind, "external_id": item.record.external_id}
        if any(p.external_id in persons and not person_unchanged(p) for p in item.persons):
            deferred.append(item)
            continue
        if isinstance(item.body, PersonIn):
            existing = persons.get(item.body.external_id)
            if existing is not None:
                plan.results[item.index] = RecordResult(**base, status="unchanged", id=existing.id)
                continue
            pid = person_id(item.body)
            plan.changes.append(
                Change(
                    "sop.network.person.created",
                    {
                        "person_id": str(pid),
                        "external_system": system,
                        "external_id": item.body.external_id,
                        "version": 1,
                        PEOPLE_KEY: [person_language(item.body, pid)],
                    },
                )
            )
            plan.results[item.index] = RecordResult(**base, status="created", id=pid)
            continue
        body = item.body
        case = cases.get(item.record.external_id)
        if case is not None:
            if _case_unchanged(
                case, body, members.get(case.id, []), assignments.get(case.id, []), person_pks_by_ext
            ) and history_unchanged(body, reports.get(case.id, []), removals.get(case.id, [])):
                plan.results[item.index] = RecordResult(**base, status="unchanged", id=case.id)
            else:
                deferred.append(item)
            continue
        cid = new_id()
        plan.cases.append(
            {
                "id": cid,
                "external_system": system,
                "external_id": item.record.external_id,
                **{f: getattr(body, f) for f in CASE_FIELDS},
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        member_ids = [person_id(m.person) for m in body.members]  # the members' persons, made where new
        for member, member_id in zip(body.members, member_ids, strict=True):
            if member.role == MemberRole.child:
                plan.children.append((cid, member_id, *stored_person(member.person)))
            plan.members.append(
                {
                    "id": new_id(),
                    "case_id": cid,
                    "person_id": member_id,
                    "role": member.role,
                    "relationship_to_children": member.relationship_to_children,
                    "active": True,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for assignment in body.assignments:
            plan.assignments.append(
                {
                    "id": new_id(),
                    "case_id": cid,
                    "staff_subject": assignment.staff_subject,
                    "role": assignment.role,
                    "unit": assignment.unit,
                    "area": assignment.area,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        plan.reports.extend(report_rows(cid, body, now))
        plan.removals.extend(
            removal_rows(
                cid, body, {m.person.external_id: pk for m, pk in zip(body.members, member_ids, strict=True)}, now
            )
        )
        people = [person_language(m.person, pk) for m, pk in zip(body.members, member_ids, strict=True)]
        plan.changes.append(
            Change(
                "sop.network.case.created",
                {
                    "case_id": str(cid),
                    "external_system": system,
                    "external_id": item.record.external_id,
                    "version": 1,
                    "changed": None,
                    "person_ids": [entry["person_id"] for entry in people],  # the ids' text, made once
                    PEOPLE_KEY: people,
                    # as the one-by-one upsert says them (cases.service): who is assigned, where and since when the
                    # case is open (the practice service's fidelity measures count cases by them)
                    "staff": sorted(
                        ({"subject": a.staff_subject, "role": str(a.role), "unit": a.unit} for a in body.assignments),
                        key=lambda a: (a["role"], a["subject"]),
                    ),
                    "county": body.county,
                    "status": str(body.status),
                    "opened_on": body.opened_on.isoformat() if body.opened_on else None,
                },
                case_id=cid,
            )
        )
        plan.results[item.index] = RecordResult(**base, status="created", id=cid)
    plan.deferred = deferred
    return plan


def _case_unchanged(
    case: Case,
    body: CaseUpsert,
    members: list[CaseMember],
    assignments: list[StaffAssignment],
    person_pk: dict[str, uuid.UUID],
) -> bool:
    if any(getattr(case, f) != getattr(body, f) for f in CASE_FIELDS):
        return False
    active = {(m.person_id, str(m.role)): m.relationship_to_children for m in members if m.active}
    incoming = {(person_pk[m.person.external_id], str(m.role)): m.relationship_to_children for m in body.members}
    if active != incoming:
        return False
    staff = {(a.staff_subject, str(a.role)): (a.unit, a.area) for a in assignments if a.active}
    return staff == {(a.staff_subject, str(a.role)): (a.unit, a.area) for a in body.assignments}


async def _write_plan(session: AsyncSession, plan: _Plan) -> None:
    """The plan's rows, then its changes with each new case's reporting facts (`cases.reporting`), computed from the
    rows as a read-back would find them. The facts are computed while PostgreSQL takes the first rows' COPY (the
    rows go from a task of their own that has sent them by its first wait; nothing else uses the session meanwhile),
    and recorded once every row is written, as before."""
    await session.connection()  # the savepoint begun here, so the task's first step runs on to the COPY
    writing = asyncio.ensure_future(_write_rows(session, plan))
    try:
        await asyncio.sleep(0)  # the task's first step: the persons' COPY sent, its answer awaited
        case_ids = [c["id"] for c in plan.cases]
        facts = facts_of(plan.cases, plan.children, plan.reports, plan.removals, plan.assignments, field=getitem)
        reporting = facts_changes(facts, case_ids)
    finally:
        await writing
    await record_changes(session, [*plan.changes, *reporting])


async def _write_rows(session: AsyncSession, plan: _Plan) -> None:
    for table, rows in (
        (table_of(Person), list(plan.persons.values())),
        (table_of(ContactMethod), plan.contacts),
        (table_of(Case), plan.cases),
        (table_of(CaseMember), plan.members),
        (table_of(StaffAssignment), plan.assignments),
        (table_of(CaseReport), plan.reports),
        (table_of(CaseRemoval), plan.removals),
    ):
        await insert_rows(session, table, rows)
