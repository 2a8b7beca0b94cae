"""Domain events and the bus: an in-process implementation (embedded mode) and NATS JetStream (distributed).

Subjects are `sop.<service>.<entity>.<event>`. Every event carries its id; JetStream de-duplicates
re-publishes by that id (Nats-Msg-Id) and consumers de-duplicate by it too, so delivery is effectively once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Protocol

import structlog

from sop_shared.tracing import consume_span, publish_span

log = structlog.get_logger("sop.events")


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    subject: str
    occurred_at: datetime
    data: dict[str, Any]
    case_id: uuid.UUID | None = None
    # The producing write's trace context (sop_shared.tracing): sent in the message's headers, not its body.
    trace_context: str | None = field(default=None, compare=False)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "id": str(self.id),
                "subject": self.subject,
                "occurred_at": self.occurred_at.isoformat(),
                "case_id": str(self.case_id) if self.case_id else None,
                "data": self.data,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Event:
        body = json.loads(raw)
        return cls(
            id=uuid.UUID(body["id"]),
            subject=body["subject"],
            occurred_at=datetime.fromisoformat(body["occurred_at"]),
            case_id=uuid.UUID(body["case_id"]) if body.get("case_id") else None,
            data=body["data"],
        )


Handler = Callable[[Event], Awaitable[None]]
# A replay's handler gets each event with its position in the stream; the progress callback (seen, total) is
# called as the replay goes (total: the stream's messages from the start position on, where the bus knows it).
ReplayHandler = Callable[[Event, int], Awaitable[None]]
Progress = Callable[[int, int | None], None]


class Subscription(Protocol):
    async def stop(self) -> None: ...


class EventBus(Protocol):
    async def publish(self, event: Event) -> None: ...
    async def subscribe(self, subject: str, durable: str, handler: Handler) -> Subscription: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...
    async def replay(
        self, subjects: Sequence[str], handler: ReplayHandler, *, after: int = 0, progress: Progress | None = None
    ) -> int:
        """Read the stream again from position `after` + 1 up to its end now, handing `handler` the events on
        `subjects` (NATS wildcards) in stream order; returns the last position read (to continue from)."""
        ...


def subject_filter(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Whether a subject matches any of `patterns` (NATS wildcards), with exact subjects looked up in a set: a
    replay asks it of every message in the stream."""
    exact = frozenset(p for p in patterns if "*" not in p and ">" not in p)
    wild = [p for p in patterns if p not in exact]

    def matches(subject: str) -> bool:
        return subject in exact or any(_nats_match(pattern, subject) for pattern in wild)

    return matches


class HistoryLost(RuntimeError):
    """A replay asked for events the bus no longer holds."""


class EventArchive(Protocol):
    """Where every event a component has published is kept (its outbox: `sop_shared.outbox.OutboxArchive`)."""

    async def published(self) -> list[tuple[datetime, uuid.UUID, Event]]:
        """Every event published so far, each with when it was published and its id (the order of a stream)."""
        ...


def _nats_match(pattern: str, subject: str) -> bool:
    """NATS wildcards: `*` one token, `>` the rest."""
    p_tokens, s_tokens = pattern.split("."), subject.split(".")
    for i, token in enumerate(p_tokens):
        if token == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens) or (token != "*" and not fnmatch.fnmatchcase(s_tokens[i], token)):
            return False
    return len(p_tokens) == len(s_tokens)


@dataclass
class _InProcessSubscription:
    bus: InProcessBus
    subject: str
    handler: Handler
    durable: str = ""

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.bus.subscriptions.remove(self)


@dataclass
class InProcessBus:
    """For one process (embedded mode, unit tests): handlers run in the publisher's task; a failing handler
    fails the publish, so the relay retries and nothing is lost."""

    subscriptions: list[_InProcessSubscription] = field(default_factory=list)
    published: list[Event] = field(default_factory=list)
    keep_history: int = 1000
    published_total: int = 0  # every event ever published: the last one's position in the "stream"
    # The components' outboxes, once they run on this bus: a replay reads the whole history from them, so an
    # embedded system replays everything (a rebuild of a read model) however long ago it was published.
    archives: dict[str, EventArchive] = field(default_factory=dict)
    published_times: list[datetime] = field(default_factory=list)  # when each event in `published` came

    async def publish(self, event: Event) -> None:
        self.published.append(event)
        self.published_times.append(datetime.now(UTC))
        self.published_total += 1
        del self.published[: -self.keep_history]
        del self.published_times[: -self.keep_history]
        with publish_span(event.subject, str(event.id), event.trace_context) as headers:
            for sub in list(self.subscriptions):
                if _nats_match(sub.subject, event.subject):
                    with consume_span(event.subject, str(event.id), sub.durable, headers):
                        await sub.handler(event)

    async def subscribe(self, subject: str, durable: str, handler: Handler) -> Subscription:
        sub = _InProcessSubscription(self, subject, handler, durable)
        self.subscriptions.append(sub)
        return sub

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self.subscriptions.clear()

    async def last_event(self, subject: str) -> Event | None:
        """The newest event published on `subject` still in the history (e.g. the newest audit checkpoint)."""
        return next((e for e in reversed(self.published) if e.subject == subject), None)

    async def replay(
        self, subjects: Sequence[str], handler: ReplayHandler, *, after: int = 0, progress: Progress | None = None
    ) -> int:
        """The whole history, from the archives (the outboxes of the components running on this bus) and what
        reached the bus otherwise while it is still in memory, in the order the events were published; without
        archives, the history this bus still keeps (`keep_history`
        events), refused when events after `after` have left it: a replay without them would be wrong, not
        short."""
        if self.archives:
            return await self._replay_archived(subjects, handler, after=after, progress=progress)
        wanted = subject_filter(subjects)
        end = max(self.published_total, len(self.published))
        first = end - len(self.published) + 1  # the position of published[0]
        if first - 1 > after:
            raise HistoryLost(
                f"the in-process bus keeps only its last {self.keep_history} events; "
                f"{first - 1 - after} to replay are gone (run on NATS JetStream to replay everything)"
            )
        events = list(self.published)
        total, seen = max(0, end - max(after, first - 1)), 0
        for position, event in enumerate(events, start=first):
            if position <= after:
                continue
            if wanted(event.subject):
                await handler(event, position)
            seen += 1
            if progress is not None and (seen % 1000 == 0 or position == end):
                progress(seen, total)
        if progress is not None:
            progress(seen, total)
        return max(end, after)

    async def _replay_archived(
        self, subjects: Sequence[str], handler: ReplayHandler, *, after: int, progress: Progress | None
    ) -> int:
        wanted = subject_filter(subjects)
        archived = [entry for archive in list(self.archives.values()) for entry in await archive.published()]
        # and what reached the bus some other way (or is being recorded as published right now), while in memory
        kept = {event_id for _, event_id, _ in archived}
        archived += [
            (at, event.id, event)
            for at, event in zip(self.published_times, self.published, strict=False)
            if event.id not in kept
        ]
        archived.sort(key=lambda entry: (entry[0], entry[1]))
        end, seen = len(archived), 0
        for position, (_, _, event) in enumerate(archived[after:], start=after + 1):
            if wanted(event.subject):
                await handler(event, position)
            seen += 1
            if progress is not None and seen % 1000 == 0:
                progress(seen, end - after)
        if progress is not None:
            progress(seen, max(0, end - after))
        return max(end, after)


# After a first event, a consumer takes what else is waiting this many at a time; a pull that finds nothing more
# gives up after CATCH_UP_WAIT_SECONDS (it asks with no_wait first, so a backlog is never waited for).
CATCH_UP_BATCH = 50
CATCH_UP_WAIT_SECONDS = 0.05


def nats_client(url: str) -> ModuleType:
    """nats-py, imported without aiohttp unless `url` is NATS over WebSocket (ws://, wss://). nats-py imports
    aiohttp, for its WebSocket transport only, whenever aiohttp is installed; the components connect over TCP
    (nats://), and a service uses aiohttp nowhere else: aiohttp with yarl, multidict and their C extensions is
    about 9 MB of every service replica (docs/performance.md, "Memory per replica"). aiohttp is hidden only
    while nats-py is first imported and nothing has imported aiohttp yet, so importing it afterwards (the
    gateway's clients of the services) is unaffected; nats-py then has no WebSocket transport in that process."""
    if "nats" not in sys.modules and "aiohttp" not in sys.modules and "ws://" not in url and "wss://" not in url:
        sys.modules["aiohttp"] = None  # type: ignore[assignment]  # `import aiohttp` raises ImportError
        try:
            import nats.aio.transport  # its `try: import aiohttp` is the one it makes
        finally:
            del sys.modules["aiohttp"]
    import nats

    return nats


class NatsJetStreamBus:
    """NATS JetStream: one stream (default `SOP`) holding `sop.>`; publishes wait for the server's ack.

    `namespace` (empty by default) prefixes every subject on the wire, and the stream binds
    `<namespace>.sop.>` instead of `sop.>`: JetStream refuses two streams whose subjects overlap, so
    several independent streams on one server (parallel test runs, several environments) each need their
    own namespace. Events keep their plain `sop.…` subject; only the wire subject carries the prefix.
    """

    def __init__(
        self,
        url: str,
        *,
        stream: str = "SOP",
        duplicate_window_seconds: float = 600,
        namespace: str = "",
        idle_wait_seconds: float = 5.0,
    ) -> None:
        self.url, self.stream, self.duplicate_window = url, stream, duplicate_window_seconds
        self.idle_wait_seconds = idle_wait_seconds
        self.namespace = namespace.strip(".")
        self._nc: Any = None
        self._js: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    def wire_subject(self, subject: str) -> str:
        return f"{self.namespace}.{subject}" if self.namespace else subject

    async def connect(self) -> NatsJetStreamBus:
        nats = nats_client(self.url)
        from nats.js.api import StreamConfig
        from nats.js.errors import BadRequestError, NotFoundError

        self._nc = await nats.connect(self.url, name="sop", connect_timeout=5, max_reconnect_attempts=-1)
        self._js = self._nc.jetstream()
        config = StreamConfig(
            name=self.stream, subjects=[self.wire_subject("sop.>")], duplicate_window=self.duplicate_window
        )
        try:
            await self._js.add_stream(config)
        except BadRequestError as exc:
            # The stream exists (update it), or the subjects overlap another stream's (say so, rather
            # than the "stream not found" the update would report).
            try:
                await self._js.update_stream(config)
            except NotFoundError:
                raise exc from None
        return self

    async def publish(self, event: Event) -> None:
        with publish_span(event.subject, str(event.id), event.trace_context) as trace_headers:
            await self._js.publish(
                self.wire_subject(event.subject),
                event.to_json(),
                stream=self.stream,
                headers={"Nats-Msg-Id": str(event.id), **trace_headers},
            )

    async def subscribe(self, subject: str, durable: str, handler: Handler) -> Subscription:
        psub = await self._js.pull_subscribe(self.wire_subject(subject), durable=durable, stream=self.stream)
        task = asyncio.create_task(self._consume(psub, handler, durable), name=f"nats-consumer-{durable}")
        self._tasks.append(task)
        return _NatsSubscription(psub, task)

    async def _consume(self, psub: Any, handler: Handler, durable: str) -> None:
        """Wait for the next event with one pull request of one message that the server holds for
        `idle_wait_seconds` and answers as soon as an event comes; then take what else is waiting in batches.

        An idle consumer asked the server every second before (`fetch(50, timeout=1)`): 3 to 6 ms of CPU a second
        for a service's 8 consumers, now about 1 ms. A pull of one message returns with the first event whatever the
        server's rules for a batch pull, and the time a pull request is held also bounds how long a consumer waits
        after a reconnect lost its request on the server."""
        from nats.errors import TimeoutError as NatsTimeout

        waiting_for_the_next = True
        while True:
            try:
                if waiting_for_the_next:
                    messages = await psub.fetch(1, timeout=self.idle_wait_seconds)
                else:
                    messages = await psub.fetch(CATCH_UP_BATCH, timeout=CATCH_UP_WAIT_SECONDS)
            except NatsTimeout:
                waiting_for_the_next = True  # nothing more is waiting: back to one held pull request
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection blips: log and keep consuming
                log.warning("nats_fetch_failed", error=str(exc))
                await asyncio.sleep(0.5)
                waiting_for_the_next = True
                continue
            waiting_for_the_next = False
            for msg in messages:
                try:
                    event = Event.from_json(msg.data)
                    with consume_span(event.subject, str(event.id), durable, msg.headers):
                        await handler(event)
                except Exception as exc:
                    log.warning("event_handler_failed", subject=msg.subject, error=str(exc))
                    await msg.nak(delay=1)
                else:
                    await msg.ack()

    async def last_event(self, subject: str) -> Event | None:
        """The newest message the stream holds on `subject` (e.g. the newest audit checkpoint), or None."""
        from nats.js.errors import NotFoundError

        try:
            msg = await self._js.get_last_msg(self.stream, self.wire_subject(subject))
        except NotFoundError:
            return None
        return Event.from_json(msg.data)

    async def replay(
        self, subjects: Sequence[str], handler: ReplayHandler, *, after: int = 0, progress: Progress | None = None
    ) -> int:
        """An ordered push consumer (ephemeral, flow-controlled, acks off: it only reads) from stream sequence
        `after` + 1 to the stream's last sequence now; events published meanwhile are left to the next replay,
        from the position returned. (A pull consumer read about 9,000 messages a second here, this one 21,000.)"""
        from nats.js.api import ConsumerConfig, DeliverPolicy

        wanted = subject_filter(subjects)
        state = (await self._js.stream_info(self.stream)).state
        last = int(state.last_seq or 0)
        if last <= after or not state.messages:
            return max(after, last)
        start = max(after + 1, int(state.first_seq or 1))
        total = last - start + 1
        read = {"seen": 0, "position": start - 1}
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        prefix = f"{self.namespace}." if self.namespace else ""

        async def on_message(msg: Any) -> None:
            if finished.done():
                return
            try:
                position = int(msg.metadata.sequence.stream)
                if position <= last:
                    read["seen"] += 1
                    read["position"] = position
                    subject = msg.subject[len(prefix) :] if prefix and msg.subject.startswith(prefix) else msg.subject
                    if wanted(subject):
                        await handler(Event.from_json(msg.data), position)
                    if progress is not None and (read["seen"] % 1000 == 0 or position >= last):
                        progress(read["seen"], total)
                if position >= last:
                    finished.set_result(None)
            except Exception as exc:
                if not finished.done():
                    finished.set_exception(exc)

        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
        sub = await self._js.subscribe(
            self.wire_subject("sop.>"), stream=self.stream, cb=on_message, ordered_consumer=True, config=config
        )
        try:
            while not finished.done():
                before = read["seen"]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(finished), timeout=10)
                if not finished.done() and read["seen"] == before:
                    break  # nothing for 10 s: the rest was removed from the stream meanwhile
            if finished.done():
                finished.result()  # a handler's failure is the replay's
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        return max(read["position"], after)

    async def ping(self) -> None:
        if self._nc is None or not self._nc.is_connected:
            raise ConnectionError("NATS is not connected")
        await self._nc.flush(timeout=2)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()


@dataclass
class _NatsSubscription:
    psub: Any
    task: asyncio.Task[None]

    async def pending(self) -> int:
        """Messages on the stream this durable consumer has not yet acknowledged (delivered or not)."""
        info = await self.psub.consumer_info()
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        with contextlib.suppress(Exception):
            await self.psub.unsubscribe()


async def connect_bus(url: str, *, stream: str = "SOP", namespace: str = "") -> EventBus:
    if url.startswith("memory://"):
        return InProcessBus()
    if url.startswith(("nats://", "tls://")):
        return await NatsJetStreamBus(url, stream=stream, namespace=namespace).connect()
    raise ValueError(f"unknown events URL {url!r}: use memory:// or nats://host:port")
