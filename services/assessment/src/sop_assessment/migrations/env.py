"""Alembic environment of the assessment service (its own history)."""

# Every domain's tables, so that Alembic sees them.
import sop_assessment.attachments.models
import sop_assessment.child_voice.models
import sop_assessment.goals.models
import sop_assessment.maps.models
import sop_assessment.members.models
import sop_assessment.ratings.models
import sop_assessment.sdm.models
import sop_assessment.supervision.models
import sop_assessment.translations.models  # noqa: F401
from sop_assessment.models import metadata
from sop_shared.migrations import run_env

run_env(metadata)
