"""Steps the practice service's tests share (issue 15): headers of the people who call it, and a registered team."""

from __future__ import annotations

from typing import Any

from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

COORDINATOR = ("coord.ellis", "training_coordinator")


def staff(tokens: InternalTokens, subject: str, *roles: str) -> dict[str, str]:
    """Headers of a staff member with these roles calling the practice service (no case in the token)."""
    return tokens.headers("practice", subject=subject, actor_type=ActorType.staff, roles=roles, scopes=(), agency=None)


def person(subject: str, *roles: str, unit: str | None = "Pulaski-3", **extra: Any) -> dict[str, Any]:
    return {"subject": subject, "name": subject.title(), "agency": "DCFS", "roles": list(roles), "unit": unit, **extra}


async def register(practice: RunningService, tokens: InternalTokens, body: dict[str, Any]) -> dict[str, Any]:
    answer = await practice.client.post("/v1/people", json=body, headers=staff(tokens, *COORDINATOR))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def team(practice: RunningService, tokens: InternalTokens, **started_on: str) -> None:
    """A coach, a supervisor and two workers of unit Pulaski-3, a worker of another unit (`started_on` by
    subject, e.g. fsw_rivera="2026-01-05")."""
    for body in (
        person("coach.tran", "coach", unit=None, agency="MidSOUTH"),
        person("sup.okafor", "supervisor"),
        person("fsw.rivera", "worker", supervisor_subject="sup.okafor"),
        person("fsw.lindqvist", "worker"),
        person("fsw.other", "worker", unit="Benton-1"),
    ):
        start = started_on.get(body["subject"].replace(".", "_"))
        await register(practice, tokens, {**body, **({"started_on": start} if start else {})})
