"""Fixtures for the sop_shared tests: a real database with the platform tables, and a private JetStream
stream (its own name and subject namespace, deleted afterwards) on the suite's NATS server."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from real_services import unique_name

# The test modules here import their helpers (sop_shared_support) by name, whatever --import-mode is used.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from sop_shared_support import JetStream, PlatformDatabase, open_platform_database  # noqa: E402


@pytest.fixture
async def platform_db(database_url: str) -> AsyncIterator[PlatformDatabase]:
    pdb = await open_platform_database(database_url)
    yield pdb
    await pdb.database.dispose()


@pytest.fixture
async def jetstream(nats_url: str) -> AsyncIterator[JetStream]:
    nc = await nats.connect(nats_url)
    stream = JetStream(nats_url, unique_name("sop_test").upper(), unique_name("ns"), nc.jetstream())
    try:
        yield stream
    finally:
        with contextlib.suppress(Exception):  # the test may never have created it
            await stream.js.delete_stream(stream.stream)
        await nc.close()
