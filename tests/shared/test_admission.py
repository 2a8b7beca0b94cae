"""A component works on at most `max_concurrent_requests` requests at once; the others wait in arrival order and,
after `request_queue_timeout_seconds`, are refused 503 problem+json with Retry-After; the probes never wait."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sop_shared.admission import WAIT_LIMIT_HEADER, Admission
from sop_shared.observability import ComponentMetrics


class Held:
    """A toy app whose `/work/<n>` requests stay in progress until released, recording who was let in when."""

    def __init__(self) -> None:
        self.inside: list[str] = []
        self.most_at_once = 0
        self.release = asyncio.Event()
        self.app = Starlette(routes=[Route("/work/{n}", self.work), Route("/healthz", self.probe)])
        self.app.state.metrics = ComponentMetrics.on(CollectorRegistry(), "gateway")

    async def work(self, request: Request) -> PlainTextResponse:
        self.inside.append(request.path_params["n"])
        self.most_at_once = max(self.most_at_once, len(self.inside) - self.finished)
        await self.release.wait()
        self.finished += 1
        return PlainTextResponse("done")

    finished = 0

    async def probe(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("alive")


def client_for(held: Held, *, limit: int, queue_timeout_seconds: float) -> httpx.AsyncClient:
    held.app.add_middleware(Admission, limit=limit, queue_timeout_seconds=queue_timeout_seconds)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=held.app), base_url="http://gateway")


async def until(condition: Any) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_at_most_the_limit_are_in_progress_and_the_others_are_let_in_in_the_order_they_came() -> None:
    held = Held()
    async with client_for(held, limit=2, queue_timeout_seconds=30) as client:
        first = [asyncio.create_task(client.get("/work/0")), asyncio.create_task(client.get("/work/1"))]
        await until(lambda: len(held.inside) == 2)
        later = []
        for n in range(2, 6):  # each one after the previous is surely waiting
            later.append(asyncio.create_task(client.get(f"/work/{n}")))
            await asyncio.sleep(0.02)
        assert held.inside == ["0", "1"]
        assert (await client.get("/healthz")).text == "alive"  # a probe never waits
        gauge = held.app.state.metrics.requests_waiting.labels("gateway")
        assert gauge._value.get() == 4
        held.release.set()
        answers = await asyncio.gather(*first, *later)
    assert [a.status_code for a in answers] == [200] * 6
    assert held.inside == ["0", "1", "2", "3", "4", "5"] and held.most_at_once <= 2
    assert gauge._value.get() == 0


async def test_a_request_that_waited_too_long_is_refused_with_a_problem_and_retry_after() -> None:
    held = Held()
    async with client_for(held, limit=1, queue_timeout_seconds=0.2) as client:
        busy = asyncio.create_task(client.get("/work/0"))
        await until(lambda: held.inside == ["0"])
        refused = await client.get("/work/1")
        held.release.set()
        assert (await busy).status_code == 200
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) >= 1
    body = refused.json()
    assert body["status"] == 503 and body["type"].endswith("/busy")
    assert held.inside == ["0"]  # the refused request never reached the app
    assert held.app.state.metrics.busy_refusals.labels("gateway")._value.get() == 1


async def test_a_request_whose_caller_stopped_waiting_is_refused_where_it_waits_and_never_started() -> None:
    """The gateway waits 10 s for a read; the service's queue timeout is longer. A read still waiting when its caller
    gives up is refused then, instead of being read and answered to nobody when its turn comes."""
    held = Held()
    async with client_for(held, limit=1, queue_timeout_seconds=60) as client:
        busy = asyncio.create_task(client.get("/work/0"))
        await until(lambda: held.inside == ["0"])
        given_up = await asyncio.wait_for(client.get("/work/1", headers={WAIT_LIMIT_HEADER: "200"}), timeout=10)
        unsaid = [  # no wait limit, or not one: the queue timeout alone
            asyncio.create_task(client.get(f"/work/{n}", headers=headers))
            for n, headers in ((2, {WAIT_LIMIT_HEADER: "0"}), (3, {WAIT_LIMIT_HEADER: "soon"}), (4, {}))
        ]
        await asyncio.sleep(0.4)  # longer than the refused one waited
        held.release.set()
        assert (await busy).status_code == 200
        assert [r.status_code for r in await asyncio.gather(*unsaid)] == [200, 200, 200]
    assert given_up.status_code == 503 and given_up.json()["type"].endswith("/busy")
    assert "0.2 s" in given_up.json()["detail"]
    assert held.inside == ["0", "2", "3", "4"]  # the one its caller gave up on never reached the app


async def test_no_limit_lets_every_request_in() -> None:
    held = Held()
    async with client_for(held, limit=0, queue_timeout_seconds=0.1) as client:
        tasks = [asyncio.create_task(client.get(f"/work/{n}")) for n in range(5)]
        await until(lambda: len(held.inside) == 5)
        held.release.set()
        assert [r.status_code for r in await asyncio.gather(*tasks)] == [200] * 5
