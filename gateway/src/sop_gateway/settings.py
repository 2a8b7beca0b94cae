"""Gateway settings (env prefix SOP_GATEWAY_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from sop_shared.dev_identity import DEV_AUDIENCE, DEV_ISSUER
from sop_shared.keys import DEV_ISSUER_JWKS_FILE, INTERNAL_KEY_FILE
from sop_shared.policy import ActorType
from sop_shared.settings import ComponentSettings

OAUTH_KEY_FILE = "gateway-oauth.key.pem"
OAUTH_JWKS_FILE = "gateway-oauth.jwks.json"


class TrustedIssuer(BaseModel):
    """One more OIDC issuer whose JWTs the gateway accepts: by default for staff (and integration) actors; a
    family/safety-network member portal's identity provider is configured with
    `"actor_types": ["family", "network"]` (its tokens carry `act`; a token for another kind is refused)."""

    issuer: str
    audience: str
    jwks_url: str = ""
    jwks_file: Path | None = None
    actor_types: list[ActorType] = Field(default_factory=lambda: [ActorType.staff, ActorType.integration], min_length=1)

    @field_validator("actor_types")
    @classmethod
    def _no_partner_jwts(cls, value: list[ActorType]) -> list[ActorType]:
        if ActorType.partner in value:
            raise ValueError("partners sign in with API tokens issued here, not through an issuer")
        return value

    @model_validator(mode="after")
    def _needs_keys(self) -> TrustedIssuer:
        if not (self.jwks_url or self.jwks_file):
            raise ValueError(f"issuer {self.issuer}: give jwks_url or jwks_file")
        return self


class GatewaySettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_GATEWAY_", extra="ignore")

    component: str = "gateway"
    # Private key for minting internal tokens; in development generated under data_dir/keys.
    internal_signing_key_file: Path | None = None
    internal_token_issuer: str = "sop-gateway"
    # Where the services are. Empty in embedded mode (the apps run in this process).
    network_url: str = ""
    assessment_url: str = ""
    plans_url: str = ""
    practice_url: str = ""
    # SACWIS's batch through the façade is larger than any other body (SOP_NETWORK_SACWIS_BATCH_MAX_BYTES too).
    sacwis_batch_max_bytes: int = Field(default=8_000_000, ge=1_000)
    # Waiting for the services (sop_gateway.upstream). Reads give up after upstream_timeout_seconds. A write is
    # waited for longer than a service can take to commit it (its database pool timeout plus its statements,
    # each under the statement timeout: SOP_<SERVICE>_DATABASE_POOL_TIMEOUT_SECONDS and
    # _STATEMENT_TIMEOUT_SECONDS, 10 s each by default), so a committed write is never answered as failed.
    # A service that refuses connections (restarting) or answers 503 (busy) is asked again: a write, with the
    # same Idempotency-Key, for up to upstream_retry_seconds; a read for upstream_read_retry_seconds, long
    # enough to wait out a restart. A service unreachable for longer than that is an outage: reads then try it
    # once and the view shows its section as unavailable at once, until a call gets through again.
    upstream_timeout_seconds: float = 10.0
    upstream_write_timeout_seconds: float = 45.0
    upstream_connect_timeout_seconds: float = 2.0
    upstream_retry_seconds: float = 20.0
    upstream_read_retry_seconds: float = 10.0
    # Staff identity: the OIDC issuer whose JWTs the gateway accepts (a JWKS file or URL).
    oidc_issuer: str = DEV_ISSUER
    oidc_audience: str = DEV_AUDIENCE
    oidc_jwks_file: Path | None = None
    oidc_jwks_url: str = ""
    # More issuers (e.g. a second IdP during a migration), as JSON in SOP_GATEWAY_OIDC_EXTRA_ISSUERS:
    # [{"issuer": "...", "audience": "...", "jwks_url": "https://.../jwks.json"}]
    oidc_extra_issuers: list[TrustedIssuer] = []
    # A JWKS URL is fetched again on an unknown key id (rotation), at most once per this many seconds.
    jwks_min_refresh_seconds: float = 30.0
    # Tolerated clock difference for exp/nbf/iat of every JWT the gateway accepts.
    clock_skew_seconds: int = 30
    # OAuth2 client credentials: the gateway signs short-lived tokens for integration clients with its own
    # key (in development generated under data_dir/keys; in production without a key file the token
    # endpoint is off) and accepts them as one more issuer.
    oauth_signing_key_file: Path | None = None
    oauth_issuer: str = "sop-gateway-oauth"
    oauth_audience: str = "sop-gateway"
    oauth_token_lifetime_seconds: int = 600
    # Rate limits (fixed windows): per partner API token and per integration client; 0 turns one off.
    # Shared between gateway replicas through Redis when redis_url is set (redis:// or rediss:// for TLS), in
    # this process otherwise.
    rate_limit_window_seconds: int = 60
    rate_limit_per_token: int = 600
    rate_limit_per_client: int = 1200
    # Wrong client secrets at /oauth/token: at most this many per client and source address per window, in a
    # window of their own (a guesser elsewhere never spends the real client's budget or locks it out).
    oauth_failed_secret_limit: int = 10
    oauth_failed_secret_window_seconds: int = 900
    redis_url: str = ""
    access_cache_seconds: float = 5.0
    # GraphQL guards.
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    graphql_max_directives: int = 10
    # Trusted documents (docs/api.md): the first-party apps' manifest (Apollo persisted-query manifest or a
    # {sha256: document} map), validated at start-up; and whether staff, family and network callers may run
    # only those (partners' tokens and integrations may still send their own queries).
    graphql_trusted_documents: Path | None = None
    graphql_trusted_documents_required: bool = False
    # /metrics in production: only with `Authorization: Bearer <this token>` (Prometheus `authorization`),
    # and not at all without one. /docs, /redoc and /openapi.json are development-only.
    metrics_token: SecretStr | None = None

    @model_validator(mode="after")
    def _production_needs_real_identity(self) -> GatewaySettings:
        if not self.is_development:
            missing = [
                name
                for name, value in (
                    ("INTERNAL_SIGNING_KEY_FILE", self.internal_signing_key_file),
                    ("DATABASE_URL", self.database_url),
                    ("NETWORK_URL", self.network_url),
                    ("ASSESSMENT_URL", self.assessment_url),
                    ("PLANS_URL", self.plans_url),
                    ("PRACTICE_URL", self.practice_url),
                )
                if not value
            ]
            if not (self.oidc_jwks_file or self.oidc_jwks_url):
                missing.append("OIDC_JWKS_URL (or OIDC_JWKS_FILE)")
            if missing:
                raise ValueError("production needs " + ", ".join(f"SOP_GATEWAY_{m}" for m in missing))
        return self

    def resolved_signing_key_file(self) -> Path:
        return self.internal_signing_key_file or self.keys_dir() / INTERNAL_KEY_FILE

    def resolved_oidc_jwks_file(self) -> Path | None:
        if self.oidc_jwks_url:
            return None
        return self.oidc_jwks_file or self.keys_dir() / DEV_ISSUER_JWKS_FILE

    def resolved_oauth_key_file(self) -> Path | None:
        if self.oauth_signing_key_file is not None:
            return self.oauth_signing_key_file
        return self.keys_dir() / OAUTH_KEY_FILE if self.is_development else None

    def service_url(self, service: str) -> str:
        return {
            "network": self.network_url,
            "assessment": self.assessment_url,
            "plans": self.plans_url,
            "practice": self.practice_url,
        }[service]
