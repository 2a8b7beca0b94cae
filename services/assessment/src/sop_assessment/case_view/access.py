"""Reaching a record of a case: the token's case must be the record's case, and a record of another case
answers the same 404 as a missing one. Every domain here uses it for its `/v1/<things>/{id}` paths and
their case-scoped twins `/v1/cases/{case_id}/<things>/{id}` (the twins are what the gateway's REST façade
can reach, because it scopes tokens by the case in the path)."""

from __future__ import annotations

import uuid
from typing import Protocol

from sop_shared.auth import Principal, require_case_scope
from sop_shared.policy import Scope
from sop_shared.problems import NotFound


class CaseRecord(Protocol):
    case_id: uuid.UUID


def require_record_scope(
    principal: Principal,
    record: CaseRecord | None,
    scope: Scope,
    missing: NotFound,
    *,
    path_case_id: uuid.UUID | None = None,
) -> None:
    """Raise `missing` unless the record exists, is in the path's case (when the path names one) and the
    token may act on its case with `scope` (403 stays 403 when the caller can read but not write)."""
    if record is None or (path_case_id is not None and record.case_id != path_case_id):
        raise missing
    try:
        require_case_scope(principal, record.case_id, scope)
    except NotFound:
        raise missing from None
