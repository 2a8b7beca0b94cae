"""Audit you can ask: `caseAccessLog(caseId)` answers "who looked at this case" from the gateway's audit
trail (who, through which client, as which audience, which sections) for the case's supervisor and for
auditors only; everyone else is refused, and a supervisor asking about another case hears "no such case",
exactly as for a case that does not exist. `auditChain` recomputes the hash chain and finds tampering."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from sqlalchemy import update

from sop_gateway.demo.network import seed_network
from sop_gateway.demo.seeding import DemoSeed
from sop_gateway.models import platform
from sop_shared.dev_identity import DEV_AUDIENCE, DEV_ISSUER
from sop_shared.keys import DEV_ISSUER_KEY_FILE, load_signing_key
from sop_shared.pagination import CaseList

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ACCESS_LOG = """query($id: ID!, $first: Int = 100) { caseAccessLog(caseId: $id, first: $first) { edges { node {
  seq occurredAt actorSubject actorType clientId action resource audience fields requestId clientRequestId } } } }"""
CHAIN = "{ auditChain { intact records brokenAt } }"
CASE_VIEW = (
    "query($id: ID!, $a: Audience!) { caseView(caseId: $id, audience: $a) {"
    " case { recordId } children { firstName } } }"
)


def bearer(system: EmbeddedSystem, subject: str, roles: list[str]) -> dict[str, str]:
    key = load_signing_key(system.keys_dir / DEV_ISSUER_KEY_FILE)
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": subject,
        "iat": now,
        "nbf": now - 1,
        "exp": now + 600,
        "act": "staff",
        "roles": roles,
    }
    token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    return {"Authorization": f"Bearer {token}"}


AUDITOR = ("audit.byrne", ["auditor"])


async def seeded_case(system: EmbeddedSystem) -> str:
    """The demo family's case with its worker and supervisor (the network service's part of the demo)."""
    seed = DemoSeed(system.keys_dir)
    await seed_network(system.client, seed)
    return seed.case_id


async def ask(system: EmbeddedSystem, query: str, variables: dict[str, Any], who: tuple[str, list[str]]) -> Any:
    response = await system.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=bearer(system, *who)
    )
    assert response.status_code == 200, response.text
    return response.json()


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def error_code(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    return body["errors"][0]["extensions"]["code"]


@pytest.mark.sqlite_smoke
async def test_an_auditor_sees_who_looked_at_the_case_through_which_client_and_as_which_audience(
    system: EmbeddedSystem,
) -> None:
    case_id = await seeded_case(system)
    viewed = await system.client.post(
        "/graphql",
        json={"query": CASE_VIEW, "variables": {"id": case_id, "a": "FAMILY"}},
        headers={**system.bearer("fsw.rivera"), "X-Request-ID": "rq-family-view-1"},
    )
    assert viewed.json()["data"]["caseView"]["case"]["recordId"] == case_id
    read = await system.client.get(f"/api/network/v1/cases/{case_id}", headers=system.bearer("sacwis.sync"))
    assert read.status_code == 200
    log = nodes((await ask(system, ACCESS_LOG, {"id": case_id}, AUDITOR))["data"]["caseAccessLog"])
    assert [e["seq"] for e in log] == sorted((e["seq"] for e in log), reverse=True)  # newest first
    facade_read, case_view = log[0], log[1]
    assert (facade_read["actorSubject"], facade_read["actorType"], facade_read["clientId"], facade_read["action"]) == (
        "sacwis.sync",
        "INTEGRATION",
        "sacwis.sync",
        "read",
    )
    # the request id is the gateway's own; the client's id for the request is kept beside it
    assert (
        case_view["actorSubject"],
        case_view["resource"],
        case_view["audience"],
        case_view["requestId"],
        case_view["clientRequestId"],
    ) == ("fsw.rivera", "case_view", "FAMILY", viewed.headers["X-Request-ID"], "rq-family-view-1")
    assert case_view["fields"] == ["case", "children"]  # the sections this query asked for
    # asking is itself recorded, and shows the next time
    again = nodes((await ask(system, ACCESS_LOG, {"id": case_id, "first": 1}, AUDITOR))["data"]["caseAccessLog"])
    assert len(again) == 1
    assert (again[0]["actorSubject"], again[0]["resource"]) == ("audit.byrne", "case_access_log")


async def test_the_cases_supervisor_may_ask_but_not_about_a_case_they_do_not_supervise(
    system: EmbeddedSystem,
) -> None:
    case_id = await seeded_case(system)
    own = await ask(system, ACCESS_LOG, {"id": case_id}, ("sup.okafor", ["supervisor"]))
    assert "errors" not in own, own
    other_supervisor = await ask(system, ACCESS_LOG, {"id": case_id}, ("sup.nakamura", ["supervisor"]))
    missing = await ask(system, ACCESS_LOG, {"id": str(uuid.uuid4())}, ("sup.okafor", ["supervisor"]))
    assert error_code(other_supervisor) == error_code(missing) == "NOT_FOUND"
    assert other_supervisor["errors"][0]["message"] == missing["errors"][0]["message"]


async def test_workers_partners_and_integration_clients_may_not_read_the_trail(system: EmbeddedSystem) -> None:
    case_id = await seeded_case(system)
    for who in (("fsw.rivera", ["worker"]), ("admin.hughes", ["admin"])):
        assert error_code(await ask(system, ACCESS_LOG, {"id": case_id}, who)) == "FORBIDDEN"
    # verifying a chain is for auditors and administrators only (tests/gateway/test_audit_gateway.py)
    for who in (("fsw.rivera", ["worker"]), ("sup.okafor", ["supervisor"])):
        assert error_code(await ask(system, CHAIN, {}, who)) == "FORBIDDEN"
    sacwis = (await system.graphql(ACCESS_LOG, {"id": case_id}, user="sacwis.sync")).json()
    assert error_code(sacwis) == "FORBIDDEN"
    rows = [r for r in await system.audit_rows() if r.resource == "case_access_log"]
    assert rows == []


async def test_a_case_id_that_is_not_a_uuid_is_refused_by_name(sqlite_system: EmbeddedSystem) -> None:
    body = await ask(sqlite_system, ACCESS_LOG, {"id": "../../admin"}, AUDITOR)
    assert error_code(body) == "BAD_USER_INPUT" and body["errors"][0]["extensions"]["field"] == "caseId"
    too_many = await ask(sqlite_system, ACCESS_LOG, {"id": str(uuid.uuid4()), "first": 501}, AUDITOR)
    assert too_many["errors"][0]["extensions"]["field"] == "first"


async def test_the_audit_chain_verifies_and_a_changed_record_breaks_it(system: EmbeddedSystem) -> None:
    case_id = await seeded_case(system)
    await system.client.get(f"/api/network/v1/cases/{case_id}", headers=system.bearer("fsw.rivera"))
    await ask(system, ACCESS_LOG, {"id": case_id}, AUDITOR)
    verdict = (await ask(system, CHAIN, {}, AUDITOR))["data"]["auditChain"]
    assert verdict["intact"] and verdict["records"] >= 2 and verdict["brokenAt"] is None
    first_case_read = next(r for r in await system.audit_rows() if r.case_id == uuid.UUID(case_id))
    async with system.gateway.state.database.session() as session:
        # someone rewrites history: the worker's read now claims to be the supervisor's
        await session.execute(
            update(platform.audit).where(platform.audit.c.seq == first_case_read.seq).values(actor_subject="sup.okafor")
        )
    broken = (await ask(system, CHAIN, {}, ("admin.hughes", ["admin"])))["data"]["auditChain"]
    assert broken == {"intact": False, "records": first_case_read.seq - 1, "brokenAt": first_case_read.seq}


PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
 caseAccessLog(caseId: $id, first: $first, after: $after, last: $last, before: $before) {
  edges { cursor node { seq } } totalCount pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }"""
OLD_PAGE = """query($id: ID!, $first: Int!, $before: Int) {
 caseAccessLog(caseId: $id, first: $first, beforeSeq: $before) { edges { node { seq } } } }"""


async def test_the_whole_trail_is_read_page_by_page_each_entry_once_either_way(system: EmbeddedSystem) -> None:
    case_id = await seeded_case(system)
    for _ in range(3):
        viewed = await system.graphql(CASE_VIEW, {"id": case_id, "a": "STAFF"})
        assert viewed.status_code == 200, viewed.text
    everything = [
        e["node"]["seq"]
        for e in (await ask(system, PAGE, {"id": case_id, "first": 200}, AUDITOR))["data"]["caseAccessLog"]["edges"]
    ]
    assert everything == sorted(everything, reverse=True) and len(everything) >= 4  # newest first
    # Forward: each page's endCursor as `after`, until there is no next page. Asking is itself recorded (the
    # newest entries grow), so a forward read from a cursor sees exactly the older entries.
    start = everything[0]
    after_first = (await ask(system, PAGE, {"id": case_id, "first": 1}, AUDITOR))["data"]["caseAccessLog"]
    cursor_at = {after_first["edges"][0]["node"]["seq"]: after_first["edges"][0]["cursor"]}
    assert after_first["pageInfo"]["hasNextPage"] is True and after_first["pageInfo"]["hasPreviousPage"] is False
    pages: list[int] = []
    log = (await ask(system, PAGE, {"id": case_id, "first": 2, "after": cursor_at[start + 1]}, AUDITOR))["data"]
    while True:
        connection = log["caseAccessLog"]
        assert connection["pageInfo"]["hasPreviousPage"] is True  # an `after` was given
        pages += [e["node"]["seq"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        variables = {"id": case_id, "first": 2, "after": connection["pageInfo"]["endCursor"]}
        log = (await ask(system, PAGE, variables, AUDITOR))["data"]
    assert pages == everything
    # Backward from the oldest: `last` alone reads the trail's end (its oldest entries), then `before` on.
    backward: list[int] = []
    variables: dict[str, Any] = {"id": case_id, "last": 2}
    for _ in range(50):
        connection = (await ask(system, PAGE, variables, AUDITOR))["data"]["caseAccessLog"]
        backward = [e["node"]["seq"] for e in connection["edges"]] + backward  # each page newest first too
        if backward[0] > start or not connection["pageInfo"]["hasPreviousPage"]:
            break
        variables = {"id": case_id, "last": 2, "before": connection["pageInfo"]["startCursor"]}
    assert [seq for seq in backward if seq <= start] == everything
    assert connection["totalCount"] >= len(everything)


async def test_before_seq_still_pages_for_one_release(system: EmbeddedSystem) -> None:
    case_id = await seeded_case(system)
    for _ in range(3):
        await system.graphql(CASE_VIEW, {"id": case_id, "a": "STAFF"})
    everything = [
        e["node"]["seq"]
        for e in (await ask(system, OLD_PAGE, {"id": case_id, "first": 200}, AUDITOR))["data"]["caseAccessLog"]["edges"]
    ]
    pages: list[int] = []
    before = everything[0] + 1  # asking is itself recorded: start just above what the first answer held
    while True:
        page = (await ask(system, OLD_PAGE, {"id": case_id, "first": 2, "before": before}, AUDITOR))["data"][
            "caseAccessLog"
        ]["edges"]
        if not page:
            break
        pages += [e["node"]["seq"] for e in page]
        before = page[-1]["node"]["seq"]
    assert pages == everything and len(pages) >= 4
    refused = await ask(system, OLD_PAGE, {"id": case_id, "first": 2, "before": 0}, AUDITOR)
    assert error_code(refused) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 2, "before": "CURSOR"}, "first"),
        ({"last": 2, "after": "CURSOR"}, "last"),
        ({"last": 501}, "last"),
        ({"after": "bm90LWEtY3Vyc29y"}, "after"),
        ({"before": "ANOTHER"}, "before"),  # a cursor of another case's log is refused like a forged one
    ],
)
async def test_a_paging_mistake_is_refused_naming_the_argument(
    sqlite_system: EmbeddedSystem, variables: dict[str, Any], field: str
) -> None:
    case_id = uuid.uuid4()
    mine = CaseList(case_id, "access-log").cursor([5])
    theirs = CaseList(uuid.uuid4(), "access-log").cursor([5])
    given = {k: {"CURSOR": mine, "ANOTHER": theirs}.get(v, v) for k, v in variables.items()}
    body = await ask(sqlite_system, PAGE, {"id": str(case_id), **given}, AUDITOR)
    assert error_code(body) == "BAD_USER_INPUT" and body["errors"][0]["extensions"]["field"] == field
