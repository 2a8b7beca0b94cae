"""A network member's own commitment: Rosa proposes it as herself, the worker confirms (or declines, with a
reason); only then do the family and the rest of the network read it; its words are translated by people —
on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from sop_network.models import ChangeLog
from sop_shared.db import Database
from sop_shared.testing import InternalTokens, RunningService


@pytest.fixture
def case_id(members_case: uuid.UUID) -> uuid.UUID:
    return members_case


PROMISE = "Duermo en casa de Maria los viernes y sábados y llamo a la trabajadora si Maria ha bebido."


@pytest.mark.sqlite_smoke
async def test_rosa_proposes_the_worker_confirms_and_only_then_the_family_reads_it(
    network: RunningService, case_id: uuid.UUID, people: dict[str, dict[str, str]]
) -> None:
    base = f"/v1/cases/{case_id}/network"
    proposed = await network.client.post(
        f"{base}/member-commitments", json={"text": PROMISE, "schedule": "viernes y sábados"}, headers=people["rosa"]
    )
    assert proposed.status_code == 201, proposed.text
    commitment = proposed.json()
    assert commitment["status"] == "proposed" and commitment["text"] == PROMISE
    assert commitment["person_id"] == people["ids"]["rosa"] and commitment["member_id"] == people["ids"]["rosa_member"]
    assert commitment["language"] == "es"  # Rosa's own language, from her person record
    assert commitment["sharing"] == "draft" and commitment["plain_language"] is None  # the check is the worker's

    # A proposal: the worker reads it (with its plain-language check), Rosa reads her own, Maria nothing yet.
    agency = (await network.client.get(f"{base}/commitments", headers=people["worker"])).json()
    assert [c["status"] for c in agency] == ["proposed"] and agency[0]["plain_language"]["language"] == "es"
    assert [c["id"] for c in (await network.client.get(f"{base}/commitments", headers=people["rosa"])).json()] == [
        commitment["id"]
    ]
    assert (await network.client.get(f"{base}/commitments", headers=people["maria"])).json() == []
    view = (await network.client.get(f"/v1/cases/{case_id}/view", headers=people["maria"])).json()
    assert view["safety_network"]["commitments"] == []

    decide = f"{base}/commitments/{commitment['id']}/decision"
    confirm = {"decision": "confirmed", "share_reason": "Son las palabras de Rosa."}
    assert (await network.client.post(decide, json=confirm, headers=people["worker"])).status_code == 428
    stale = await network.client.post(decide, json=confirm, headers={**people["worker"], "If-Match": '"2"'})
    assert stale.status_code == 412
    confirmed = await network.client.post(decide, json=confirm, headers={**people["worker"], "If-Match": '"1"'})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["sharing"] == "shared"
    assert confirmed.headers["ETag"] == '"2"' and confirmed.json()["decided_by"] == "fsw.rivera"
    again = await network.client.post(decide, json=confirm, headers={**people["worker"], "If-Match": '"2"'})
    assert again.status_code == 409

    shown = (await network.client.get(f"{base}/commitments", headers=people["maria"])).json()
    assert [c["text"] for c in shown] == [PROMISE]
    assert shown[0]["share_reason"] is None and shown[0]["decided_by"] is None  # the agency's notes stay with it
    view = (await network.client.get(f"/v1/cases/{case_id}/view", headers=people["maria"])).json()
    assert [c["id"] for c in view["safety_network"]["commitments"]] == [commitment["id"]]

    db = Database(network.database_url)
    try:
        async with db.session() as session:
            subjects = (await session.execute(select(col(ChangeLog.subject)).order_by(col(ChangeLog.seq)))).scalars()
            subjects = list(subjects)
    finally:
        await db.dispose()
    assert subjects[-2:] == ["sop.network.network_commitment.proposed", "sop.network.network_commitment.confirmed"]


async def test_a_declined_commitment_says_why_to_rosa_and_is_never_shared(
    network: RunningService, case_id: uuid.UUID, people: dict[str, dict[str, str]], row_counts: Any
) -> None:
    base = f"/v1/cases/{case_id}/network"
    made = await network.client.post(
        f"{base}/member-commitments", json={"text": "Vigilo a los niños."}, headers=people["rosa"]
    )
    decide = f"{base}/commitments/{made.json()['id']}/decision"
    headers = {**people["worker"], "If-Match": '"1"'}
    before = await row_counts(network.database_url)
    no_reason = await network.client.post(decide, json={"decision": "declined"}, headers=headers)
    assert no_reason.status_code == 422 and [e["field"] for e in no_reason.json()["errors"]] == ["reason"]
    assert await row_counts(network.database_url) == before
    reason = "Rosa trabaja de noche esas semanas; hablemos de otro horario."
    declined = await network.client.post(
        decide, json={"decision": "declined", "reason": reason, "reason_language": "es"}, headers=headers
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    own = (await network.client.get(f"{base}/commitments", headers=people["rosa"])).json()
    assert own[0]["status"] == "declined" and own[0]["decline_reason"] == reason
    assert (await network.client.get(f"{base}/commitments", headers=people["maria"])).json() == []


async def test_confirming_words_with_findings_needs_the_reason_they_are_shared_as_they_are(
    network: RunningService, case_id: uuid.UUID, people: dict[str, dict[str, str]]
) -> None:
    base = f"/v1/cases/{case_id}/network"
    jargon = "I will ensure compliance with the CPS safety plan and monitor the DV perpetrator per the SDM."
    made = await network.client.post(
        f"{base}/member-commitments", json={"text": jargon, "language": "en"}, headers=people["rosa"]
    )
    assert made.status_code == 201, made.text
    listed = (await network.client.get(f"{base}/commitments", headers=people["worker"])).json()
    assert any(f["severity"] == "warning" for f in listed[0]["plain_language"]["findings"])
    decide = f"{base}/commitments/{made.json()['id']}/decision"
    refused = await network.client.post(
        decide, json={"decision": "confirmed"}, headers={**people["worker"], "If-Match": '"1"'}
    )
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["share_reason"]


async def test_only_a_network_member_proposes_as_themselves(
    network: RunningService, case_id: uuid.UUID, people: dict[str, dict[str, str]], row_counts: Any
) -> None:
    url = f"/v1/cases/{case_id}/network/member-commitments"
    before = await row_counts(network.database_url)
    naming = await network.client.post(
        url, json={"text": "Cuido a los niños.", "person_id": people["ids"]["maria"]}, headers=people["rosa"]
    )
    assert naming.status_code == 422 and naming.json()["errors"][0]["field"] == "person_id"
    blank = await network.client.post(url, json={"text": ""}, headers=people["rosa"])
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "text"
    assert (await network.client.post(url, json={"text": "Cuido."}, headers=people["maria"])).status_code == 403
    assert (await network.client.post(url, json={"text": "Cuido."}, headers=people["worker"])).status_code == 403
    assert await row_counts(network.database_url) == before


async def test_a_commitment_is_translated_by_people_and_the_reader_gets_the_verified_words(
    network: RunningService, case_id: uuid.UUID, people: dict[str, dict[str, str]], tokens: InternalTokens
) -> None:
    base = f"/v1/cases/{case_id}"
    made = (
        await network.client.post(f"{base}/network/member-commitments", json={"text": PROMISE}, headers=people["rosa"])
    ).json()
    confirm = {"decision": "confirmed", "share_reason": "Son las palabras de Rosa."}
    await network.client.post(
        f"{base}/network/commitments/{made['id']}/decision",
        json=confirm,
        headers={**people["worker"], "If-Match": '"1"'},
    )
    queue = (await network.client.get(f"{base}/translation-queue?language=en", headers=people["worker"])).json()
    assert [(i["record_kind"], i["state"]) for i in queue["items"]] == [("network_commitment", "untranslated")]
    english = "I sleep at Maria's on Fridays and Saturdays and call the worker if Maria has been drinking."
    recorded = await network.client.post(
        f"{base}/translations",
        json={
            "record_kind": "network_commitment",
            "record_id": made["id"],
            "language": "en",
            "text": english,
            "translated_by": "Lucía Gómez",
        },
        headers=people["worker"],
    )
    assert recorded.status_code == 201, recorded.text
    supervisor = tokens.headers("network", subject="sup.okafor", roles=("supervisor",), case_id=case_id)
    verified = await network.client.post(
        f"{base}/translations/{recorded.json()['id']}/verify",
        json={"qualification": "certified_translator"},
        headers=supervisor,
    )
    assert verified.status_code == 200, verified.text
    shown = (await network.client.get(f"{base}/network/commitments", headers=people["maria"])).json()
    assert [(t["language"], t["verified"]) for t in shown[0]["translations"]] == [("en", True)]
    other = await network.client.post(
        f"{base}/translations",
        json={
            "record_kind": "network_commitment",
            "record_id": str(uuid.uuid4()),
            "language": "en",
            "text": english,
            "translated_by": "Lucía Gómez",
        },
        headers=people["worker"],
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "record_id"


async def test_the_reason_a_commitment_is_declined_is_checked_and_rosa_reads_it_in_her_language(
    network: RunningService,
    case_id: uuid.UUID,
    people: dict[str, dict[str, str]],
    tokens: InternalTokens,
    row_counts: Any,
) -> None:
    """The worker's reason is words a member reads: plain-language checked when saved (findings to fix need
    `share_reason`, nothing written), translated by people (`network_commitment`, field `decline_reason`, from
    the language the worker wrote it in), in the queue, and carried to Rosa with its verified translation."""
    base = f"/v1/cases/{case_id}"
    made = await network.client.post(
        f"{base}/network/member-commitments", json={"text": "Vigilo a los niños."}, headers=people["rosa"]
    )
    decide = f"{base}/network/commitments/{made.json()['id']}/decision"
    headers = {**people["worker"], "If-Match": '"1"'}
    jargon = {
        "decision": "declined",
        "reason": "Per the SDM and the CPS safety plan, DV perpetrator contact is not OK.",
    }
    before = await row_counts(network.database_url)
    refused = await network.client.post(decide, json=jargon, headers=headers)
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["share_reason"]
    assert await row_counts(network.database_url) == before
    reason = "You work nights those weeks. Let us find another time together."
    declined = await network.client.post(decide, json={"decision": "declined", "reason": reason}, headers=headers)
    assert declined.status_code == 200, declined.text
    assert declined.json()["decline_reason_language"] == "en"
    assert declined.json()["decline_reason_plain_language"]["language"] == "en"

    queue = (await network.client.get(f"{base}/translation-queue?language=es", headers=people["worker"])).json()
    assert [(i["record_kind"], i["source_field"]) for i in queue["items"]] == [("network_commitment", "decline_reason")]
    spanish = "Esas semanas trabaja de noche. Busquemos juntas otro horario."
    recorded = await network.client.post(
        f"{base}/translations",
        json={
            "record_kind": "network_commitment",
            "record_id": made.json()["id"],
            "source_field": "decline_reason",
            "language": "es",
            "text": spanish,
            "translated_by": "Lucía Gómez",
        },
        headers=people["worker"],
    )
    assert recorded.status_code == 201, recorded.text
    supervisor = tokens.headers("network", subject="sup.okafor", roles=("supervisor",), case_id=case_id)
    verified = await network.client.post(
        f"{base}/translations/{recorded.json()['id']}/verify",
        json={"qualification": "certified_translator"},
        headers=supervisor,
    )
    assert verified.status_code == 200, verified.text
    [own] = (await network.client.get(f"{base}/network/commitments", headers=people["rosa"])).json()
    assert own["decline_reason"] == reason and own["decline_reason_plain_language"] is None
    assert [(t["source_field"], t["language"], t["text"]) for t in own["translations"]] == [
        ("decline_reason", "es", spanish)
    ]
    # The words Rosa wrote are Spanish already: no translation of them into Spanish is recorded.
    same = await network.client.post(
        f"{base}/translations",
        json={
            "record_kind": "network_commitment",
            "record_id": made.json()["id"],
            "source_field": "text",
            "language": "es",
            "text": "Vigilo.",
            "translated_by": "Lucía Gómez",
        },
        headers=people["worker"],
    )
    assert same.status_code == 422


async def test_a_translation_of_the_retired_member_kind_is_refused(
    network: RunningService, case_id: uuid.UUID, people: dict[str, dict[str, str]]
) -> None:
    """The commitments the worker records are `network_commitment` records: `network_member` takes no new ones."""
    made = await network.client.post(
        f"/v1/cases/{case_id}/translations",
        json={
            "record_kind": "network_member",
            "record_id": people["ids"]["rosa_member"],
            "source_field": "commitments.0.text",
            "language": "es",
            "text": "Llama a Maria cada noche.",
            "translated_by": "Lucía Gómez",
        },
        headers=people["worker"],
    )
    assert made.status_code == 422 and made.json()["errors"][0]["field"] == "record_kind"


async def test_a_commitment_that_no_longer_holds_is_withdrawn_kept_and_no_longer_shared(
    network: RunningService, case_id: uuid.UUID, people: dict[str, dict[str, str]], row_counts: Any
) -> None:
    """The worker withdraws a commitment (the worker's record here) with the reason: Maria stops reading it, the
    words stay for the record, the reason is the agency's; withdrawing again is 409, a stale version 412."""
    base = f"/v1/cases/{case_id}/network"
    made = await network.client.post(
        f"{base}/members/{people['ids']['rosa_member']}/commitments",
        json={"text": "Rosa sleeps over on Fridays.", "schedule": "Fridays"},
        headers=people["worker"],
    )
    assert made.status_code == 201, made.text
    assert [c["id"] for c in (await network.client.get(f"{base}/commitments", headers=people["maria"])).json()] == [
        made.json()["id"]
    ]
    url = f"{base}/commitments/{made.json()['id']}/withdrawal"
    reason = {"reason": "Rosa works nights now."}
    assert (await network.client.post(url, json=reason, headers=people["worker"])).status_code == 428
    stale = await network.client.post(url, json=reason, headers={**people["worker"], "If-Match": '"7"'})
    assert stale.status_code == 412
    before = await row_counts(network.database_url)
    refused = await network.client.post(url, json={}, headers={**people["worker"], "If-Match": '"1"'})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason"
    assert await row_counts(network.database_url) == before
    withdrawn = await network.client.post(url, json=reason, headers={**people["worker"], "If-Match": '"1"'})
    assert withdrawn.status_code == 200, withdrawn.text
    body = withdrawn.json()
    assert (body["status"], body["sharing"], body["withdraw_reason"]) == ("withdrawn", "draft", reason["reason"])
    assert (await network.client.get(f"{base}/commitments", headers=people["maria"])).json() == []
    [kept] = (await network.client.get(f"{base}/commitments", headers=people["worker"])).json()
    assert kept["text"] == "Rosa sleeps over on Fridays."
    again = await network.client.post(url, json=reason, headers={**people["worker"], "If-Match": '"2"'})
    assert again.status_code == 409
