"""Rate limits at the edge: fixed windows per partner API token and per integration client, and a separate
window for wrong client secrets at `/oauth/token` per client and source address (so an attacker guessing a
secret spends neither the real client's API budget nor its ability to get a token).

The `limits` library's async fixed-window strategy does the counting. Its storage is in this process by
default, or Redis when `SOP_GATEWAY_REDIS_URL` is set (`redis://` or, with TLS, `rediss://`), so that every
gateway replica counts against the same window; the Redis client is `redis`' asyncio client with its
connection pool, imported only when a URL is set (the `redis` package alone is some 20 MB of a replica's memory).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

from sop_shared.auth import Principal
from sop_shared.policy import ActorType
from sop_shared.problems import Problem

if TYPE_CHECKING:
    import redis.asyncio

REDIS_KEY_PREFIX = "sop-rl"
REDIS_TIMEOUT_SECONDS = 2.0


class TooManyRequests(Problem):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail or f"rate limit reached; retry in {retry_after} s", retry_after=retry_after)
        self.retry_after = retry_after


def storage_for(redis_url: str, *, timeout: float = REDIS_TIMEOUT_SECONDS) -> Storage:
    """This process's counters without a URL; Redis (a pool of connections, TLS for `rediss://`) with one.
    Storage errors surface as `limits.errors.StorageError`, on which the edge fails open."""
    if not redis_url:
        return MemoryStorage()
    if urlsplit(redis_url).scheme not in ("redis", "rediss"):
        raise ValueError("SOP_GATEWAY_REDIS_URL must be redis://host:port[/db] or rediss://host:port[/db]")
    return RedisStorage(
        f"async+{redis_url}",
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix=REDIS_KEY_PREFIX,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )


async def close_storage(storage: Storage) -> None:
    if not isinstance(storage, RedisStorage):
        return
    from limits.aio.storage.redis.redispy import RedispyBridge

    if isinstance(storage.bridge, RedispyBridge):
        client: redis.asyncio.Redis = storage.bridge.storage
        await client.aclose()  # and its connection pool


@dataclass
class EdgeRateLimits:
    """Which window a principal counts against: its API token (partners) or its client (integrations).
    Staff signed in through the state's identity provider are not limited here."""

    limiter: FixedWindowRateLimiter
    per_token: RateLimitItem | None
    per_client: RateLimitItem | None
    failed_secrets: RateLimitItem | None = None
    clock: Callable[[], float] = time.time

    def windows(self, principal: Principal) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        if principal.client_id is None:
            return []
        if principal.actor_type == ActorType.partner and self.per_token is not None:
            return [(self.per_token, ("token", principal.client_id))]
        if principal.actor_type == ActorType.integration and self.per_client is not None:
            return [(self.per_client, ("client", principal.client_id))]
        return []

    async def check(self, principal: Principal) -> None:
        for limit, identifiers in self.windows(principal):
            await self._hit(limit, identifiers)

    async def _hit(self, limit: RateLimitItem, identifiers: tuple[str, ...]) -> None:
        try:
            if await self.limiter.hit(limit, *identifiers):
                return
            stats = await self.limiter.get_window_stats(limit, *identifiers)
        except StorageError:
            _storage_unavailable()
            return
        raise TooManyRequests(max(1, math.ceil(stats.reset_time - self.clock())))

    def _failed_secret_key(self, client_id: str, source: str) -> tuple[str, ...]:
        return ("oauth-failed-secret", client_id, source)

    async def refuse_after_failed_secrets(self, client_id: str, source: str) -> None:
        """429 while this source has used up its wrong guesses at this client's secret (checked before the
        secret is compared, so a locked-out guesser learns nothing more); other sources are unaffected."""
        if self.failed_secrets is None:
            return
        identifiers = self._failed_secret_key(client_id, source)
        try:
            if await self.limiter.test(self.failed_secrets, *identifiers):
                return
            stats = await self.limiter.get_window_stats(self.failed_secrets, *identifiers)
        except StorageError:
            _storage_unavailable()
            return
        raise TooManyRequests(max(1, math.ceil(stats.reset_time - self.clock())))

    async def count_failed_secret(self, client_id: str, source: str) -> None:
        if self.failed_secrets is None:
            return
        try:
            await self.limiter.hit(self.failed_secrets, *self._failed_secret_key(client_id, source))
        except StorageError:
            _storage_unavailable()

    async def close(self) -> None:
        await close_storage(self.limiter.storage)


def _storage_unavailable() -> None:
    # Fail open: a missing counter must not stop child-safety work; the outage is logged.
    import structlog

    structlog.get_logger("sop").warning("rate_limit_storage_unavailable")


def build_rate_limits(
    *,
    redis_url: str,
    window_seconds: int,
    per_token: int,
    per_client: int,
    failed_secrets: int = 0,
    failed_secrets_window_seconds: int = 900,
) -> EdgeRateLimits:
    return EdgeRateLimits(
        FixedWindowRateLimiter(storage_for(redis_url)),
        RateLimitItemPerSecond(per_token, window_seconds) if per_token > 0 else None,
        RateLimitItemPerSecond(per_client, window_seconds) if per_client > 0 else None,
        RateLimitItemPerSecond(failed_secrets, failed_secrets_window_seconds) if failed_secrets > 0 else None,
    )
