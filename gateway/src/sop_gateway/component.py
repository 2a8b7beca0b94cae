"""Registers the gateway with the `sop` command (entry point group `sop.components`)."""

from sop_gateway.app import create_app
from sop_gateway.demo import seed_dev_demo
from sop_gateway.graphql.mutations import UPSTREAM_CONTRACTS
from sop_gateway.graphql.schema import build_schema
from sop_gateway.models import metadata
from sop_gateway.settings import GatewaySettings
from sop_shared.component import Component

component = Component(
    name="gateway",
    kind="gateway",
    default_port=8000,
    settings_class=GatewaySettings,
    create_app=create_app,
    metadata=metadata,
    package="sop_gateway",
    seed_demo=seed_dev_demo,
    graphql_sdl=lambda settings, upstream: build_schema(settings, upstream).as_str(),
    upstream_contracts=UPSTREAM_CONTRACTS,
    openapi=lambda settings, upstream: create_app(settings, facade_operations=upstream).openapi(),
)
