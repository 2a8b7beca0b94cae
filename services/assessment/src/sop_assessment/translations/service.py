"""The assessment service's translations, by the shared workflow (`sop_shared.translations_api`): its table,
how to find a record's words (`sources.find`) and the words its family reads (`queue.family_words`)."""

from __future__ import annotations

from sop_assessment.models import platform
from sop_assessment.translations.models import Translation
from sop_assessment.translations.queue import family_words
from sop_assessment.translations.sources import KINDS, find
from sop_shared.translations_api import Translations

STATEMENT_TRANSLATED = "sop.assessment.statement.translated"

TRANSLATIONS = Translations(
    model=Translation,
    platform=platform,
    component="assessment",
    kinds=KINDS,
    find=find,
    family_words=family_words,
    recorded_subjects={"statement": STATEMENT_TRANSLATED},
)
