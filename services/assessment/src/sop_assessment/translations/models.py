"""The assessment service's translations: one table for every family-facing text it keeps (statements, safety
goals, map items, the child-voice words the child agreed to share), by the shared rule of
`sop_shared.translations`."""

from __future__ import annotations

from sop_assessment.models import AssessmentTable
from sop_shared.translations import TranslationRecord


class Translation(AssessmentTable, TranslationRecord, table=True):
    """A person's translation of one field of one record as it read at `source_version`. Its words never
    change: a better translation is a new row; verifying it adds who verified it and their qualification."""

    __tablename__ = "translation"
