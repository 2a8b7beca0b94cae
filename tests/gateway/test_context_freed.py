"""A request's GraphQL context and its loaders are freed by reference counting alone, with the cyclic collector
off: nothing in them refers back to what holds it. Kept in a reference cycle, a request's loaders, their futures
and the summaries they read would wait for the next cyclic collection, which `GC_GEN0_THRESHOLD` makes rare, and
every replica would hold hundreds of requests' worth of them (docs/performance.md, "Memory per replica")."""

from __future__ import annotations

import gc
import uuid
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sacwis_records import case_record, seed_cases

from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.loaders import CaseLoaders
from sop_shared.auth import Principal
from sop_shared.policy import ActorType

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

WORKER = Principal(
    subject="fsw.rivera",
    actor_type=ActorType.staff,
    roles=frozenset({"worker"}),
    scopes=frozenset({"case:read", "case:write"}),
)


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The cyclic collector off for the test: what is freed is freed by reference counting."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _a_case(system: EmbeddedSystem) -> uuid.UUID:
    (case_id,) = await seed_cases(system, [case_record(1, prefix="FREED")])
    return uuid.UUID(case_id)


async def test_a_requests_loaders_are_freed_by_reference_counting(system: EmbeddedSystem, collector_off: None) -> None:
    case_id = await _a_case(system)
    loaders = CaseLoaders(system.gateway.state.services, WORKER)
    loaders.allow([case_id])
    assessment, plans = await loaders.assessment.load(case_id), await loaders.plans.load(case_id)
    assert assessment is not None and assessment["case_id"] == str(case_id)
    assert plans is not None and plans["case_id"] == str(case_id)
    held = [weakref.ref(loaders), weakref.ref(loaders.assessment), weakref.ref(loaders.plans)]
    del loaders
    assert [ref() for ref in held] == [None, None, None]


async def test_a_requests_context_is_freed_by_reference_counting(system: EmbeddedSystem, collector_off: None) -> None:
    case_id = await _a_case(system)
    state = system.gateway.state
    context = GatewayContext(
        principal=WORKER,
        services=state.services,
        access_cache=state.access_cache,
        database=state.database,
        audit=state.audit,
    )
    context.loaders.allow([case_id])
    assert await context.loaders.plans.load(case_id) is not None
    held = [weakref.ref(context), weakref.ref(context.loaders), weakref.ref(context.loaders.plans)]
    del context
    assert [ref() for ref in held] == [None, None, None]


CASES_PAGE = """query { cases(first: 5) { edges { node { id
  assessmentSummary { activeDangerStatements } planSummary { openAlerts } } } } }"""


async def test_a_graphql_requests_context_is_freed_with_the_request(
    system: EmbeddedSystem, collector_off: None
) -> None:
    """Requests after the first (which may leave what is kept per process: a document's plans) leave no context
    or loaders behind: with the collector off, each would stay if it were in a cycle."""
    await _a_case(system)

    def held() -> int:
        return sum(isinstance(o, (GatewayContext, CaseLoaders)) for o in gc.get_objects())

    first = await system.graphql(CASES_PAGE)
    assert first.status_code == 200, first.text
    before = held()
    for _ in range(3):
        response = await system.graphql(CASES_PAGE)
        assert response.status_code == 200, response.text
        edges = response.json()["data"]["cases"]["edges"]
        assert edges and edges[0]["node"]["planSummary"] is not None  # the loaders were used
    assert held() == before
