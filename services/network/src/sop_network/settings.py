"""Network service settings (env prefix SOP_NETWORK_)."""

from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class NetworkSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_NETWORK_", extra="ignore")

    component: str = "network"
