"""Alembic environment of the plans service (its own history)."""

from sop_plans.models import metadata
from sop_shared.migrations import run_env

run_env(metadata)
