"""Three-column maps over HTTP: create, save (each change a new version), read any version, mark complete.

Each `/v1/maps/{map_id}…` path has a case-scoped twin `/v1/cases/{case_id}/maps/{map_id}…` that behaves
the same; the twin is what the gateway's REST façade reaches (it scopes tokens by the case in the path).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.case_view.access import require_record_scope
from sop_assessment.case_view.http import idempotent_create
from sop_assessment.maps.models import AssessmentMap
from sop_assessment.maps.schemas import MapComplete, MapCreate, MapOut, MapSave, MapVersionOut, MapVersionSummary
from sop_assessment.maps.service import (
    MapNotFound,
    complete_map,
    create_map,
    get_version,
    list_maps,
    list_versions,
    map_out,
    save_map,
    version_out,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_case_scope, require_scope
from sop_shared.concurrency import IfMatchVersion, VersionNumber, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep, PageRequest
from sop_shared.policy import Audience, Scope, may_see_unshared
from sop_shared.query_params import known_query_params
from sop_shared.sharing import shown_to

router = APIRouter(prefix="/v1", tags=["maps"])


async def _map_for(
    session: AsyncSession,
    principal: Principal,
    map_id: uuid.UUID,
    scope: Scope,
    case_id: uuid.UUID | None,
    audience: Audience = Audience.staff,
) -> AssessmentMap:
    """The map, if the caller may act on its case; outside the agency only a map with a shared version."""
    the_map = await session.get(AssessmentMap, map_id)
    require_record_scope(principal, the_map, scope, MapNotFound(), path_case_id=case_id)
    assert the_map is not None
    if not shown_to(the_map, audience):
        raise MapNotFound()
    return the_map


@router.post("/cases/{case_id}/maps", status_code=201, response_model=MapOut, dependencies=[known_query_params()])
async def create_case_map(
    case_id: uuid.UUID,
    body: MapCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Start a map (version 1). Its ETag is its version number, for the next save."""
    require_case_scope(principal, case_id, Scope.case_write)
    created: dict[str, MapOut] = {}

    async def create() -> AssessmentMap:
        the_map = await create_map(session, case_id=case_id, body=body, created_by=principal.subject)
        created["out"] = await map_out(session, the_map)
        return the_map

    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="map",
        case_id=case_id,
        create=create,
        render=lambda _: created["out"],
        location=lambda m: f"/v1/maps/{m.id}",
        version=lambda m: m.current_version,
    )


@router.get("/cases/{case_id}/maps", response_model=Page[MapOut], dependencies=[known_query_params("limit", "cursor")])
async def list_case_maps(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
) -> Page[MapOut]:
    """A case's maps, oldest first, each as its current version reads (outside the agency, X-SOP-Audience:
    only maps with a shared version, each as that version reads)."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await list_maps(session, case_id=case_id, page=page, audience=audience)
    await audit_request(request, session, principal, resource="map", action="read", case_id=case_id)
    return Page[MapOut](items=[await map_out(session, row, audience) for row in rows], next_cursor=next_cursor)


# --- one map -------------------------------------------------------------------------------------------


async def _read(
    map_id: uuid.UUID,
    case_id: uuid.UUID | None,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
    audience: Audience,
) -> MapOut:
    the_map = await _map_for(session, principal, map_id, Scope.case_read, case_id, audience)
    await audit_request(
        request, session, principal, resource="map", action="read", case_id=the_map.case_id, resource_id=the_map.id
    )
    set_etag(response, the_map.current_version)
    return await map_out(session, the_map, audience)


@router.get("/maps/{map_id}", response_model=MapOut, dependencies=[known_query_params()])
async def get_map(
    map_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> MapOut:
    """The map as its current version reads (outside the agency: its shared version); the ETag is the current
    version number."""
    return await _read(map_id, None, request, response, session, principal, audience)


@router.get("/cases/{case_id}/maps/{map_id}", response_model=MapOut, dependencies=[known_query_params()])
async def get_case_map(
    case_id: uuid.UUID,
    map_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> MapOut:
    return await _read(map_id, case_id, request, response, session, principal, audience)


async def _save(
    map_id: uuid.UUID,
    case_id: uuid.UUID | None,
    body: MapSave,
    version: int,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
) -> MapOut:
    the_map = await _map_for(session, principal, map_id, Scope.case_write, case_id)
    the_map, saved = await save_map(session, the_map, body, expected_version=version, saved_by=principal.subject)
    await audit_request(
        request,
        session,
        principal,
        resource="map",
        action="update" if saved else "read",
        case_id=the_map.case_id,
        resource_id=the_map.id,
    )
    set_etag(response, the_map.current_version)
    return await map_out(session, the_map)


SAVE_DOC = (
    "Save the whole map as it should now read (If-Match: the version you read). A change becomes the "
    "next version; earlier versions are never touched. A save that changes nothing stores nothing."
)


@router.put("/maps/{map_id}", response_model=MapOut, dependencies=[known_query_params()], description=SAVE_DOC)
async def save(
    map_id: uuid.UUID,
    body: MapSave,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> MapOut:
    return await _save(map_id, None, body, version, request, response, session, principal)


@router.put(
    "/cases/{case_id}/maps/{map_id}", response_model=MapOut, dependencies=[known_query_params()], description=SAVE_DOC
)
async def save_case_map(
    case_id: uuid.UUID,
    map_id: uuid.UUID,
    body: MapSave,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> MapOut:
    return await _save(map_id, case_id, body, version, request, response, session, principal)


async def _complete(
    map_id: uuid.UUID,
    case_id: uuid.UUID | None,
    body: MapComplete | None,
    version: int,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
) -> MapOut:
    the_map = await _map_for(session, principal, map_id, Scope.case_write, case_id)
    reason = body.exception_reason if body is not None else None
    if reason is not None:
        # an exception to the balance rule is a supervisor's decision, recorded as theirs
        require_scope(principal, Scope.approvals_decide)
    the_map = await complete_map(
        session, the_map, expected_version=version, completed_by=principal.subject, exception_reason=reason
    )
    await audit_request(
        request, session, principal, resource="map", action="update", case_id=the_map.case_id, resource_id=the_map.id
    )
    set_etag(response, the_map.current_version)
    return await map_out(session, the_map)


COMPLETE_DOC = (
    "Mark the current version complete (If-Match: that version). The map must be balanced: an active "
    "danger statement in the case, strengths or existing safety on this version and a safety goal — unless "
    "a supervisor (approvals:decide) completes it with an `exception_reason`, kept with who and when (anyone "
    "else giving one: 403). Every active danger statement needs a paired safety goal and at least one "
    "safety-scale rating, exception or not. Otherwise 422 naming each missing piece."
)


@router.post(
    "/maps/{map_id}/complete", response_model=MapOut, dependencies=[known_query_params()], description=COMPLETE_DOC
)
async def complete(
    map_id: uuid.UUID,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: MapComplete | None = None,
) -> MapOut:
    return await _complete(map_id, None, body, version, request, response, session, principal)


@router.post(
    "/cases/{case_id}/maps/{map_id}/complete",
    response_model=MapOut,
    dependencies=[known_query_params()],
    description=COMPLETE_DOC,
)
async def complete_case_map(
    case_id: uuid.UUID,
    map_id: uuid.UUID,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: MapComplete | None = None,
) -> MapOut:
    return await _complete(map_id, case_id, body, version, request, response, session, principal)


# --- versions ------------------------------------------------------------------------------------------


async def _versions(
    map_id: uuid.UUID,
    case_id: uuid.UUID | None,
    request: Request,
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    audience: Audience,
) -> Page[MapVersionSummary]:
    the_map = await _map_for(session, principal, map_id, Scope.case_read, case_id)
    _history_is_the_agencys(audience)
    rows, next_cursor = await list_versions(session, the_map.id, page)
    await audit_request(
        request,
        session,
        principal,
        resource="map_version",
        action="read",
        case_id=the_map.case_id,
        resource_id=the_map.id,
    )
    return Page[MapVersionSummary](
        items=[MapVersionSummary.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/maps/{map_id}/versions",
    response_model=Page[MapVersionSummary],
    dependencies=[known_query_params("limit", "cursor")],
)
async def versions(
    map_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
) -> Page[MapVersionSummary]:
    """Every saved version, oldest first: who saved it, when, and why (the agency's record: 404 for other
    audiences)."""
    return await _versions(map_id, None, request, session, principal, page, audience)


@router.get(
    "/cases/{case_id}/maps/{map_id}/versions",
    response_model=Page[MapVersionSummary],
    dependencies=[known_query_params("limit", "cursor")],
)
async def case_map_versions(
    case_id: uuid.UUID,
    map_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
) -> Page[MapVersionSummary]:
    return await _versions(map_id, case_id, request, session, principal, page, audience)


def _history_is_the_agencys(audience: Audience) -> None:
    """A map's versions are the agency's working record: other audiences read the shared version only, as
    the map itself."""
    if not may_see_unshared(audience):
        raise MapNotFound()


async def _version(
    map_id: uuid.UUID,
    n: VersionNumber,
    case_id: uuid.UUID | None,
    request: Request,
    session: AsyncSession,
    principal: Principal,
    audience: Audience,
) -> MapVersionOut:
    the_map = await _map_for(session, principal, map_id, Scope.case_read, case_id)
    _history_is_the_agencys(audience)
    version = await get_version(session, the_map.id, n)
    await audit_request(
        request,
        session,
        principal,
        resource="map_version",
        action="read",
        case_id=the_map.case_id,
        resource_id=version.id,
    )
    return version_out(version)


@router.get("/maps/{map_id}/versions/{n}", response_model=MapVersionOut, dependencies=[known_query_params()])
async def one_version(
    map_id: uuid.UUID,
    n: VersionNumber,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> MapVersionOut:
    """One version exactly as it was saved (the agency's record: 404 for other audiences)."""
    return await _version(map_id, n, None, request, session, principal, audience)


@router.get(
    "/cases/{case_id}/maps/{map_id}/versions/{n}", response_model=MapVersionOut, dependencies=[known_query_params()]
)
async def case_map_version(
    case_id: uuid.UUID,
    map_id: uuid.UUID,
    n: VersionNumber,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> MapVersionOut:
    return await _version(map_id, n, case_id, request, session, principal, audience)
