"""Alembic environment of the practice service (its own history)."""

import sop_practice.coaching.models
import sop_practice.fidelity.models
import sop_practice.outcomes.models
import sop_practice.training.models  # noqa: F401  (its tables)
from sop_practice.models import metadata
from sop_shared.migrations import run_env

run_env(metadata)
