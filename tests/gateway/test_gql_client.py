"""Python `gql`, unmodified, as an integrator uses it: every GraphQL operation the docs show validates against the
gateway's schema on the client side, and the family view's documented query runs through gql's own transport
with the schema fetched by introspection (so what the client validates is what the gateway serves)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport

if TYPE_CHECKING:
    from tests.gateway.conftest import EmbeddedSystem

ROOT = Path(__file__).resolve().parents[2]
SDL = ROOT / "docs" / "contract" / "gateway.graphql"
FENCED = re.compile(r"^( *)```graphql\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def documented_operations() -> list[tuple[str, str]]:
    found = []
    for page in sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")]):
        for number, match in enumerate(FENCED.finditer(page.read_text(encoding="utf-8")), start=1):
            indent = len(match[1])
            body = "\n".join(line[indent:] for line in match[2].splitlines())
            found.append((f"{page.name}#{number}", body))
    return found


OPERATIONS = documented_operations()


def test_the_docs_show_graphql_operations() -> None:
    assert len(OPERATIONS) >= 4, OPERATIONS


@pytest.mark.parametrize(("where", "document"), OPERATIONS, ids=[where for where, _ in OPERATIONS])
def test_a_documented_operation_validates_in_gql(where: str, document: str) -> None:
    client = Client(schema=SDL.read_text(encoding="utf-8"))
    client.validate(gql(document))  # raises GraphQLError naming what the schema does not have


async def test_gql_runs_the_documented_family_view_with_the_schema_it_introspected(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    [(_, family_view)] = [(w, d) for w, d in OPERATIONS if "caseView(caseId: $id, audience: FAMILY" in d][:1]
    transport = HTTPXAsyncTransport(
        url=f"{system.client.base_url}/graphql",
        headers=system.bearer("fsw.rivera"),
        transport=httpx.ASGITransport(app=system.gateway),
    )
    async with Client(transport=transport, fetch_schema_from_transport=True) as session:
        result = await session.execute(gql(family_view), variable_values={"id": str(demo_case)})
    view = result["caseView"]
    assert view["audience"] == "FAMILY" and view["language"] == "es"
    assert view["case"]["recordId"] == str(demo_case)
    assert view["worries"]["danger"], "the demo family's shared danger statement"
