"""Unknown query parameters are refused (400), never silently ignored: `?stauts=active` must not return
every plan. Every service uses it on every route that reads query parameters."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from sop_shared.auth import CurrentPrincipal
from sop_shared.problems import BadQuery


def known_query_params(*allowed: str) -> Any:
    """A route dependency allowing only `allowed` query parameter names. It depends on the principal so
    that a caller without a valid token still gets 401 first."""
    names = frozenset(allowed)

    async def _check(request: Request, _principal: CurrentPrincipal) -> None:
        unknown = sorted(set(request.query_params.keys()) - names)
        if unknown:
            accepted = ", ".join(sorted(names)) or "none"
            raise BadQuery(
                f"unknown query parameter(s): {', '.join(unknown)}; this endpoint accepts: {accepted}",
                errors=[{"field": name, "message": "unknown query parameter"} for name in unknown],
            )

    return Depends(_check)
