"""Alembic environment of the assessment service (its own history)."""

from sop_assessment.models import metadata
from sop_shared.migrations import run_env

run_env(metadata)
