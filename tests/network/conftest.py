"""Fixtures for the network service: the running service on SQLite and PostgreSQL, and the fictional
Maria Lopez family as SACWIS would send it."""

from __future__ import annotations

import copy
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
