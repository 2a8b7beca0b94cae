"""`sop practice rebuild-fidelity` as an operator runs it (issue 15 part 7): a separate process reads the NATS
JetStream stream again, shows a progress bar, replaces the fidelity read model and records the rebuild as a job
(as one started over the API). In embedded mode the events live in the `sop dev` process: it says so."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import real_services
from fidelity_events import case_events
from sqlalchemy import select

from sop_practice.fidelity.models import FidelityRebuild
from sop_practice.fidelity.service import read_model
from sop_shared.db import Database
from sop_shared.events import NatsJetStreamBus
from sop_shared.migrations import upgrade

Run = Callable[..., Any]


async def test_rebuild_from_the_stream_with_a_progress_bar(
    sop: Run, tmp_path: Path, postgres_database_url: str, nats_url: str
) -> None:
    stream, namespace = real_services.unique_name("FIDCLI").upper(), real_services.unique_name("fidcli")
    bus = await NatsJetStreamBus(nats_url, stream=stream, namespace=namespace).connect()
    rng = random.Random(5)
    events = []
    for n in range(8):
        events += case_events(
            uuid.UUID(int=rng.getrandbits(128)),
            rng,
            county="Benton",
            unit="Benton-1",
            worker="fsw.other",
            opened_on=date(2026, 9, 1 + n),
        )
    try:
        for e in events:
            await bus.publish(e)
    finally:
        await bus.close()
    await upgrade("sop_practice", postgres_database_url)
    env = {
        "SOP_PRACTICE_DATABASE_URL": postgres_database_url,
        "SOP_PRACTICE_DATA_DIR": str(tmp_path / "data"),
        "SOP_PRACTICE_EVENTS_URL": nats_url,
        "SOP_PRACTICE_EVENTS_STREAM": stream,
        "SOP_PRACTICE_EVENTS_NAMESPACE": namespace,
    }
    done = sop("practice", "rebuild-fidelity", env=env)
    assert done.returncode == 0, done.stderr
    assert f"{len(events)}/{len(events)}" in done.stderr and "100%" in done.stderr  # the bar, finished
    assert f"{len(events):,} events read, {len(events):,} counted, 8 cases" in done.stdout
    database = Database(postgres_database_url)
    try:
        async with database.session() as session:
            model = await read_model(session)
            [job] = (await session.execute(select(FidelityRebuild))).scalars()
    finally:
        await database.dispose()
    assert len(model) == 8 and {c["county"] for c in model.values()} == {"Benton"}
    assert (job.status, job.events_read, job.events_total, job.requested_by) == (
        "succeeded",
        len(events),
        len(events),
        "sop practice rebuild-fidelity",
    )


def test_in_embedded_mode_it_points_at_the_running_process(sop: Run, tmp_path: Path) -> None:
    refused = sop("practice", "rebuild-fidelity", env={"SOP_PRACTICE_EVENTS_URL": "memory://"})
    assert refused.returncode == 2 and "POST /api/practice/v1/fidelity/rebuilds" in refused.stdout
