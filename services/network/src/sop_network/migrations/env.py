"""Alembic environment of the network service (its own history)."""

from sop_shared.migrations import run_env

from sop_network.models import metadata

run_env(metadata)
