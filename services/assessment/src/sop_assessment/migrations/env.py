"""Alembic environment of the assessment service (its own history)."""

# Every domain's tables, so that Alembic sees them.
from sop_assessment.models import metadata
from sop_shared.migrations import run_env

run_env(metadata)
