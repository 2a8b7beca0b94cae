"""Generated events of the other services, shaped as they publish them, for the fidelity read model's tests and
benchmark (issue 15): a case opened in SACWIS, its map, danger statements, goals, safety-scale ratings, network,
child voice, plan and signatures, SDM assessment, shared texts and translations. Fictional: ids and dates only."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sop_shared.events import Event

COUNTIES = ("Pulaski", "Benton", "Sebastian", "Washington", "Garland", "Craighead", "Faulkner", "Saline")


def _at(day: date, hour: int = 15) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def event(subject: str, case_id: uuid.UUID, on: date, **data: Any) -> Event:
    return Event(uuid.uuid4(), subject, _at(on), {"case_id": str(case_id), **data}, case_id)


def case_events(
    case_id: uuid.UUID,
    rng: random.Random,
    *,
    county: str,
    unit: str | None,
    worker: str,
    opened_on: date,
    full: bool = False,
) -> list[Event]:
    """One case's events in the order its services would publish them (`full`: every measure met)."""

    def chance(p: float) -> bool:
        return full or rng.random() < p

    language = "es" if chance(0.2) and (not full or rng.random() < 0.5) else "en"
    out = [
        event(
            "sop.network.case.created",
            case_id,
            opened_on,
            version=1,
            county=county,
            status="open",
            opened_on=opened_on.isoformat(),
            staff=[
                {"subject": "sup." + worker.split(".", 1)[1], "role": "supervisor", "unit": unit},
                {"subject": worker, "role": "worker", "unit": unit},
            ],
            people=[{"person_id": str(uuid.uuid4()), "preferred_language": language, "needs_interpreter": False}],
        )
    ]
    if chance(0.8):
        out.append(event("sop.assessment.map.created", case_id, opened_on, map_id=str(uuid.uuid4()), version=1))
    if chance(0.85):
        statement = str(uuid.uuid4())
        written = opened_on + timedelta(days=rng.randint(0, 6) if full else rng.randint(0, 20))
        out.append(
            event(
                "sop.assessment.statement.created",
                case_id,
                written,
                statement_id=statement,
                kind="danger",
                status="active",
                version=1,
            )
        )
        if not full and rng.random() < 0.05:
            out.append(
                event(
                    "sop.assessment.statement.updated",
                    case_id,
                    written,
                    statement_id=statement,
                    kind="danger",
                    status="withdrawn",
                    version=2,
                    words_corrected=False,
                )
            )
        out.append(
            event(
                "sop.assessment.statement.shared",
                case_id,
                written,
                statement_id=statement,
                version=1,
                with_reason=not full and rng.random() < 0.2,
                findings=[],
            )
        )
    if chance(0.7):
        out.append(
            event(
                "sop.assessment.safety_goal.created",
                case_id,
                opened_on,
                safety_goal_id=str(uuid.uuid4()),
                status="active",
                version=1,
            )
        )
    for role, p in (("worker", 0.9), ("caregiver", 0.6), ("network", 0.3)):
        if chance(p):
            rating = str(uuid.uuid4())
            out.append(
                event(
                    "sop.assessment.scale_rating.created",
                    case_id,
                    opened_on,
                    scale_rating_id=rating,
                    rater_role=role,
                    score=rng.randint(0, 10),
                    occasion_on=opened_on.isoformat(),
                )
            )
            if not full and rng.random() < 0.03:
                out.append(event("sop.assessment.scale_rating.withdrawn", case_id, opened_on, scale_rating_id=rating))
    for _ in range(3 if full else rng.randint(0, 4)):
        out.append(
            event(
                "sop.network.network_member.added",
                case_id,
                opened_on,
                member_id=str(uuid.uuid4()),
                person_id=str(uuid.uuid4()),
                version=1,
                active_to=None,
                seen_danger_statements_on=opened_on.isoformat() if full or rng.random() < 0.5 else None,
            )
        )
    if chance(0.6):
        out.append(
            event("sop.assessment.child_voice.created", case_id, opened_on, record_id=str(uuid.uuid4()), version=1)
        )
    if chance(0.9):
        due = opened_on + timedelta(days=2)
        done = opened_on + timedelta(days=rng.randint(0, 1) if full else rng.randint(0, 4))
        out.append(
            event(
                "sop.assessment.sdm_assessment.completed",
                case_id,
                done,
                sdm_assessment_id=str(uuid.uuid4()),
                status="completed",
                version=2,
                completed_at=_at(done).isoformat(),
                due={"complete_by": due.isoformat()},
            )
        )
    if chance(0.7):
        plan = str(uuid.uuid4())
        out.append(
            event("sop.plans.safety_plan.created", case_id, opened_on, plan_id=plan, status="draft", version_number=1)
        )
        if chance(0.7):
            out.append(
                event(
                    "sop.plans.safety_plan.signature_recorded",
                    case_id,
                    opened_on,
                    plan_id=plan,
                    signature_id=str(uuid.uuid4()),
                    signer_role="caregiver",
                    decision="signed",
                )
            )
    if language != "en" and chance(0.6):
        out.append(
            event(
                "sop.assessment.translation.verified",
                case_id,
                opened_on,
                translation_id=str(uuid.uuid4()),
                language=language,
                verified=True,
            )
        )
    return out


def reporting_events(
    case_id: uuid.UUID, *, county: str, unit: str | None, worker: str, opened_on: date, last_day: date
) -> list[Event]:
    """What the network and plans services announce of a case for the outcome measures and the federal extract: its
    reporting facts (children, reports, removals; some closed) and a safety plan's time in force. Drawn from their
    own generator (seeded by the case), so the fidelity events of a seed stay the same with or without them."""
    rng = random.Random(case_id.int)
    children = [
        {
            "person_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "external_id": f"P-{case_id.hex[:12]}-{k}",
            "date_of_birth": (opened_on - timedelta(days=rng.randint(300, 6000))).isoformat(),
        }
        for k in range(rng.randint(1, 3))
    ]
    received = opened_on - timedelta(days=rng.randint(0, 3))
    reports = [
        {
            "external_id": f"R-{case_id.hex[:12]}-1",
            "received_on": received.isoformat(),
            "screened_in": True,
            "investigation_started_on": opened_on.isoformat(),
            "disposition": rng.choice(("true", "unsubstantiated", "indicated")),
            "disposition_on": (opened_on + timedelta(days=rng.randint(10, 60))).isoformat(),
            "children": [],
        }
    ]
    if rng.random() < 0.25:
        again = received + timedelta(days=rng.randint(20, 300))
        reports.append(
            {
                "external_id": f"R-{case_id.hex[:12]}-2",
                "received_on": again.isoformat(),
                "screened_in": rng.random() < 0.8,
                "investigation_started_on": None,
                "disposition": None,
                "disposition_on": None,
                "children": [],
            }
        )
    removals = []
    for k, child in enumerate(children):
        if rng.random() < 0.2:
            removed = opened_on + timedelta(days=rng.randint(0, 90))
            home = removed + timedelta(days=rng.randint(20, 300)) if rng.random() < 0.6 else None
            removals.append(
                {
                    "external_id": f"RM-{case_id.hex[:12]}-{k}",
                    "child": child["external_id"],
                    "person_id": child["person_id"],
                    "removed_on": removed.isoformat(),
                    "discharged_on": home.isoformat() if home else None,
                    "discharge_reason": rng.choice(("reunification", "adoption", "living_with_relatives"))
                    if home
                    else None,
                }
            )
    closed = opened_on + timedelta(days=rng.randint(30, 200)) if rng.random() < 0.5 else None
    out = [
        event(
            "sop.network.case.reporting_facts",
            case_id,
            opened_on,
            version=1,
            external_system="CHRIS",
            external_id=f"C-{case_id.hex[:12]}",
            county=county,
            status="closed" if closed else "open",
            opened_on=opened_on.isoformat(),
            closed_on=closed.isoformat() if closed else None,
            worker=worker,
            supervisor="sup." + worker.split(".", 1)[1],
            units=[unit] if unit else [],
            children=children,
            reports=reports,
            removals=removals,
        )
    ]
    if rng.random() < 0.5:
        plan, started = str(uuid.UUID(int=rng.getrandbits(128))), opened_on + timedelta(days=rng.randint(0, 10))
        out.append(event("sop.plans.safety_plan.activated", case_id, started, plan_id=plan, plan_type="immediate"))
        ended = started + timedelta(days=rng.randint(5, 60))
        if ended <= last_day:
            out.append(event("sop.plans.safety_plan.terminated", case_id, ended, plan_id=plan, plan_type="immediate"))
    return out


def caseload(
    cases: int,
    *,
    reporting: bool = False,
    seed: int = 15,
    units_per_county: int = 6,
    workers_per_unit: int = 8,
    first_day: date = date(2026, 1, 1),
    days: int = 330,
) -> Iterator[Event]:
    """The events of `cases` cases spread over counties, units and workers, opened over `days` days (`reporting`:
    with each case's reporting facts and a safety plan's time in force, for the outcome measures)."""
    rng = random.Random(seed)
    for n in range(cases):
        county = COUNTIES[n % len(COUNTIES)]
        unit = f"{county}-{rng.randrange(units_per_county) + 1}"
        worker = f"fsw.{unit.lower()}-{rng.randrange(workers_per_unit) + 1}"
        opened = first_day + timedelta(days=rng.randrange(days))
        case_id = uuid.UUID(int=rng.getrandbits(128))
        yield from case_events(case_id, rng, county=county, unit=unit, worker=worker, opened_on=opened)
        if reporting:  # the outcome measures' facts too (`reporting_events`)
            last = first_day + timedelta(days=days)
            yield from reporting_events(
                case_id, county=county, unit=unit, worker=worker, opened_on=opened, last_day=last
            )
