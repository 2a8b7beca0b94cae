"""Rate limits at the edge: fixed windows per partner API token and per integration client, and a separate
window for wrong client secrets at `/oauth/token` per client and source address (so an attacker guessing a
secret spends neither the real client's API budget nor its ability to get a token).

The `limits` library is not installed in this workspace, so this is a small limiter with the same shape as
its async fixed-window strategy (`RateLimit` ~ `RateLimitItem`, `FixedWindowRateLimiter.hit/test/
get_window_stats`, a storage behind a protocol). Storage is in this process by default, or Redis when
`SOP_GATEWAY_REDIS_URL` is set, so that every gateway replica counts against the same window. The `redis`
package is not installed either: `RedisStorage` speaks the few RESP commands it needs over asyncio.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from sop_shared.auth import Principal
from sop_shared.policy import ActorType
from sop_shared.problems import Problem


class TooManyRequests(Problem):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail or f"rate limit reached; retry in {retry_after} s", retry_after=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateLimit:
    """`amount` hits per `window_seconds`."""

    amount: int
    window_seconds: int

    def key_for(self, *identifiers: str) -> str:
        return "sop-rl/" + "/".join((*identifiers, f"{self.amount}-per-{self.window_seconds}s"))


@dataclass(frozen=True)
class WindowStats:
    reset_time: float  # epoch seconds when the current window ends
    remaining: int


class RateLimitStorage(Protocol):
    async def incr(self, key: str, expiry_seconds: int, amount: int = 1) -> tuple[int, float]:
        """Add `amount` to the counter (creating it with the expiry); return (count, window end epoch)."""
        ...

    async def get(self, key: str) -> tuple[int, float]:
        """(count, window end epoch); (0, now) when there is no live window."""
        ...

    async def close(self) -> None: ...


@dataclass
class MemoryStorage:
    """Counters in this process. `clock` is injectable so tests can move time."""

    clock: Callable[[], float] = time.time
    max_keys: int = 100_000
    _counters: dict[str, tuple[int, float]] = field(default_factory=dict)

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counters.get(key)
        if entry is None or entry[1] <= now:
            self._counters.pop(key, None)
            return None
        return entry

    async def incr(self, key: str, expiry_seconds: int, amount: int = 1) -> tuple[int, float]:
        now = self.clock()
        entry = self._live(key, now)
        if entry is None:
            if len(self._counters) >= self.max_keys:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
            entry = (0, now + expiry_seconds)
        entry = (entry[0] + amount, entry[1])
        self._counters[key] = entry
        return entry

    async def get(self, key: str) -> tuple[int, float]:
        now = self.clock()
        return self._live(key, now) or (0, now)

    async def close(self) -> None:
        return None


# INCRBY, set the expiry when the window opens, return the count and the milliseconds left: atomic in Redis.
_INCR_SCRIPT = (
    "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) "
    "if n == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
    "return {n, redis.call('PTTL', KEYS[1])}"
)
_GET_SCRIPT = "return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}"


class RedisError(Exception):
    pass


class RedisStorage:
    """Shared counters in Redis (`redis://host:port/db`), over one connection guarded by a lock."""

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError("SOP_GATEWAY_REDIS_URL must be redis://host:port[/db]")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.password = parts.password
        self.db = int(parts.path.lstrip("/") or 0)
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
        if self.password:
            await self._roundtrip("AUTH", self.password)
        if self.db:
            await self._roundtrip("SELECT", str(self.db))

    async def command(self, *args: str) -> object:
        async with self._lock:
            try:
                if self._writer is None:
                    await self._connect()
                return await asyncio.wait_for(self._roundtrip(*args), self.timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                await self._drop()
                raise RedisError(f"redis unavailable: {type(exc).__name__}") from exc

    async def _roundtrip(self, *args: str) -> object:
        assert self._writer is not None
        payload = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            raw = arg.encode()
            payload.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
        self._writer.write(b"".join(payload))
        await self._writer.drain()
        return await self._read()

    async def _read(self) -> object:
        assert self._reader is not None
        line = (await self._reader.readuntil(b"\r\n"))[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else (await self._reader.readexactly(size + 2))[:-2].decode()
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [await self._read() for _ in range(size)]
        raise RedisError(f"unexpected reply {line[:20]!r}")

    async def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def _counter(self, script: str, key: str, *args: str) -> tuple[int, float]:
        reply = await self.command("EVAL", script, "1", key, *args)
        assert isinstance(reply, list)
        count, ttl_ms = int(reply[0]), int(reply[1])
        return count, time.time() + max(ttl_ms, 0) / 1000

    async def incr(self, key: str, expiry_seconds: int, amount: int = 1) -> tuple[int, float]:
        return await self._counter(_INCR_SCRIPT, key, str(expiry_seconds * 1000), str(amount))

    async def get(self, key: str) -> tuple[int, float]:
        return await self._counter(_GET_SCRIPT, key)

    async def close(self) -> None:
        async with self._lock:
            await self._drop()


@dataclass
class FixedWindowRateLimiter:
    storage: RateLimitStorage

    async def hit(self, limit: RateLimit, *identifiers: str, cost: int = 1) -> bool:
        """Count one request; True while the window still allows it."""
        count, _ = await self.storage.incr(limit.key_for(*identifiers), limit.window_seconds, cost)
        return count <= limit.amount

    async def test(self, limit: RateLimit, *identifiers: str, cost: int = 1) -> bool:
        count, _ = await self.storage.get(limit.key_for(*identifiers))
        return count + cost <= limit.amount

    async def get_window_stats(self, limit: RateLimit, *identifiers: str) -> WindowStats:
        count, reset = await self.storage.get(limit.key_for(*identifiers))
        return WindowStats(reset, max(limit.amount - count, 0))


def storage_for(redis_url: str) -> RateLimitStorage:
    return RedisStorage(redis_url) if redis_url else MemoryStorage()


@dataclass
class EdgeRateLimits:
    """Which window a principal counts against: its API token (partners) or its client (integrations).
    Staff signed in through the state's identity provider are not limited here."""

    limiter: FixedWindowRateLimiter
    per_token: RateLimit | None
    per_client: RateLimit | None
    failed_secrets: RateLimit | None = None
    clock: Callable[[], float] = time.time

    def windows(self, principal: Principal) -> list[tuple[RateLimit, tuple[str, ...]]]:
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

    async def _hit(self, limit: RateLimit, identifiers: tuple[str, ...]) -> None:
        try:
            allowed = await self.limiter.hit(limit, *identifiers)
            stats = None if allowed else await self.limiter.get_window_stats(limit, *identifiers)
        except RedisError:
            _storage_unavailable()
            return
        if stats is not None:
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
        except RedisError:
            _storage_unavailable()
            return
        raise TooManyRequests(max(1, math.ceil(stats.reset_time - self.clock())))

    async def count_failed_secret(self, client_id: str, source: str) -> None:
        if self.failed_secrets is None:
            return
        try:
            await self.limiter.hit(self.failed_secrets, *self._failed_secret_key(client_id, source))
        except RedisError:
            _storage_unavailable()

    async def close(self) -> None:
        await self.limiter.storage.close()


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
        RateLimit(per_token, window_seconds) if per_token > 0 else None,
        RateLimit(per_client, window_seconds) if per_client > 0 else None,
        RateLimit(failed_secrets, failed_secrets_window_seconds) if failed_secrets > 0 else None,
    )
