"""Assessment service settings (env prefix SOP_ASSESSMENT_)."""

from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class AssessmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_ASSESSMENT_", extra="ignore")

    component: str = "assessment"
