"""The SACWIS (CHRIS) batch: a nightly sync sends the whole state through here, a page of records at a time."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sop_network.sacwis.service import apply_batch
from sop_network.schemas import SacwisBatchIn, SacwisBatchOut
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_scope
from sop_shared.db import SessionDep
from sop_shared.policy import Scope
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["sacwis"])
SACWIS_BATCH_PATH = "/v1/sacwis/batch"  # its body limit is its own (NetworkSettings.sacwis_batch_max_bytes)


@router.post("/sacwis/batch", response_model=SacwisBatchOut, dependencies=[known_query_params()])
async def sacwis_batch(
    body: SacwisBatchIn, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> SacwisBatchOut:
    """Up to 2,000 case and person records, each upserted by external id (idempotent: a replay changes
    nothing). Each record gets its own result; a bad record is reported (`invalid`, `conflict`, `failed`)
    and never half-written, the others are applied. A malformed envelope is a 422 with nothing written."""
    require_scope(principal, Scope.cases_sync)
    results = await apply_batch(session, body.system, body.records)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    # One audit record per batch (its counts); each case change is in the change log and on the bus.
    await audit_request(
        request,
        session,
        principal,
        resource="sacwis_batch",
        action="update",
        fields=[f"{k}:{v}" for k, v in sorted(counts.items())],
    )
    return SacwisBatchOut(counts=counts, results=results)
