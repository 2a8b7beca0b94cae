"""Registers the assessment service with the `sop` command (entry point group `sop.components`)."""

from sop_assessment.app import create_app
from sop_assessment.models import metadata
from sop_assessment.settings import AssessmentSettings
from sop_shared.component import Component

component = Component(
    name="assessment",
    kind="service",
    default_port=8002,
    settings_class=AssessmentSettings,
    create_app=create_app,
    metadata=metadata,
    package="sop_assessment",
)
