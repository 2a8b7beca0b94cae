"""Gateway settings (env prefix SOP_GATEWAY_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from sop_shared.dev_identity import DEV_AUDIENCE, DEV_ISSUER
from sop_shared.keys import DEV_ISSUER_JWKS_FILE, INTERNAL_KEY_FILE
from sop_shared.settings import ComponentSettings


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
    upstream_timeout_seconds: float = 10.0
    # Staff identity: the OIDC issuer whose JWTs the gateway accepts (a JWKS file or URL).
    oidc_issuer: str = DEV_ISSUER
    oidc_audience: str = DEV_AUDIENCE
    oidc_jwks_file: Path | None = None
    oidc_jwks_url: str = ""
    access_cache_seconds: float = 5.0
    # GraphQL guards.
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    max_request_bytes: int = 1_000_000

    @model_validator(mode="after")
    def _production_needs_real_identity(self) -> GatewaySettings:
        if not self.is_development:
            missing = [name for name, value in (
                ("INTERNAL_SIGNING_KEY_FILE", self.internal_signing_key_file), ("DATABASE_URL", self.database_url),
                ("NETWORK_URL", self.network_url), ("ASSESSMENT_URL", self.assessment_url),
                ("PLANS_URL", self.plans_url),
            ) if not value]
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

    def service_url(self, service: str) -> str:
        return {"network": self.network_url, "assessment": self.assessment_url, "plans": self.plans_url}[service]
