"""Language tags (BCP 47) as every component reads them: checked against the IANA registry by `langcodes`
and written in their standard form (`ES` -> `es`, `es-us` -> `es-US`, `iw` -> `he`), so a family's language
is spelled one way wherever it is stored or compared."""

from __future__ import annotations

import langcodes

LANGUAGE_TAG_MAX = 35  # the longest tag RFC 5646 asks implementations to accept
LANGUAGE_TAG_HINT = "a BCP 47 language tag such as en, es, mh or es-US"


class BadLanguageTag(ValueError):
    pass


def standard_language_tag(value: str) -> str:
    """The tag in its standard form; `BadLanguageTag` for anything that is not a registered language."""
    value = value.strip()
    if len(value) > LANGUAGE_TAG_MAX or not langcodes.tag_is_valid(value):
        raise BadLanguageTag(LANGUAGE_TAG_HINT)
    return langcodes.standardize_tag(value)
