"""Relay's Node: a record's global id names the view it was read through (case, audience, language), so a
normalising client cache never merges two views; `node(id:)` reads the record again through that view, with the
case view's authorization and audit."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sop_gateway.graphql.global_ids import GlobalId

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

VIEW = """query($id: ID!, $audience: Audience, $language: String) {
  caseView(caseId: $id, audience: $audience, language: $language) {
    children { id recordId firstName }
    worries { danger { id recordId text } }
    needsToHappen { safetyGoals { id recordId } }
    safetyPlans { id recordId }
  } }"""
NODE = """query($id: ID!) { node(id: $id) { id __typename
  ... on Statement { recordId text kind }
  ... on CasePerson { recordId firstName }
  ... on SafetyPlan { recordId status } } }"""


async def _view(system: EmbeddedSystem, case_id: uuid.UUID, **variables: Any) -> dict[str, Any]:
    body = (await system.graphql(VIEW, {"id": str(case_id), **variables})).json()
    assert "errors" not in body, body
    view: dict[str, Any] = body["data"]["caseView"]
    return view


async def _node(system: EmbeddedSystem, node_id: str, user: str = "fsw.rivera") -> dict[str, Any]:
    response = await system.graphql(NODE, {"id": node_id}, user=user)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_each_view_of_a_record_has_its_own_global_id_and_node_reads_it_back_through_that_view(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    staff = await _view(system, demo_case)
    family = await _view(system, demo_case, audience="FAMILY")
    spanish = await _view(system, demo_case, audience="FAMILY", language="es")
    [danger] = staff["worries"]["danger"]
    family_danger = family["worries"]["danger"][0]
    spanish_danger = spanish["worries"]["danger"][0]
    # one record, three views, three ids; the record's own id is the same in each
    assert danger["recordId"] == family_danger["recordId"] == spanish_danger["recordId"]
    assert len({danger["id"], family_danger["id"], spanish_danger["id"]}) == 3
    ids = [r["id"] for r in [*staff["children"], *staff["needsToHappen"]["safetyGoals"], *staff["safetyPlans"]]]
    assert len(set(ids)) == len(ids) and danger["id"] not in ids

    for shown in (danger, spanish_danger):
        body = await _node(system, shown["id"])
        assert "errors" not in body, body
        node = body["data"]["node"]
        assert node["__typename"] == "Statement" and node["kind"] == "DANGER"
        assert (node["id"], node["recordId"], node["text"]) == (shown["id"], shown["recordId"], shown["text"])
    child = staff["children"][0]
    body = await _node(system, child["id"])
    assert body["data"]["node"] == {
        "id": child["id"],
        "__typename": "CasePerson",
        "recordId": child["recordId"],
        "firstName": child["firstName"],
    }
    plan = (await _node(system, staff["safetyPlans"][0]["id"]))["data"]["node"]
    assert plan["__typename"] == "SafetyPlan" and plan["status"] == "ACTIVE"

    made_up = GlobalId.decode(danger["id"])
    made_up = GlobalId(made_up.type_name, made_up.view, uuid.uuid4())
    many = await system.graphql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Statement { recordId text } } }",
        {"ids": [danger["id"], made_up.encode(), spanish_danger["id"]]},
    )
    assert "errors" not in many.json(), many.text
    # each in its own view: the staff's English and the family's Spanish of one record, apart, and null between
    assert many.json()["data"]["nodes"] == [
        {"id": danger["id"], "recordId": danger["recordId"], "text": danger["text"]},
        None,
        {"id": spanish_danger["id"], "recordId": danger["recordId"], "text": spanish_danger["text"]},
    ]
    too_many = await system.graphql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [danger["id"]] * 21})
    assert too_many.json()["errors"][0]["extensions"]["field"] == "ids"

    reads = [r for r in await system.audit_rows() if r.resource == "case_view" and r.case_id == demo_case]
    assert len(reads) == 3 + 4 + 3  # three views, four node reads, three nodes: each audited like a case view
    assert reads[3].fields == ["worries"] and reads[3].audience == "staff"
    assert reads[4].audience == "family"


async def test_a_node_of_a_case_you_may_not_see_or_made_up_is_not_found_and_the_refusal_audited(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    staff = await _view(system, demo_case)
    danger = staff["worries"]["danger"][0]
    # the demo family's worker may read it; a worker not on the case hears NOT_FOUND, and it is audited
    stranger = await _node(system, danger["id"], user="fsw.lindqvist")
    assert stranger["data"] == {"node": None} and stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    denied = [r for r in await system.audit_rows() if r.action == "denied" and r.case_id == demo_case]
    assert [r.actor_subject for r in denied] == ["fsw.lindqvist"]
    # the record named with another case: that case's view does not hold it
    real = GlobalId.decode(danger["id"])
    other_case = GlobalId(real.type_name, type(real.view)(uuid.uuid4(), "staff", "en"), real.record_id)
    moved = await _node(system, other_case.encode())
    assert moved["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert [r.case_id for r in await system.audit_rows() if r.action == "denied"][-1] == other_case.view.case_id
    # a record this case does not hold, and a type that is not a record
    made_up = GlobalId(real.type_name, real.view, uuid.uuid4())
    assert (await _node(system, made_up.encode()))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for forged in ("bm90LWFuLWlk", GlobalId("Query", real.view, real.record_id).encode(), "x" * 400):
        body = await _node(system, forged)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["field"] == "id"


def test_a_records_global_id_names_its_record_id_as_uuid_writes_it() -> None:
    """A record id in another spelling (capitals, braces, no hyphens) gives the id of the canonical one."""
    from types import SimpleNamespace

    from graphql.pyutils import Path

    from sop_gateway.graphql.global_ids import ViewKey, _global_id

    record_id, view = uuid.uuid4(), ViewKey(uuid.uuid4(), "family", "es")
    expected = GlobalId("MapEntry", view, record_id).encode()
    path = Path(Path(Path(None, "view", "Query"), "items", "CaseView"), "id", "MapEntry")

    class MapEntry(SimpleNamespace):
        pass

    for spelling in (str(record_id), str(record_id).upper(), f"{{{record_id}}}", record_id.hex):
        assert _global_id(MapEntry(id=spelling), SimpleNamespace(views={"view": view}), path) == expected
    assert GlobalId.decode(expected) == GlobalId("MapEntry", view, record_id)
