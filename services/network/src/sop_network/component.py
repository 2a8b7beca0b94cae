"""Registers the network service with the `sop` command (entry point group `sop.components`)."""

from sop_network.app import create_app
from sop_network.models import metadata
from sop_network.settings import NetworkSettings
from sop_shared.component import Component

component = Component(
    name="network",
    kind="service",
    default_port=8001,
    settings_class=NetworkSettings,
    create_app=create_app,
    metadata=metadata,
    package="sop_network",
)
