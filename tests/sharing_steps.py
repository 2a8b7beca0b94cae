"""The worker's "ready to share" step, for tests that read a record as the family, their network, a partner or
the court (a record is a draft, read by the agency only, until the worker shares it)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from sop_shared.testing import RunningService

SHARE_REASON = "the family chose these words with the worker"


async def share_at(client: httpx.AsyncClient, url: str, headers: dict[str, str], record: dict[str, Any]) -> Any:
    """Mark the record at `url` (a statement, goal or map as the worker read it) ready to share, with a reason
    in case the check has findings. Returns the record as the worker now reads it."""
    version = record.get("current_version", record.get("version"))
    response = await client.post(
        f"{url}/share", headers={**headers, "If-Match": f'"{version}"'}, json={"reason": SHARE_REASON}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def share(
    svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], path: str, record: dict[str, Any]
) -> dict[str, Any]:
    """`share_at` on the assessment service itself; `path` is "statements", "safety-goals" or "maps"."""
    shared: dict[str, Any] = await share_at(svc.client, f"/v1/cases/{case_id}/{path}/{record['id']}", headers, record)
    return shared
