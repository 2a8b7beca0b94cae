"""Readiness depends on the database only: with NATS down (a real server, stopped) the service stays in
rotation and keeps taking writes into its outbox, while /healthz and the `sop_event_bus_up` gauge tell
operators the bus is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import real_services

from sop_network.component import component
from sop_shared.events import connect_bus
from sop_shared.testing import InternalTokens, RunningService, run_component

UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0001"


@pytest.fixture
async def network_on_its_own_nats(
    postgres_database_url: str, tokens: InternalTokens, tmp_path: Path
) -> AsyncIterator[tuple[RunningService, Any]]:
    server = real_services._NatsServer()  # this test's own server, so stopping it disturbs no other test
    try:
        bus = await connect_bus(server.url, stream=real_services.unique_name("ops"))
        try:
            async with run_component(
                component,
                database_url=postgres_database_url,
                tokens=tokens,
                data_dir=tmp_path,
                bus=bus,
                bus_check_seconds=0.1,
            ) as svc:
                yield svc, server
        finally:
            await bus.close()
    finally:
        server.stop()


async def _bus_down(svc: RunningService) -> dict[str, Any]:
    for _ in range(100):
        health = (await svc.client.get("/healthz")).json()
        if health["checks"]["bus"] != "ok":
            return health  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError("the bus still answers")


async def test_a_nats_outage_keeps_the_service_ready_and_writing_and_shows_in_health_and_metrics(
    network_on_its_own_nats: tuple[RunningService, Any],
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    svc, server = network_on_its_own_nats
    assert (await svc.client.get("/healthz")).json() == {"status": "ok", "checks": {"bus": "ok"}}
    assert 'sop_event_bus_up{component="network"} 1.0' in (await svc.client.get("/metrics")).text
    ready = await svc.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "checks": {"database": "ok"}}

    server.stop()
    health = await _bus_down(svc)
    assert health["status"] == "ok" and health["checks"]["bus"].startswith("unavailable")
    assert 'sop_event_bus_up{component="network"} 0.0' in (await svc.client.get("/metrics")).text
    ready = await svc.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    written = await svc.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    assert written.status_code == 201, written.text  # held in the outbox until the bus is back
