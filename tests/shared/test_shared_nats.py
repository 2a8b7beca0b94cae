"""NATS JetStream (a real server): what the relay publishes reaches a durable pull consumer, a re-published
event id is stored once, and independent streams can live on one server side by side."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import pytest
from nats.js.errors import BadRequestError
from sop_shared_support import JetStream

from sop_shared.db import utcnow
from sop_shared.events import Event, NatsJetStreamBus, connect_bus


def event(n: int, subject: str = "sop.test.thing.created") -> Event:
    return Event(
        id=uuid.uuid4(),
        subject=subject,
        occurred_at=utcnow(),
        data={"n": n, "text": "Sofía"},
        case_id=uuid.uuid4() if n % 2 else None,
    )


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_publish_reaches_a_durable_pull_subscription(jetstream: JetStream) -> None:
    bus = await jetstream.bus().connect()
    try:
        await bus.ping()
        received: list[Event] = []

        async def handler(e: Event) -> None:
            received.append(e)

        sub = await bus.subscribe("sop.test.>", "test-durable", handler)
        sent = [event(n) for n in range(5)] + [event(9, "sop.other.thing.created")]
        for e in sent:
            await bus.publish(e)
        await wait_for(lambda: len(received) == 5)
        await asyncio.sleep(0.2)
        assert received == sent[:5]  # same ids, subjects, data and case, in order; the filter holds
        await sub.stop()

        # durable: what is published while nobody listens is delivered when the consumer comes back
        late = event(10)
        await bus.publish(late)
        again: list[Event] = []

        async def handler2(e: Event) -> None:
            again.append(e)

        sub = await bus.subscribe("sop.test.>", "test-durable", handler2)
        await wait_for(lambda: len(again) == 1)
        assert again == [late]
        await sub.stop()
    finally:
        await bus.close()


async def test_a_lone_event_is_handled_at_once_not_when_the_held_pull_request_expires(jetstream: JetStream) -> None:
    """The consumer's pull request is held on the server for two minutes; an event published meanwhile is handled
    when it arrives, not when the request expires, and a backlog behind it is taken in order, each event once."""
    bus = await jetstream.bus(idle_wait_seconds=120).connect()
    try:
        received: list[Event] = []

        async def handler(e: Event) -> None:
            received.append(e)

        sub = await bus.subscribe("sop.test.>", "held-pull", handler)
        await asyncio.sleep(0.3)  # the consumer is waiting in its held pull request
        lone = event(1)
        await bus.publish(lone)
        await wait_for(lambda: len(received) == 1)
        backlog = [event(n) for n in range(2, 180)]
        for e in backlog:
            await bus.publish(e)
        await wait_for(lambda: len(received) == 1 + len(backlog))
        assert received == [lone, *backlog]  # in order, each once
        assert await sub.pending() == 0
        await sub.stop()
    finally:
        await bus.close()


async def test_a_failing_handler_gets_the_message_again(jetstream: JetStream) -> None:
    bus = await jetstream.bus().connect()
    try:
        calls: list[int] = []

        async def handler(e: Event) -> None:
            calls.append(e.data["n"])
            if len(calls) == 1:
                raise RuntimeError("projection down")

        sub = await bus.subscribe("sop.>", "flaky", handler)
        await bus.publish(event(1))
        await wait_for(lambda: len(calls) == 2, timeout=15)
        assert calls == [1, 1]
        await sub.stop()
    finally:
        await bus.close()


async def test_the_same_event_id_twice_is_stored_once(jetstream: JetStream) -> None:
    bus = await jetstream.bus().connect()
    try:
        first, second = event(1), event(2)
        await bus.publish(first)
        await bus.publish(first)  # the relay crashed before marking it published, and published it again
        await bus.publish(second)
        await bus.publish(first)
        assert await jetstream.message_count() == 2
        info = await jetstream.js.stream_info(jetstream.stream)
        assert info.config.duplicate_window == 600
        assert info.config.subjects == [f"{jetstream.namespace}.sop.>"]
    finally:
        await bus.close()


async def test_connect_is_idempotent_and_connect_bus_picks_nats(jetstream: JetStream) -> None:
    one = await jetstream.bus().connect()
    two = await connect_bus(jetstream.url, stream=jetstream.stream, namespace=jetstream.namespace)
    try:
        assert isinstance(two, NatsJetStreamBus)
        await one.publish(event(1))
        await two.publish(event(2))
        assert await jetstream.message_count() == 2
    finally:
        await one.close()
        await two.close()


async def test_two_streams_on_one_server_need_their_own_namespace(jetstream: JetStream) -> None:
    """JetStream refuses overlapping subjects; a namespace keeps independent streams apart."""
    mine = await jetstream.bus().connect()
    clash = NatsJetStreamBus(jetstream.url, stream=jetstream.stream + "_CLASH", namespace=jetstream.namespace)
    with pytest.raises(BadRequestError, match="overlap"):
        await clash.connect()
    await clash.close()

    other_ns = f"{jetstream.namespace}_other"
    other = await NatsJetStreamBus(jetstream.url, stream=jetstream.stream + "_OTHER", namespace=other_ns).connect()
    try:
        await mine.publish(event(1))
        await other.publish(event(2))
        await other.publish(event(3))
        assert await jetstream.message_count() == 1
        assert (await jetstream.js.stream_info(jetstream.stream + "_OTHER")).state.messages == 2
    finally:
        await jetstream.js.delete_stream(jetstream.stream + "_OTHER")
        await mine.close()
        await other.close()


async def test_in_memory_url_gives_the_in_process_bus() -> None:
    from sop_shared.events import InProcessBus

    assert isinstance(await connect_bus("memory://"), InProcessBus)
    with pytest.raises(ValueError, match="unknown events URL"):
        await connect_bus("kafka://somewhere")


def test_a_process_on_nats_over_tcp_imports_no_aiohttp(jetstream: JetStream) -> None:
    # nats-py imports aiohttp (its WebSocket transport) when installed; a service on nats:// never needs it
    # (sop_shared.events.nats_client). In a fresh interpreter, as a served component: connect, publish, read it
    # back; aiohttp was not loaded, and importing it afterwards (as the gateway's service clients do) works.
    script = """
import asyncio, sys, uuid
from sop_shared.db import utcnow
from sop_shared.events import Event, NatsJetStreamBus

async def main() -> None:
    bus = await NatsJetStreamBus(sys.argv[1], stream=sys.argv[2], namespace=sys.argv[3]).connect()
    sent = Event(id=uuid.uuid4(), subject="sop.test.thing.created", occurred_at=utcnow(), data={"n": 1})
    await bus.publish(sent)
    read = await bus.last_event("sop.test.thing.created")
    held = "aiohttp" in sys.modules
    import aiohttp
    await bus.close()
    print(read is not None and read.id == sent.id, held, aiohttp.ClientSession.__name__)

asyncio.run(main())
"""
    argv = [sys.executable, "-c", script, jetstream.url, jetstream.stream, jetstream.namespace]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.split()
    assert out == ["True", "False", "ClientSession"]
