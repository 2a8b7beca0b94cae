"""Assessment service settings (env prefix SOP_ASSESSMENT_)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class AssessmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_ASSESSMENT_", extra="ignore")

    component: str = "assessment"

    # --- SDM and child voice ---
    # The state's licensed SDM instruments (`<key>/<version>.json`), loaded next to the packaged
    # illustrative ones; a file with the same key and version replaces the packaged one.
    instruments_dir: Path | None = None
    # Days that are not working days for due dates (weekends never are), e.g. '["2026-12-25"]'.
    holidays: list[_dt.date] = []
    # Where children's drawings are kept: a local folder (default: <data_dir>/attachments) or S3.
    attachments_backend: Literal["local", "s3"] = "local"
    attachments_dir: Path | None = None
    attachments_s3_bucket: str = ""
    attachments_s3_endpoint_url: str = ""
    attachment_max_bytes: int = 5_000_000

    @model_validator(mode="after")
    def _a_drawing_fits_the_body_limit(self) -> AssessmentSettings:
        # A drawing is uploaded as the raw body: the input policy's body limit must let the largest one in.
        self.max_request_bytes = max(self.max_request_bytes, self.attachment_max_bytes)
        return self
