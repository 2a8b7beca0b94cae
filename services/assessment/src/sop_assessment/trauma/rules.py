"""Who reads a trauma history, and what the worker is shown when planning. No HTTP, no session."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sop_assessment.trauma.models import TraumaHistory
from sop_shared.policy import Audience, SensitivityLabel, may_see


def may_see_history(audience: Audience, consented_audiences: Iterable[str]) -> bool:
    """As Part 2 data: only an audience a recorded consent names, and only one the policy table allows at all."""
    return may_see(SensitivityLabel.trauma_history, audience, consented=audience.value in set(consented_audiences))


def known_triggers(records: Iterable[TraumaHistory], audience: Audience) -> list[dict[str, Any]]:
    """Every known trigger the audience may read, with whose it is and what helps: what a plan must avoid."""
    return [
        {
            "trauma_history_id": record.id,
            "person_name": record.person_name,
            "person_role": record.person_role.value,
            "trigger": trigger["trigger"],
            "what_helps": trigger.get("what_helps"),
        }
        for record in records
        if may_see_history(audience, record.consented_audiences)
        for trigger in record.triggers
    ]
