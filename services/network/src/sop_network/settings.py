"""Network service settings (env prefix SOP_NETWORK_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class NetworkSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_NETWORK_", extra="ignore")

    component: str = "network"
    # A SACWIS batch (up to 2,000 case and person records) is larger than any other body: its own limit.
    sacwis_batch_max_bytes: int = Field(default=8_000_000, ge=1_000)
