"""Registers the plans service with the `sop` command (entry point group `sop.components`)."""

from sop_plans.app import create_app
from sop_plans.models import metadata
from sop_plans.settings import PlansSettings
from sop_shared.component import Component

component = Component(
    name="plans",
    kind="service",
    default_port=8003,
    settings_class=PlansSettings,
    create_app=create_app,
    metadata=metadata,
    package="sop_plans",
)
