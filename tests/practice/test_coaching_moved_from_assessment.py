"""The assessment service's coaching referrals move to the practice service with their history (issue 15, part 3):
the migration announces the referrals made before the move once, the deprecated routes announce every write (and
say they are deprecated), and the practice service keeps each referral once, moving it only forward. Both services
run with their own databases on one event bus, as in `sop dev`."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
import sqlalchemy as sa
from practice_steps import COORDINATOR, staff
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from sop_assessment.component import component as assessment_component
from sop_practice.coaching.models import CoachingReferral
from sop_practice.component import component as practice_component
from sop_shared.db import UTCDateTime
from sop_shared.events import Event, EventBus, InProcessBus, connect_bus
from sop_shared.migrations import upgrade
from sop_shared.testing import InternalTokens, RunningService, run_component

BEFORE_THE_MOVE = "8b2e4c6d1a93"  # the assessment service's head before it announced its referrals
OLD = uuid.UUID("0190a1b2-0000-7000-8000-00000000c0a1")


LEGACY = sa.table(
    "coaching_referral",
    *(sa.column(name, sa.String()) for name in ("worker_subject", "coaching_type", "topic", "notes", "status")),
    *(sa.column(name, sa.String()) for name in ("referred_by",)),
    sa.column("id", sa.Uuid()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


async def _made_before_the_move(url: str) -> None:
    """A referral Ms. Okafor made and scheduled in the assessment service before coaching moved (fictional)."""
    await upgrade(assessment_component.package, url, revision=BEFORE_THE_MOVE)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(LEGACY).values(
                id=OLD,
                worker_subject="fsw.rivera",
                coaching_type="one_on_one",
                topic="Harm statements",
                notes="Asked for it",
                status="scheduled",
                referred_by="sup.okafor",
                version=2,
                created_at=datetime(2026, 10, 1, 9, tzinfo=UTC),
                updated_at=datetime(2026, 10, 3, 9, tzinfo=UTC),
            )
        )
    await engine.dispose()


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """The bus the two services share: in-process (as in `sop dev`) or a private stream on the NATS server."""
    if request.param == "memory":
        yield InProcessBus()
        return
    url = request.getfixturevalue("nats_url")
    name = f"coaching_{uuid.uuid4().hex[:12]}"
    shared = await connect_bus(url, stream=name.upper(), namespace=name)
    try:
        yield shared
    finally:
        await shared.close()
        connection = await nats.connect(url)
        with contextlib.suppress(Exception):
            await connection.jetstream().delete_stream(name.upper())
        await connection.close()


@pytest.fixture
async def both(
    tmp_path: Path, tokens: InternalTokens, database_url: str, bus: EventBus
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    """The assessment service on the test's database (SQLite, PostgreSQL), migrated from before the move; the
    practice service on a SQLite database of its own; both on `bus`."""
    for name in ("practice", "assessment"):
        (tmp_path / name).mkdir()
    assessment_url = database_url
    await _made_before_the_move(assessment_url)
    async with (
        run_component(
            practice_component,
            database_url=f"sqlite+aiosqlite:///{tmp_path}/practice.db",
            tokens=tokens,
            data_dir=tmp_path / "practice",
            bus=bus,
        ) as practice,
        run_component(
            assessment_component, database_url=assessment_url, tokens=tokens, data_dir=tmp_path / "assessment", bus=bus
        ) as assessment,
    ):
        yield practice, assessment


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 5.0) -> Any:
    for _ in range(int(seconds / 0.05)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("not seen in time")


async def practice_referrals(practice: RunningService, tokens: InternalTokens) -> list[dict[str, Any]]:
    answer = await practice.client.get("/v1/coaching-referrals", headers=staff(tokens, *COORDINATOR))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


@pytest.mark.sqlite_smoke
async def test_referrals_made_in_the_assessment_service_appear_in_practice_with_their_history(
    both: tuple[RunningService, RunningService], tokens: InternalTokens
) -> None:
    practice, assessment = both
    # The one made before the move: announced once by the migration, kept with who/when.
    [old] = await eventually(lambda: practice_referrals(practice, tokens))
    assert (old["status"], old["source"], old["moved_from_assessment"]) == ("assigned", "assessment_service", True)
    assert [(h["action"], h["to_status"], h["by"], h["at"][:10]) for h in old["history"]] == [
        ("referred", "referred", "sup.okafor", "2026-10-01"),
        ("moved", "assigned", "sup.okafor", "2026-10-03"),
    ]

    # A client still on the old route: it works, says it is deprecated and where to go, and reaches practice.
    supervisor = tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",), case_id=None)
    made = await assessment.client.post(
        "/v1/coaching-referrals",
        json={"worker_subject": "fsw.lindqvist", "coaching_type": "one_on_one", "topic": "Mapping"},
        headers=supervisor,
    )
    assert made.status_code == 201, made.text
    assert made.headers["deprecation"].startswith("@") and "2027" in made.headers["sunset"]
    assert made.headers["link"] == '</api/practice/v1/coaching-referrals>; rel="successor-version"'

    async def two() -> list[dict[str, Any]] | None:
        found = await practice_referrals(practice, tokens)
        return found if len(found) == 2 else None

    new = next(r for r in await eventually(two) if r["worker_subject"] == "fsw.lindqvist")
    assert (new["status"], new["referred_by"], new["topic"]) == ("referred", "sup.okafor", "Mapping")

    # Moved along there: followed here (forward only); the same announcement twice changes nothing.
    moved = await assessment.client.patch(
        f"/v1/coaching-referrals/{made.json()['id']}",
        json={"status": "cancelled"},
        headers={**supervisor, "If-Match": '"1"'},
    )
    assert moved.status_code == 200 and moved.headers["deprecation"]

    async def closed() -> dict[str, Any] | None:
        found = await practice_referrals(practice, tokens)
        return next((r for r in found if r["id"] == new["id"] and r["status"] == "closed"), None)

    gone = await eventually(closed)
    assert gone["outcome"] == "withdrawn" and [h["action"] for h in gone["history"]] == ["referred", "moved"]
    replay = Event(
        id=uuid.uuid4(),
        subject="sop.assessment.coaching_referral.recorded",
        occurred_at=datetime.now(UTC),
        data={
            "referral_id": made.json()["id"],
            "worker_subject": "fsw.lindqvist",
            "unit": None,
            "coaching_type": "one_on_one",
            "topic": "Mapping",
            "notes": None,
            "status": "requested",
            "referred_by": "sup.okafor",
            "version": 1,
            "created_at": made.json()["created_at"],
            "updated_at": made.json()["updated_at"],
        },
    )
    same_again = Event(  # the version applied already, announced again (a replayed stream)
        id=uuid.uuid4(),
        subject=replay.subject,
        occurred_at=replay.occurred_at,
        data={**replay.data, "status": "cancelled", "version": 2},
    )
    for event in (replay, same_again):
        await practice.bus.publish(event)
    await asyncio.sleep(0.2)
    async with practice.app.state.database.session() as session:
        rows = list((await session.execute(select(CoachingReferral))).scalars())
    assert len(rows) == 2
    kept = next(r for r in rows if r.legacy_id == uuid.UUID(made.json()["id"]))
    assert (kept.status, kept.version, kept.legacy_version) == ("closed", gone["version"], 2)
