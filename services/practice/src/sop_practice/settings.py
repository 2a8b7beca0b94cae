"""Practice service settings (env prefix SOP_PRACTICE_)."""

from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class PracticeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_PRACTICE_", extra="ignore")

    component: str = "practice"
