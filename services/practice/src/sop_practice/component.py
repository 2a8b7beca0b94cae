"""Registers the practice service with the `sop` command (entry point group `sop.components`)."""

from sop_practice.app import create_app
from sop_practice.models import metadata
from sop_practice.settings import PracticeSettings
from sop_shared.component import Component

component = Component(
    name="practice",
    kind="service",
    default_port=8004,
    settings_class=PracticeSettings,
    create_app=create_app,
    metadata=metadata,
    package="sop_practice",
)
