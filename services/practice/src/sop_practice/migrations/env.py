"""Alembic environment of the practice service (its own history)."""

from sop_practice.models import metadata
from sop_shared.migrations import run_env

run_env(metadata)
