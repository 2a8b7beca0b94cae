"""Alembic environment of the gateway (its own history)."""

from sop_gateway.models import metadata
from sop_shared.migrations import run_env

run_env(metadata)
