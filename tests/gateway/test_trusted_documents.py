"""Trusted documents: the first-party apps' operations, known ahead from their build's manifest and checked when
the gateway starts. A request may name one by id (GraphQL over HTTP's `documentId`, Apollo's `persistedQuery`);
when they are required, staff, family and network callers run only those, while integrations (SACWIS) and
partners' tokens may still send their own queries."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sop_gateway.family_view.reading import case_view_query
from sop_gateway.graphql.trusted_documents import (
    APOLLO_MANIFEST,
    TrustedDocumentError,
    document_id,
    read_manifest,
)

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

CASELOAD = "query Caseload($first: Int!) { cases(first: $first) { edges { node { id county } } } }"
WHO = "query Who { me { subject actorType } }"


def apollo_manifest(path: Path, *bodies: str) -> Path:
    operations = [
        {"id": document_id(b).removeprefix("sha256:"), "name": None, "type": "query", "body": b} for b in bodies
    ]
    path.write_text(json.dumps({"format": APOLLO_MANIFEST, "version": 1, "operations": operations}))
    return path


def test_both_manifest_formats_are_read_and_an_id_must_be_its_documents_hash(tmp_path: Path) -> None:
    apollo = read_manifest(apollo_manifest(tmp_path / "apollo.json", CASELOAD))
    assert apollo == {document_id(CASELOAD): (None, CASELOAD)}
    codegen = tmp_path / "persisted-documents.json"
    codegen.write_text(json.dumps({document_id(WHO).removeprefix("sha256:"): WHO}))
    assert read_manifest(codegen) == {document_id(WHO): (None, WHO)}
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({document_id(WHO).removeprefix("sha256:"): CASELOAD}))
    with pytest.raises(TrustedDocumentError, match="is not the SHA-256 of its document"):
        read_manifest(forged)


async def test_a_manifest_the_schema_does_not_answer_stops_the_start(start_system: Any, tmp_path: Path) -> None:
    stale = apollo_manifest(
        tmp_path / "stale.json", "query Old { cases(first: 1) { edges { node { retiredField } } } }"
    )
    with pytest.raises(TrustedDocumentError, match="retiredField"):
        async with start_system(graphql_trusted_documents=stale):
            pass


async def test_first_party_callers_run_trusted_documents_by_id_and_systems_may_send_their_own(
    start_system: Any, tmp_path: Path
) -> None:
    manifest = apollo_manifest(tmp_path / "app.json", CASELOAD)
    settings = {"graphql_trusted_documents": manifest, "graphql_trusted_documents_required": True}
    async with start_system(demo_family=True, **settings) as system:
        system_: EmbeddedSystem = system
        worker = system_.bearer("fsw.rivera")
        by_id = await system_.client.post(
            "/graphql", json={"documentId": document_id(CASELOAD), "variables": {"first": 5}}, headers=worker
        )
        assert by_id.status_code == 200, by_id.text
        assert [e["node"]["id"] for e in by_id.json()["data"]["cases"]["edges"]] == [str(system_.demo_case)]
        apollo = await system_.client.post(
            "/graphql",
            json={
                "variables": {"first": 5},
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_id(CASELOAD)[7:]}},
            },
            headers=worker,
        )
        assert apollo.json()["data"] == by_id.json()["data"]
        as_text = await system_.graphql(CASELOAD, {"first": 5})  # the trusted text itself is trusted too
        assert as_text.status_code == 200 and as_text.json()["data"] == by_id.json()["data"]

        own = await system_.graphql(WHO)
        assert own.status_code == 400
        assert own.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
        unknown = await system_.client.post("/graphql", json={"documentId": document_id(WHO)}, headers=worker)
        assert unknown.status_code == 400
        assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        mismatched = await system_.client.post(
            "/graphql", json={"documentId": document_id(CASELOAD), "query": WHO}, headers=worker
        )
        assert mismatched.status_code == 400

        integration = await system_.graphql(WHO, user="sacwis.sync")
        assert integration.status_code == 200, integration.text
        assert integration.json()["data"]["me"] == {"subject": "sacwis.sync", "actorType": "INTEGRATION"}

        family_page = await system_.client.get(
            f"/v1/cases/{system_.demo_case}/family-view", headers=worker, params={"language": "es"}
        )
        assert family_page.status_code == 200, family_page.text  # the gateway's own document is trusted


async def test_without_a_manifest_nothing_changes_for_callers(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    response = await system.graphql(WHO)
    assert response.status_code == 200 and response.json()["data"]["me"]["subject"] == "fsw.rivera"
    unknown = await system.client.post(
        "/graphql", json={"documentId": document_id(WHO)}, headers=system.bearer("fsw.rivera")
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    own = await system.client.post(
        "/graphql",
        json={"documentId": document_id(case_view_query()), "variables": {"caseId": str(demo_case), "language": "es"}},
        headers=system.bearer("fsw.rivera"),
    )
    assert own.status_code == 200 and own.json()["data"]["caseView"]["case"]["recordId"] == str(demo_case), own.text
