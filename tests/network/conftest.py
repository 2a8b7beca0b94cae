"""Fixtures for the network service: the running service on SQLite and PostgreSQL, and the fictional
Maria Lopez family as SACWIS would send it."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from real_services import MigratedTemplates
from sqlalchemy import func, select

from sop_network.component import component
from sop_network.models import (
    Case,
    CaseMember,
    ChangeLog,
    ContactMethod,
    NetworkCommitment,
    NetworkMember,
    NetworkSharingChoice,
    PartnerGrant,
    Person,
    StaffAssignment,
    platform,
)
from sop_shared.db import Database
from sop_shared.testing import InternalTokens, RunningService, run_component

# These fixtures start the service on the test's database: it is made a copy of the migrated schema.
MigratedTemplates.COMPONENT_FIXTURES.update(network=component.package, pg_network=component.package)


@pytest.fixture
async def network(
    database_url: str, tokens: InternalTokens, tmp_path: Path, database_templates: MigratedTemplates
) -> AsyncIterator[RunningService]:
    async with run_component(
        component, database_url=database_url, tokens=tokens, data_dir=tmp_path, migrate=database_templates.migrate
    ) as svc:
        yield svc


MARIA_AND_THE_CHILDREN: dict[str, Any] = {
    "case_type": "in_home",
    "status": "open",
    "county": "Pulaski",
    "opened_on": "2026-10-02",
    "members": [
        {
            "role": "caregiver",
            "relationship_to_children": "mother",
            "person": {
                "external_id": "P-1001",
                "first_name": "Maria",
                "last_name": "Lopez",
                "date_of_birth": "1994-03-14",
                "preferred_language": "es",
                "needs_interpreter": True,
            },
        },
        {
            "role": "child",
            "relationship_to_children": "self",
            "person": {
                "external_id": "P-1002",
                "first_name": "Sofia",
                "last_name": "Lopez",
                "date_of_birth": "2019-06-01",
                "preferred_language": "es",
            },
        },
        {
            "role": "child",
            "relationship_to_children": "self",
            "person": {
                "external_id": "P-1003",
                "first_name": "Mateo",
                "last_name": "Lopez",
                "date_of_birth": "2021-09-20",
                "preferred_language": "es",
            },
        },
    ],
    "assignments": [
        {"staff_subject": "fsw.rivera", "role": "worker"},
        {"staff_subject": "sup.okafor", "role": "supervisor"},
    ],
}


@pytest.fixture
def maria_and_the_children() -> dict[str, Any]:
    return copy.deepcopy(MARIA_AND_THE_CHILDREN)


@pytest.fixture
def sacwis(tokens: InternalTokens) -> dict[str, str]:
    """Headers of the SACWIS integration client calling the network service."""
    from sop_shared.policy import ActorType

    return tokens.headers(
        "network", subject="sacwis.sync", actor_type=ActorType.integration, roles=(), scopes=("cases:sync", "case:read")
    )


TABLES: dict[str, Any] = {
    "cases": Case,
    "persons": Person,
    "members": CaseMember,
    "assignments": StaffAssignment,
    "contacts": ContactMethod,
    "grants": PartnerGrant,
    "network": NetworkMember,
    "commitments": NetworkCommitment,
    "network_sharing": NetworkSharingChoice,
    "changes": ChangeLog,
    "events": platform.outbox,
}


async def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.session() as s:
            return {
                name: (await s.execute(select(func.count()).select_from(table))).scalar_one()
                for name, table in TABLES.items()
            }
    finally:
        await db.dispose()


@pytest.fixture
def row_counts() -> Callable[[str], Awaitable[dict[str, int]]]:
    """Rows per table, read straight from the database (for "nothing was written")."""
    return counts


@pytest.fixture
async def pg_network(
    postgres_database_url: str, tokens: InternalTokens, tmp_path: Path, database_templates: MigratedTemplates
) -> AsyncIterator[RunningService]:
    """The service on PostgreSQL only, for what only a server with concurrent transactions can show."""
    async with run_component(
        component,
        database_url=postgres_database_url,
        tokens=tokens,
        data_dir=tmp_path,
        migrate=database_templates.migrate,
    ) as svc:
        yield svc


@pytest.fixture
def bind_login(network: RunningService, tokens: InternalTokens) -> Callable[..., Awaitable[Any]]:
    """How a caregiver or network member gets a login: the worker invites, the person redeems signed in as
    themselves. `await bind_login(case_id, person_id, subject)` returns the redeem response."""
    return lambda *args, **kwargs: _bind_login(network, tokens, *args, **kwargs)


async def _bind_login(
    network: RunningService,
    tokens: InternalTokens,
    case_id: Any,
    person_id: Any,
    subject: str,
    *,
    actor_type: Any = None,
    worker: dict[str, str] | None = None,
) -> Any:
    from sop_shared.policy import ActorType

    worker = worker or tokens.headers("network", case_id=case_id)
    invited = await network.client.post(
        f"/v1/cases/{case_id}/people/{person_id}/login-invitations", json={}, headers=worker
    )
    assert invited.status_code == 201, invited.text
    member = tokens.headers(
        "network",
        subject=subject,
        actor_type=actor_type or ActorType.family,
        roles=(),
        scopes=("case:read",),
        agency=None,
    )
    return await network.client.post(
        "/v1/login-invitations/redeem", json={"code": invited.json()["code"]}, headers=member
    )


# --- a family member and a network member, each signed in as themselves (members.md) ---------------------------

MEMBERS_UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0300"
ROSA_IN_THE_NETWORK = {
    "person": {"first_name": "Rosa", "last_name": "Delgado", "preferred_language": "es"},
    "circle": "inner",
    "roles": ["safety person at night"],
    "active_from": "2026-01-01",
}


@pytest.fixture
async def members_case(
    network: RunningService, sacwis: dict[str, str], maria_and_the_children: dict[str, Any]
) -> uuid.UUID:
    from datetime import UTC, datetime

    from sop_shared.clock import FixedClock

    network.app.state.clock = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
    made = await network.client.put(MEMBERS_UPSERT, json=maria_and_the_children, headers=sacwis)
    return uuid.UUID(made.json()["id"])


def member_headers(
    tokens: InternalTokens, case_id: uuid.UUID, subject: str, person_id: str, actor_type: Any
) -> dict[str, str]:
    """The internal token the gateway mints for a member: scoped to the case, naming their person."""
    from dataclasses import replace

    from sop_shared.policy import Scope

    principal = replace(
        tokens.principal(subject=subject, actor_type=actor_type, roles=(), agency=None, case_id=case_id),
        scopes=frozenset({Scope.case_read.value, Scope.case_participate.value}),
        person_id=uuid.UUID(person_id),
    )
    return tokens.headers("network", principal)


@pytest.fixture
async def people(
    network: RunningService, members_case: uuid.UUID, tokens: InternalTokens, bind_login: Any
) -> dict[str, dict[str, str]]:
    """Rosa in the network and Maria (the mother), each signed in as themselves; and the worker."""
    from sop_shared.policy import ActorType

    case_id = members_case
    worker = tokens.headers("network", case_id=case_id)
    rosa = (
        await network.client.post(f"/v1/cases/{case_id}/network/members", json=ROSA_IN_THE_NETWORK, headers=worker)
    ).json()
    rosa_person = rosa["person"]["id"]
    bound = await bind_login(case_id, rosa_person, "network:rosa.delgado", actor_type=ActorType.network)
    assert bound.status_code == 200, bound.text
    case = (await network.client.get(f"/v1/cases/{case_id}", headers=worker)).json()
    maria_person = next(m["person"]["id"] for m in case["members"] if m["person"]["first_name"] == "Maria")
    assert (await bind_login(case_id, maria_person, "family:maria.lopez")).status_code == 200
    return {
        "worker": worker,
        "rosa": member_headers(tokens, case_id, "network:rosa.delgado", rosa_person, ActorType.network),
        "maria": member_headers(tokens, case_id, "family:maria.lopez", maria_person, ActorType.family),
        "ids": {"rosa": rosa_person, "rosa_member": rosa["id"], "maria": maria_person},
    }
