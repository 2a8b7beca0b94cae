"""The service's clock, injectable for tests (`app.state.clock`): grant expiry is decided against it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from sop_shared.db import utcnow


def clock_of(request: Request) -> Callable[[], datetime]:
    return getattr(request.app.state, "clock", None) or utcnow


def _now(request: Request) -> datetime:
    return clock_of(request)()


Now = Annotated[datetime, Depends(_now)]
