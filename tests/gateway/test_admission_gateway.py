"""The gateway (and every service: `sop_shared.service`) installs admission with its settings: more views at once
than its limit are all answered, by turns (the behaviour itself: tests/shared/test_admission.py)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from sop_shared.admission import Admission

if TYPE_CHECKING:
    from conftest import EmbeddedSystem


@pytest.mark.sqlite_smoke
async def test_the_gateway_serves_views_at_once_beyond_its_limit_by_turns(
    start_system: Any,
) -> None:
    async with start_system(demo_family=True, max_concurrent_requests=1, request_queue_timeout_seconds=60) as system:
        system_: EmbeddedSystem = system
        assert system_.demo_case is not None
        views = await asyncio.gather(*(system_.case_view(system_.demo_case) for _ in range(4)))
    assert all(v["data"]["caseView"]["case"]["recordId"] for v in views)
    assert all(v == views[0] for v in views)
    for app in (system_.gateway, *system_.services.values()):
        installed = [m for m in app.user_middleware if m.cls is Admission]
        assert len(installed) == 1, app.title
    gateway_admission = next(m for m in system_.gateway.user_middleware if m.cls is Admission)
    assert gateway_admission.kwargs == {"limit": 1, "queue_timeout_seconds": 60}
