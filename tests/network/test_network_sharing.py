"""What the family chooses their safety network sees beyond the default: Maria chooses as herself, or the worker
records the family's decision; Rosa (the network) may not; the access decision carries the choice to every
service — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sop_shared.db import utcnow
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.testing import RunningService


async def a_harm_statement(network: RunningService, case_id: uuid.UUID) -> str:
    """What the assessment service announces when the worker writes a harm statement on the case."""
    statement_id = new_id()
    await network.bus.publish(
        Event(
            id=new_id(),
            subject="sop.assessment.statement.created",
            occurred_at=utcnow(),
            case_id=case_id,
            data={"case_id": str(case_id), "statement_id": str(statement_id), "kind": "harm", "version": 1},
        )
    )
    return str(statement_id)


@pytest.mark.sqlite_smoke
async def test_maria_chooses_what_her_network_sees_and_the_access_decision_carries_it(
    network: RunningService, members_case: uuid.UUID, people: dict[str, Any], row_counts: Any
) -> None:
    url = f"/v1/cases/{members_case}/network/sharing"
    default = (await network.client.get(url, headers=people["rosa"])).json()
    assert default["version"] == 0 and default["sections"] == [] and default["statement_ids"] == []
    # what the family may open (the agency's supervision records are never the network's: not listed)
    assert set(default["hidden_by_default"]) == {"sdm_levels", "every_rater", "every_rule", "harm_statements"}
    access = (await network.client.get(f"/v1/cases/{members_case}/access", headers=people["rosa"])).json()
    assert access["network_sees"] is None

    harm = await a_harm_statement(network, members_case)
    choice = {"sections": ["every_rater"], "statement_ids": [harm]}
    read = await network.client.get(url, headers=people["maria"])
    assert read.headers["ETag"] == '"0"'  # no choice yet: the default holds
    by_rosa = await network.client.put(url, json=choice, headers={**people["rosa"], "If-Match": '"0"'})
    assert by_rosa.status_code == 403  # the network does not choose what the network sees
    chosen = await network.client.put(url, json=choice, headers={**people["maria"], "If-Match": read.headers["ETag"]})
    assert chosen.status_code == 200, chosen.text
    body = chosen.json()
    assert (body["version"], body["sections"], body["statement_ids"]) == (1, ["every_rater"], [harm])
    assert body["decided_by_person_id"] == people["ids"]["maria"] and chosen.headers["ETag"] == '"1"'
    access = (await network.client.get(f"/v1/cases/{members_case}/access", headers=people["rosa"])).json()
    assert access["network_sees"] == {"sections": ["every_rater"], "statement_ids": [harm]}

    before = await row_counts(network.database_url)
    stale = await network.client.put(url, json=choice, headers={**people["worker"], "If-Match": '"0"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1  # 0 was read; the choice is at 1 now
    missing = await network.client.put(url, json=choice, headers=people["worker"])
    assert missing.status_code == 428  # If-Match, as for every write
    in_body = await network.client.put(
        url, json={**choice, "version": 1}, headers={**people["worker"], "If-Match": '"1"'}
    )
    assert in_body.status_code == 422 and in_body.json()["errors"][0]["field"] == "version"  # no longer in the body
    assert await row_counts(network.database_url) == before
    # the worker records the family's decision (a new version: every rule as well)
    recorded = await network.client.put(
        url, json={"sections": ["every_rater", "every_rule"]}, headers={**people["worker"], "If-Match": '"1"'}
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["decided_by_person_id"] is None and recorded.json()["statement_ids"] == []


async def test_a_choice_naming_what_it_cannot_is_422_naming_the_field(
    network: RunningService, members_case: uuid.UUID, people: dict[str, Any], row_counts: Any
) -> None:
    url = f"/v1/cases/{members_case}/network/sharing"
    before = await row_counts(network.database_url)
    maria = {**people["maria"], "If-Match": '"0"'}
    for body, field in (
        ({"sections": ["everything"]}, "sections.0"),
        ({"sections": ["sdm_levels", "sdm_levels"]}, "sections"),
        ({"sections": ["supervision"]}, "sections.0"),  # the agency's supervision records: never the network's
        ({"statement_ids": [str(uuid.uuid4())]}, "statement_ids.0"),  # no such statement here
        ({"sections": [], "person_id": people["ids"]["maria"]}, "person_id"),
    ):
        refused = await network.client.put(url, json=body, headers=maria)
        assert refused.status_code == 422, (body, refused.text)
        assert field in {e["field"] for e in refused.json()["errors"]}, (body, refused.json())
    other_case = uuid.uuid4()
    theirs = await a_harm_statement(network, other_case)
    refused = await network.client.put(url, json={"statement_ids": [theirs]}, headers=maria)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "statement_ids.0"
    assert await row_counts(network.database_url) == before
