"""Dates, durations, numbers and lists in the reader's language come from Babel (CLDR): the region picks the
conventions, a language CLDR does not know is written in the fallback's, and no month name is written by hand
anywhere in the platform's code."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.dates import get_month_names

from sop_shared.locale_words import (
    babel_locale,
    date_words,
    duration_words,
    in_language_of,
    language_name,
    list_words,
    number_words,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("language", "date", "duration", "number", "names"),
    [
        ("en", "May 5, 2026", "1 year and 2 months", "1,234.5", "Ana, Luis, and Sofia"),
        ("es", "5 de mayo de 2026", "1 año y 2 meses", "1.234,5", "Ana, Luis y Sofia"),
        ("es-US", "5 de mayo de 2026", "1 año y 2 meses", "1,234.5", "Ana, Luis y Sofia"),  # US numbers
        ("mh", "May 5, 2026", "1 year and 2 months", "1,234.5", "Ana, Luis, and Sofia"),  # no CLDR data: English
    ],
)
def test_values_are_written_in_the_readers_locale(
    language: str, date: str, duration: str, number: str, names: str
) -> None:
    locale = babel_locale(language)
    assert date_words(dt.date(2026, 5, 5), locale) == date
    assert date_words("2026-05-05T22:30:00+00:00", locale) == date
    assert duration_words("P1Y2M", locale) == duration
    assert number_words(1234.5, locale) == number
    assert list_words(["Ana", "Luis", "Sofia"], locale) == names


def test_durations_and_dates_that_are_not_ones_are_not_guessed() -> None:
    locale = babel_locale("es")
    assert duration_words("3 months", locale) is None and duration_words("PT12H", locale) is None
    assert duration_words("P3M", locale) == "3 meses" and duration_words("p6w", locale) == "6 semanas"
    assert date_words("soon", locale) == "soon"


def test_values_follow_the_words_around_them() -> None:
    # A Marshallese reader's page has English labels: its dates are English too, never half and half.
    assert str(in_language_of("mh", "en")) == "en"
    assert str(in_language_of("es-US", "es")) == "es_US"
    assert language_name("mh", babel_locale("es")) == "marshalés"
    assert language_name("es-US", babel_locale("en")) == "Spanish"


def test_no_month_name_is_written_by_hand_in_the_code() -> None:
    months = [
        str(name)
        for language in ("en", "es")
        for name in get_month_names("wide", locale=babel_locale(language)).values()
        if name not in ("May", "mayo")  # also ordinary words
    ]
    alternatives = "|".join(months)
    pattern = re.compile(rf"""["'](?:{alternatives})["']""", re.IGNORECASE)
    sources = [
        path
        for folder in ("shared/src", "gateway/src", "services")
        for path in (ROOT / folder).rglob("*.py")
        if "/migrations/" not in str(path)
    ]
    assert len(sources) > 50
    found = [f"{path.relative_to(ROOT)}: {m.group(0)}" for path in sources for m in pattern.finditer(path.read_text())]
    assert found == []
