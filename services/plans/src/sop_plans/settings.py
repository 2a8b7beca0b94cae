"""Plans service settings (env prefix SOP_PLANS_)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class PlansSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_PLANS_", extra="ignore")

    component: str = "plans"
    # Safety-plan policy (durations, reviews, required signatures) with effective dates; the packaged
    # config/plan_rules.json when unset.
    policy_file: Path | None = None
    # How often the background sweep expires plans past their expiry; 0 turns the sweep off (reads and
    # writes still expire a plan they touch, see sop_plans.expiry).
    expiry_sweep_seconds: float = Field(default=60.0, ge=0)
    # A drawn signature is a small PNG; larger images are refused (422).
    signature_image_max_bytes: int = Field(default=100_000, ge=1_000, le=1_000_000)
