"""Plans service settings (env prefix SOP_PLANS_)."""

from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class PlansSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_PLANS_", extra="ignore")

    component: str = "plans"
