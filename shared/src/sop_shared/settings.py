"""Settings every component shares; each component subclasses with its own env prefix (SOP_<NAME>_)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# How long a component (`sop serve`) keeps an idle keep-alive connection open (uvicorn's default is 5 s). Long
# enough to outlast a pause in traffic: with 5 s the gateway's connections to the services were closed in every
# lull and opened again, one TCP connection per call and client, by the next burst (issue 16).
SERVER_KEEP_ALIVE_SECONDS = 75


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class ComponentSettings(BaseSettings):
    """What any component needs. Subclasses set `component` and `model_config.env_prefix`."""

    model_config = SettingsConfigDict(env_prefix="SOP_", extra="ignore")

    component: str = "component"
    environment: Environment = Environment.development
    data_dir: Path = Path(".sop-data")
    # Empty means the embedded default: a SQLite file named after the component under data_dir.
    database_url: str = ""
    database_echo: bool = False
    # PostgreSQL connections per process: up to `pool_size` opened as needed and kept, `max_overflow` more when
    # busy (empty = as many again as the pool), each closed again when returned. One process is one event loop on
    # one core: a few connections keep it busy (more only move the queue from the event loop to PostgreSQL). No
    # overflow by default: under steady load an overflow connection is opened and closed again and again (a new
    # server backend and a TLS attempt each time, which showed in every service's profile). Every process's
    # pool_size + max_overflow, summed over replicas and components, must stay below the server's
    # max_connections: 8 lets two replicas of each of the four components share a default server (100) with room
    # to spare (docs/performance.md, "Connections"); beyond that, PgBouncer in transaction mode with
    # database_statement_cache_size=0.
    # How many requests this process works on at once (0: no limit); the rest wait in arrival order, for up to
    # request_queue_timeout_seconds, then are answered 503 with Retry-After (sop_shared.admission). One process
    # is one core: 16 at once keep it busy, more only interleave them (docs/performance.md, "Admission").
    max_concurrent_requests: int = Field(default=16, ge=0, le=10_000)
    request_queue_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    database_pool_size: int = Field(default=8, ge=1, le=1000)
    database_max_overflow: int | None = Field(default=0, ge=0, le=1000)
    # How long a request waits for a connection, and how long one statement may run (PostgreSQL; 0 = no limit).
    # Past either the request is rolled back and answered 503 with Retry-After. The gateway's
    # upstream_write_timeout_seconds must exceed what a service's write can take (pool wait + its statements),
    # so that a committed write is never reported failed.
    database_pool_timeout_seconds: float = 10.0
    database_statement_timeout_seconds: float = 10.0
    # Prepared statements cached per connection (asyncpg and SQLAlchemy's asyncpg dialect; empty = their
    # default, 100). 0 behind PgBouncer in transaction mode, where a connection's prepared statements do not
    # follow the client from one transaction to the next (statements are then named uniquely, never reused).
    database_statement_cache_size: int | None = Field(default=None, ge=0, le=100_000)
    # memory:// is the in-process bus (embedded mode); nats://host:port is NATS JetStream.
    events_url: str = "memory://"
    events_stream: str = "SOP"
    # A prefix for every subject (`<namespace>.sop.…`): platforms that share one NATS server (two environments,
    # or the test suite's systems) keep their streams and consumers apart. Every component of one platform
    # takes the same one.
    events_namespace: str = Field(default="", pattern=r"^[A-Za-z0-9_-]*$", max_length=40)
    # The outbox relay publishes when a commit of this process writes events, and polls every this many seconds
    # for the others (a stopped replica's, a migration's); a round a bus failure stopped is retried after 0.5 s.
    relay_interval_seconds: float = 5.0
    relay_enabled: bool = True
    # How long a reference to another service's record waits for the event that announces it (case_refs).
    case_ref_grace_seconds: float = 2.0
    log_level: str = "INFO"
    log_json: bool = True
    # Tracing (sop_shared.tracing): spans are exported over OTLP/HTTP to this collector URL (or to the standard
    # OTEL_EXPORTER_OTLP_ENDPOINT), and appended as JSON lines to trace_file; neither set: kept in the process.
    otlp_endpoint: str = ""
    trace_file: Path | None = None
    # The input policy (sop_shared.input_policy): the largest request body, and how deep a JSON body may nest.
    max_request_bytes: int = Field(default=1_000_000, ge=1_000)
    max_json_depth: int = Field(default=32, ge=4, le=200)
    # The audit trail's keys (docs/deployment.md, "Audit keys"): a directory of HMAC chain keys and the
    # Ed25519 key that signs chain-head checkpoints. In development generated under data_dir/keys; in
    # production both are required. A checkpoint is published at most this often, when the chain grew.
    audit_keys_dir: Path | None = None
    audit_signing_key_file: Path | None = None
    audit_checkpoint_seconds: float = 60.0
    # The garbage collector once started (sop_shared.runtime): the start-up heap frozen and generation 0
    # collected every `gc_gen0_threshold` allocations instead of 700. Empty = on in production only.
    gc_tuning: bool | None = None
    gc_gen0_threshold: int = Field(default=50_000, ge=100, le=10_000_000)

    @property
    def is_development(self) -> bool:
        return self.environment != Environment.production

    @property
    def gc_tuning_enabled(self) -> bool:
        return (not self.is_development) if self.gc_tuning is None else self.gc_tuning

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.component}.db').as_posix()}"

    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


class ServiceSettings(ComponentSettings):
    """A backend service: verifies internal tokens minted by the gateway."""

    # JWKS file with the gateway's public internal-token key(s); in development generated under data_dir.
    internal_jwks_file: Path | None = None
    internal_token_issuer: str = "sop-gateway"
    # How often the event bus is pinged for /healthz and the sop_event_bus_up gauge.
    bus_check_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _production_needs_configured_keys(self) -> ServiceSettings:
        if not self.is_development and self.internal_jwks_file is None:
            raise ValueError(f"SOP_{self.component.upper()}_INTERNAL_JWKS_FILE is required in production")
        if not self.is_development and not self.database_url:
            raise ValueError(f"SOP_{self.component.upper()}_DATABASE_URL is required in production")
        return self

    def resolved_internal_jwks_file(self) -> Path:
        return self.internal_jwks_file or self.keys_dir() / "internal.jwks.json"
