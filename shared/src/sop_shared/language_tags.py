"""Language tags (BCP 47) as every component reads them: checked against the IANA registry by `langcodes`
and written in their standard form (`ES` -> `es`, `es-us` -> `es-US`, `iw` -> `he`), so a family's language
is spelled one way wherever it is stored or compared."""

from __future__ import annotations

import functools
from typing import Annotated

import langcodes
from pydantic import AfterValidator, StringConstraints

LANGUAGE_TAG_MAX = 35  # the longest tag RFC 5646 asks implementations to accept
LANGUAGE_TAG_HINT = "a BCP 47 language tag such as en, es, mh or es-US"


class BadLanguageTag(ValueError):
    pass


@functools.lru_cache(maxsize=4096)  # a pure function of a short string; the registry lookup is slow
def standard_language_tag(value: str) -> str:
    """The tag in its standard form; `BadLanguageTag` for anything that is not a registered language."""
    value = value.strip()
    if len(value) > LANGUAGE_TAG_MAX or not langcodes.tag_is_valid(value):
        raise BadLanguageTag(LANGUAGE_TAG_HINT)
    return langcodes.standardize_tag(value)


# The shape a client can check before sending (in the OpenAPI documents); the registry check is `LanguageTag`'s.
LANGUAGE_TAG_SHAPE = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$"


def _registered(value: str) -> str:
    try:
        return standard_language_tag(value)
    except BadLanguageTag as exc:
        raise ValueError(str(exc)) from exc  # pydantic: a 422 naming the field


# Every language a body or query carries: a registered BCP 47 tag, stored in its standard form.
LanguageTag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=LANGUAGE_TAG_MAX, pattern=LANGUAGE_TAG_SHAPE),
    AfterValidator(_registered),
]
