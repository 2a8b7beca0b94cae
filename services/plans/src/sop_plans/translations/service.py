"""The plans service's translations, by the shared workflow (`sop_shared.translations_api`)."""

from __future__ import annotations

from sop_plans.models import Translation, platform
from sop_plans.translations.sources import KINDS, family_words, find
from sop_shared.translations_api import Translations, translation_router

TRANSLATIONS = Translations(
    model=Translation, platform=platform, component="plans", kinds=KINDS, find=find, family_words=family_words
)
router = translation_router(TRANSLATIONS)
