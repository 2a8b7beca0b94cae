"""Who reads a trauma history, and what the worker is shown when planning. No HTTP, no session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sop_assessment.trauma.models import TraumaHistory
from sop_shared.ids import new_id
from sop_shared.policy import Audience, SensitivityLabel, may_see


def may_see_history(audience: Audience, consented_audiences: Iterable[str]) -> bool:
    """As Part 2 data: only an audience a recorded consent names, and only one the policy table allows at all."""
    return may_see(SensitivityLabel.trauma_history, audience, consented=audience.value in set(consented_audiences))


def known_triggers(records: Iterable[TraumaHistory], audience: Audience) -> list[dict[str, Any]]:
    """Every known trigger the audience may read, with whose it is and what helps: what a plan must avoid."""
    return [
        {
            "trauma_history_id": record.id,
            "trigger_id": trigger.get("id"),
            "person_name": record.person_name,
            "person_role": record.person_role.value,
            "trigger": trigger["trigger"],
            "what_helps": trigger.get("what_helps"),
        }
        for record in records
        if may_see_history(audience, record.consented_audiences)
        for trigger in record.triggers
    ]


def _words(trigger: Mapping[str, Any]) -> str:
    return " ".join(str(trigger.get("trigger") or "").split()).casefold()


def with_trigger_ids(
    triggers: Sequence[Mapping[str, Any]], before: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The triggers, each with its stable id: a trigger whose words were there before keeps its id (a plan names
    triggers by id), a new one gets a new id."""
    known = {_words(t): t["id"] for t in before if t.get("id")}
    return [{**t, "id": str(t.get("id") or known.pop(_words(t), None) or new_id())} for t in triggers]


def trigger_facts(record: TraumaHistory) -> dict[str, Any]:
    """What the bus may carry about a record's known triggers: whose (the person's id and role) and the triggers'
    ids and count — never the words (the label `trauma_history` keeps them from every audience without consent)."""
    return {
        "person_id": str(record.person_id) if record.person_id else None,
        "trigger_ids": [str(t["id"]) for t in record.triggers if t.get("id")],
        "trigger_count": len(record.triggers),
    }
