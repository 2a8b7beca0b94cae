"""Alembic environment of the network service (its own history)."""

from sop_network.models import metadata
from sop_shared.migrations import run_env

run_env(metadata)
