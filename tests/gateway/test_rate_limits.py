"""Rate limits: a fixed window per partner API token and per integration client; over it, 429 with
Retry-After and nothing reaches a service. Counters live in this process, or in Redis (the real server on
127.0.0.1:6379) so that every gateway replica counts against the same window."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
import redis.asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from limits import RateLimitItemPerSecond as RateLimit
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

from sop_gateway.rate_limits import REDIS_KEY_PREFIX, EdgeRateLimits, TooManyRequests, close_storage, storage_for
from sop_shared.auth import Principal
from sop_shared.dev_identity import DEV_AUDIENCE, DEV_ISSUER
from sop_shared.keys import DEV_ISSUER_KEY_FILE, load_signing_key
from sop_shared.policy import ActorType

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ME = {"query": "{ me { subject } }"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The in-process storage reads `time.time()`; tests move it by hand instead of waiting."""
    clock = Clock()
    monkeypatch.setattr("limits.aio.storage.memory.time", clock)
    return clock


# -- the limiter itself ------------------------------------------------------------------------------------


async def test_a_fixed_window_allows_the_limit_then_refuses_until_the_window_ends(clock: Clock) -> None:
    limiter = FixedWindowRateLimiter(MemoryStorage())
    limit = RateLimit(3, 60)
    assert [await limiter.hit(limit, "token", "a") for _ in range(4)] == [True, True, True, False]
    stats = await limiter.get_window_stats(limit, "token", "a")
    assert stats.remaining == 0 and stats.reset_time == clock.now + 60
    assert await limiter.hit(limit, "token", "b")  # another token has its own window
    clock.now += 59.9
    assert not await limiter.hit(limit, "token", "a")
    clock.now += 0.2  # the window is over
    assert await limiter.test(limit, "token", "a")
    assert await limiter.hit(limit, "token", "a")
    assert (await limiter.get_window_stats(limit, "token", "a")).remaining == 2


async def test_different_limits_for_the_same_caller_count_separately(clock: Clock) -> None:
    limiter = FixedWindowRateLimiter(MemoryStorage())
    assert await limiter.hit(RateLimit(1, 60), "client", "x")
    assert not await limiter.hit(RateLimit(1, 60), "client", "x")
    assert await limiter.hit(RateLimit(1, 1), "client", "x")


async def test_the_memory_storage_forgets_expired_windows(clock: Clock) -> None:
    storage = MemoryStorage()
    for i in range(10):
        await storage.incr(f"k{i}", 1)
    clock.now += 2
    await storage.incr("new", 1)
    assert storage.timer is not None
    await storage.timer  # the sweep the storage schedules on every hit
    assert set(storage.storage) == {"new"}


def _principal(actor_type: ActorType, client_id: str | None) -> Principal:
    return Principal(subject=client_id or "fsw.rivera", actor_type=actor_type, client_id=client_id)


async def test_partners_count_per_token_integrations_per_client_and_staff_not_at_all(clock: Clock) -> None:
    limits = EdgeRateLimits(FixedWindowRateLimiter(MemoryStorage()), RateLimit(2, 60), RateLimit(3, 60), clock=clock)
    partner = _principal(ActorType.partner, "api-token:1")
    integration = _principal(ActorType.integration, "chris-sync")
    staff = _principal(ActorType.staff, None)
    for _ in range(2):
        await limits.check(partner)
    with pytest.raises(TooManyRequests) as refused:
        await limits.check(partner)
    assert refused.value.retry_after == 60 and refused.value.status == 429
    for _ in range(3):
        await limits.check(integration)
    clock.now += 45.5
    with pytest.raises(TooManyRequests) as refused:
        await limits.check(integration)
    assert refused.value.retry_after == 15  # rounded up, never 0
    for _ in range(100):
        await limits.check(staff)


# -- Redis, for real ---------------------------------------------------------------------------------------


async def test_two_gateway_replicas_share_one_window_in_redis(redis_url: str) -> None:
    first, second = storage_for(redis_url), storage_for(redis_url)
    inspect = redis.asyncio.from_url(redis_url)
    try:
        replica_a, replica_b = FixedWindowRateLimiter(first), FixedWindowRateLimiter(second)
        limit, who = RateLimit(4, 30), ("token", f"test-{uuid.uuid4()}")
        results = [await (replica_a if i % 2 else replica_b).hit(limit, *who) for i in range(5)]
        assert results == [True, True, True, True, False]
        stats = await replica_a.get_window_stats(limit, *who)
        assert stats.remaining == 0 and 28 < stats.reset_time - time.time() <= 30
        key = f"{REDIS_KEY_PREFIX}:{limit.key_for(*who)}"
        ttl = await inspect.pttl(key)
        assert 28_000 < ttl <= 30_000  # the window expires by itself
        await inspect.delete(key)
    finally:
        await close_storage(first)
        await close_storage(second)
        await inspect.aclose()


async def test_concurrent_hits_in_redis_are_counted_exactly(redis_url: str) -> None:
    storage = storage_for(redis_url)
    try:
        limiter, limit, who = FixedWindowRateLimiter(storage), RateLimit(10, 30), ("client", f"t-{uuid.uuid4()}")
        results = await asyncio.gather(*(limiter.hit(limit, *who) for _ in range(25)))
        assert sum(results) == 10
        await storage.clear(limit.key_for(*who))
    finally:
        await close_storage(storage)


def test_only_redis_urls_configure_the_shared_storage() -> None:
    assert isinstance(storage_for(""), MemoryStorage)
    with pytest.raises(ValueError, match="rediss://"):
        storage_for("http://127.0.0.1:6379")


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "redis.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "redis.crt", directory / "redis.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


async def test_a_rediss_url_counts_over_tls(redis_url: str, tmp_path: Path) -> None:
    """`rediss://` speaks TLS: through a TLS terminator in front of the real Redis the window counts as
    without it, and the same URL as plain `redis://` cannot talk to the terminator."""
    cert_file, key_file = _self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    plain = urlsplit(redis_url)
    sessions: list[int] = []

    async def terminate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sessions.append(1)
        up_reader, up_writer = await asyncio.open_connection(plain.hostname, plain.port or 6379)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

    server = await asyncio.start_server(terminate, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    auth = f"{plain.username or ''}:{plain.password}@" if plain.password else ""
    secure = storage_for(f"rediss://{auth}127.0.0.1:{port}{plain.path}?ssl_ca_certs={cert_file}")
    in_clear = storage_for(f"redis://{auth}127.0.0.1:{port}{plain.path}", timeout=0.5)
    try:
        limiter, limit, who = FixedWindowRateLimiter(secure), RateLimit(2, 30), ("token", f"tls-{uuid.uuid4()}")
        assert [await limiter.hit(limit, *who) for _ in range(3)] == [True, True, False]
        assert sessions
        with pytest.raises(StorageError):
            await in_clear.incr(limit.key_for(*who), 30)
        await secure.clear(limit.key_for(*who))
    finally:
        await close_storage(secure)
        await close_storage(in_clear)
        server.close()


async def test_when_redis_is_unreachable_the_edge_fails_open_rather_than_stopping_casework() -> None:
    storage = storage_for("redis://127.0.0.1:1/0", timeout=0.5)
    with pytest.raises(StorageError):
        await storage.incr("k", 10)
    limits = EdgeRateLimits(FixedWindowRateLimiter(storage), RateLimit(1, 60), None)
    partner = _principal(ActorType.partner, "api-token:1")
    await limits.check(partner)
    await limits.check(partner)
    await close_storage(storage)


# -- through the gateway -----------------------------------------------------------------------------------


def _admin(system: EmbeddedSystem) -> dict[str, str]:
    key = load_signing_key(system.keys_dir / DEV_ISSUER_KEY_FILE)
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": "admin.hughes",
        "iat": now,
        "nbf": now - 1,
        "exp": now + 600,
        "sop_actor_type": "staff",
        "roles": ["admin"],
    }
    token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    return {"Authorization": f"Bearer {token}"}


async def _partner_token(system: EmbeddedSystem) -> dict[str, str]:
    response = await system.client.post(
        "/v1/api-tokens",
        headers=_admin(system),
        json={
            "agency": "Ozark Family Counseling",
            "purpose": "referrals",
            "scopes": ["case:read"],
            "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _assert_429(response: Any, window: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(response.headers["retry-after"]) <= window
    assert response.json()["retry_after"] == int(response.headers["retry-after"])


@pytest.mark.parametrize("storage", ["in-memory", "redis"])
async def test_a_partner_token_over_its_limit_gets_429_with_retry_after_and_reaches_no_service(
    start_system: Any, storage: str, request: pytest.FixtureRequest
) -> None:
    shared = request.getfixturevalue("redis_url") if storage == "redis" else ""
    async with start_system(rate_limit_per_token=3, rate_limit_window_seconds=120, redis_url=shared) as system:
        partner, other_partner = await _partner_token(system), await _partner_token(system)
        for _ in range(3):
            assert (await system.client.post("/graphql", json=ME, headers=partner)).status_code == 200
        _assert_429(await system.client.post("/graphql", json=ME, headers=partner), 120)
        calls: list[str] = []
        system.gateway.state.services.request = lambda *a, **k: calls.append(a[0])  # must not be reached
        _assert_429(await system.client.get(f"/api/network/v1/cases/{uuid.uuid4()}", headers=partner), 120)
        assert calls == []
        assert (await system.client.post("/graphql", json=ME, headers=other_partner)).status_code == 200
        for _ in range(5):  # staff are not limited per token
            assert (await system.graphql("{ me { subject } }")).status_code == 200


async def test_an_integration_client_over_its_limit_gets_429(start_system: Any) -> None:
    async with start_system(rate_limit_per_client=2) as system:
        for _ in range(2):
            assert (await system.graphql("{ me { subject } }", user="sacwis.sync")).status_code == 200
        _assert_429(await system.graphql("{ me { subject } }", user="sacwis.sync"), 60)


async def test_wrong_secrets_from_elsewhere_neither_spend_the_clients_budget_nor_lock_it_out(
    start_system: Any,
) -> None:
    async with start_system(rate_limit_per_client=3, oauth_failed_secret_limit=3) as system:
        registered = await system.client.post(
            "/v1/integration-clients",
            json={"client_id": "chris-sync", "name": "CHRIS", "scopes": ["case:read"]},
            headers=_admin(system),
        )
        secret = registered.json()["client_secret"]
        attacker = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=system.gateway, client=("203.0.113.9", 4711)), base_url="http://gateway"
        )
        async with attacker:
            statuses = [
                (
                    await attacker.post(
                        "/oauth/token",
                        data={
                            "grant_type": "client_credentials",
                            "client_id": "chris-sync",
                            "client_secret": f"sopc_{n}",
                        },
                    )
                ).status_code
                for n in range(6)
            ]
            assert statuses == [401, 401, 401, 429, 429, 429]
            # locked out, the guesser is not even told when the right secret would have worked
            _assert_429(
                await attacker.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials", "client_id": "chris-sync", "client_secret": secret},
                ),
                900,
            )
        # the real client, from its own address, still gets its token and its whole API budget
        right = await system.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "chris-sync", "client_secret": secret},
        )
        assert right.status_code == 200, right.text
        bearer = {"Authorization": f"Bearer {right.json()['access_token']}"}
        for _ in range(2):
            assert (await system.client.post("/graphql", json=ME, headers=bearer)).status_code == 200
        _assert_429(await system.client.post("/graphql", json=ME, headers=bearer), 60)
        # and its own typo is a 401, counted in its own address's window
        typo = await system.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "chris-sync", "client_secret": "sopc_typo"},
        )
        assert typo.status_code == 401
