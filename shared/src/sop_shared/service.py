"""Building a backend service app: the same anatomy for network, assessment and plans.

`build_service_app` wires database, bus, outbox relay, internal-token verification, problem+json,
request context, the input policy, /healthz, /readyz and /metrics; the service adds its routers. Nothing runs at import.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.admission import install_admission
from sop_shared.audit import AuditWriter, running_audit_trail
from sop_shared.audit_api import router as audit_router
from sop_shared.auth import InternalTokenVerifier
from sop_shared.case_refs import CaseEntityFeed, CaseRefResolvers, CaseRefsDep, KnownEntities
from sop_shared.clock import SystemClock
from sop_shared.db import Database
from sop_shared.events import Event, EventBus, InProcessBus, connect_bus
from sop_shared.input_policy import install_input_policy
from sop_shared.keys import ensure_keys, load_jwks
from sop_shared.observability import configure_logging, install_request_context
from sop_shared.openapi import INTERNAL_TOKEN, install_openapi_conventions, operation_id
from sop_shared.outbox import OutboxArchive, OutboxRelay, idempotent_consumer
from sop_shared.platform_tables import PlatformTables
from sop_shared.problems import install_problem_handlers
from sop_shared.response_headers import install_head_as_get, install_response_headers
from sop_shared.route_index import install_route_index
from sop_shared.runtime import tune_gc_after_startup
from sop_shared.settings import ServiceSettings
from sop_shared.tracing import TracedFastAPI, configure_tracing

BackgroundTask = Callable[[FastAPI, asyncio.Event], Coroutine[Any, Any, None]]  # run with asyncio.create_task


@dataclass(frozen=True)
class EventConsumer:
    """Another service's events this service acts on: `apply(app, session, event)` runs once per event id,
    in one transaction with the record that it was processed (`idempotent_consumer`)."""

    subject: str
    durable: str
    apply: Callable[[FastAPI, AsyncSession, Event], Awaitable[None]]


def build_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    platform: PlatformTables,
    routers: Sequence[APIRouter],
    bus: EventBus | None = None,
    background: Sequence[BackgroundTask] = (),
    on_start: Sequence[Callable[[FastAPI], Awaitable[None]]] = (),
    consumers: Sequence[EventConsumer] = (),
    case_refs: CaseRefResolvers | None = None,
    known_entities: KnownEntities | None = None,
    entity_feeds: Sequence[CaseEntityFeed] = (),
    larger_bodies: Mapping[str, int] | None = None,
) -> FastAPI:
    """A FastAPI app for one service. Pass `bus` to share an in-process bus (embedded mode); `background`
    tasks run for the app's life and get a stop event; `on_start` hooks are awaited once the database and the
    bus are there, before the app serves (they must not fail the start: log and carry on); `consumers`
    subscribe to other services' events.
    `case_refs` resolves the references request bodies carry (checked on every route, see `case_refs`);
    `entity_feeds` keep `known_entities` (other services' records) from their events; `larger_bodies` lets
    the named paths take bodies beyond `max_request_bytes` (the input policy)."""
    consumers = [*consumers, *_entity_feed_consumers(settings.component, known_entities, entity_feeds)]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_json)
        database = Database.for_component(settings)
        if settings.is_development and settings.internal_jwks_file is None:
            ensure_keys(settings.keys_dir())
        app.state.token_verifier = InternalTokenVerifier(
            load_jwks(settings.resolved_internal_jwks_file()),
            audience=settings.component,
            issuer=settings.internal_token_issuer,
        )
        owns_bus = bus is None
        app.state.bus = (
            bus
            if bus is not None
            else await connect_bus(
                settings.events_url, stream=settings.events_stream, namespace=settings.events_namespace
            )
        )
        app.state.database = database
        audit_trail = contextlib.AsyncExitStack()  # keyed audit writer and its checkpoints (sop_shared.audit)
        await audit_trail.enter_async_context(running_audit_trail(app, settings, database, platform, app.state.bus))
        relay = OutboxRelay(
            database,
            platform,
            app.state.bus,
            interval_seconds=settings.relay_interval_seconds,
            metrics=app.state.metrics,
        )
        app.state.relay = relay
        if isinstance(app.state.bus, InProcessBus):  # embedded: the bus replays this component's outbox too
            app.state.bus.archives[settings.component] = OutboxArchive(database, platform)
        stop = asyncio.Event()
        relay_task = (
            asyncio.create_task(relay.run(stop), name=f"{settings.component}-outbox-relay")
            if settings.relay_enabled
            else None
        )
        tasks = [
            asyncio.create_task(task(app, stop), name=f"{settings.component}-{getattr(task, '__name__', 'task')}")
            for task in (watch_bus, *background)
        ]
        for hook in on_start:
            await hook(app)
        subscriptions = []
        for consumer in consumers:

            async def apply(session: AsyncSession, event: Event, consumer: EventConsumer = consumer) -> None:
                await consumer.apply(app, session, event)

            handler = idempotent_consumer(database, platform, consumer.durable, apply)
            subscriptions.append(await app.state.bus.subscribe(consumer.subject, consumer.durable, handler))
        app.state.consumers = dict(zip([c.durable for c in consumers], subscriptions, strict=True))
        tune_gc_after_startup(settings)
        try:
            yield
        finally:
            stop.set()
            for subscription in subscriptions:
                await subscription.stop()
            for task in [t for t in (relay_task, *tasks) if t is not None]:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await audit_trail.aclose()
            if isinstance(app.state.bus, InProcessBus):
                app.state.bus.archives.pop(settings.component, None)
            if owns_bus:
                await app.state.bus.close()
            await database.dispose()

    # Every route, including those a service adds after this, checks its body's case references.
    configure_tracing(settings)
    app = TracedFastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        dependencies=[CaseRefsDep],
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.clock = SystemClock()  # tests replace it with a FixedClock
    app.state.platform = platform
    app.state.audit = AuditWriter(platform)
    install_problem_handlers(app)
    install_input_policy(
        app,
        max_body_bytes=settings.max_request_bytes,
        max_json_depth=settings.max_json_depth,
        larger_bodies=larger_bodies,
    )
    install_admission(app, settings)
    install_request_context(app, settings.component)
    install_health(app)
    install_response_headers(app)
    install_openapi_conventions(app, INTERNAL_TOKEN, INTERNAL_TOKEN)
    install_head_as_get(app)
    app.state.case_refs = case_refs
    app.state.known_entities = known_entities
    app.include_router(audit_router)
    for router in routers:
        app.include_router(router)
    install_route_index(app)  # FastAPI's routing over the routes that can match a path (routes added later too)
    return app


def _entity_feed_consumers(
    component: str, known: KnownEntities | None, feeds: Sequence[CaseEntityFeed]
) -> list[EventConsumer]:
    if known is None:
        return []

    def consumer(feed: CaseEntityFeed) -> EventConsumer:
        async def apply(app: FastAPI, session: AsyncSession, event: Event) -> None:
            await known.record(session, feed, event)

        durable = f"{component}-knows-{feed.kind}-" + feed.subject.replace(".", "-").replace("*", "any")
        return EventConsumer(feed.subject, durable.replace(">", "all")[:100], apply)

    return [consumer(feed) for feed in feeds]


PROBE_TIMEOUT_SECONDS = 3.0


def install_health(app: FastAPI) -> None:
    """`/healthz` (liveness: the process answers; the event bus's state as detail) and `/readyz` (readiness:
    the database answers). Readiness leaves the bus out on purpose: writes go to the outbox in the same
    transaction and the relay publishes them once the bus is back, so a NATS outage must not take every pod
    out of rotation. The bus's state is also the gauge `sop_event_bus_up` (1 or 0) on /metrics."""
    registry = getattr(app.state, "metrics_registry", None)
    bus_up = (
        Gauge(
            "sop_event_bus_up", "1 when the event bus answered the last ping, else 0", ["component"], registry=registry
        )
        if registry is not None
        else None
    )
    component = getattr(getattr(app.state, "settings", None), "component", "component")

    async def check_bus() -> str:
        try:
            await asyncio.wait_for(app.state.bus.ping(), timeout=PROBE_TIMEOUT_SECONDS)
            state = "ok"
        except Exception as exc:
            state = f"unavailable: {type(exc).__name__}"
        if bus_up is not None:
            bus_up.labels(component).set(1 if state == "ok" else 0)
        app.state.bus_last_state = state
        return state

    app.state.check_bus = check_bus
    app.state.bus_last_state = None

    @app.get("/healthz", tags=["operations"], summary="The process is alive (with the event bus's state)")
    async def healthz() -> dict[str, Any]:
        # The liveness probe never waits on the bus: a NATS outage must not restart pods. The state is the one
        # `watch_bus` saw last (a component without that watcher pings here).
        state = app.state.bus_last_state or await check_bus()
        return {"status": "ok", "checks": {"bus": state}}

    @app.get("/readyz", tags=["operations"], summary="The database is reachable")
    async def readyz() -> JSONResponse:
        try:
            await asyncio.wait_for(app.state.database.ping(), timeout=PROBE_TIMEOUT_SECONDS)
            database = "ok"
        except Exception as exc:
            database = f"unavailable: {type(exc).__name__}"
        ready = database == "ok"
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": {"database": database}},
            status_code=200 if ready else 503,
        )


async def watch_bus(app: FastAPI, stop: asyncio.Event) -> None:
    """Ping the event bus every `bus_check_seconds`: /healthz and the `sop_event_bus_up` gauge report what it
    saw last, so neither a probe nor a scrape waits on a ping."""
    while not stop.is_set():
        await app.state.check_bus()
        await measure_consumers(app)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=app.state.settings.bus_check_seconds)


async def measure_consumers(app: FastAPI) -> None:
    """Each event consumer's backlog on the stream (`sop_event_consumer_pending`), where the bus knows it."""
    metrics = app.state.metrics
    for durable, subscription in getattr(app.state, "consumers", {}).items():
        pending = getattr(subscription, "pending", None)
        if pending is None:
            continue
        try:
            metrics.consumer_pending.labels(metrics.component, durable).set(await pending())
        except Exception as exc:  # the bus is down: sop_event_bus_up says so
            structlog.get_logger("sop.events").debug("consumer_pending_unknown", consumer=durable, error=str(exc))


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run an app's lifespan without a server (embedded mode and tests use ASGI transports)."""
    async with app.router.lifespan_context(app):
        yield app


def state(app: FastAPI, name: str) -> Any:
    return getattr(app.state, name)
