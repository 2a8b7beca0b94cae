"""A service's sense of time, injectable (`app.state.clock`): expiry, review, overdue and grant rules all ask
the app's clock, so tests (and a replayed incident) can set the time instead of sleeping."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from fastapi import Depends, Request


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until moved (tests, demos of expiry)."""

    current: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.current

    def set(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self.current = value.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.current += delta


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(_clock)]


async def _now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


Now = Annotated[datetime, Depends(_now)]
