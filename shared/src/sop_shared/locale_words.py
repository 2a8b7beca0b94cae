"""Dates, durations, numbers and lists in a reader's language, from Babel (the Unicode CLDR data): no month
name, unit word or "and" is written by hand anywhere in the platform.

A language is a BCP-47 tag (`es-US`); its region picks the number and date conventions (`es-US` writes
1,234.5, `es` 1.234,5). A language CLDR does not know (Marshallese, `mh`) is written in `fallback`'s: the
words around a date are then in that language too (the family page shows English labels for `mh`).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from sop_shared.plain_language import primary_language

DEFAULT_LANGUAGE = "en"

# ISO-8601 durations of years, months, weeks and days (`P1Y2M`, `P6W`): how long a goal or a plan must hold.
# Hours and minutes are refused: a caregiver shows safety over weeks and months, not hours.
_DURATION = re.compile(r"^P(?:(?P<Y>\d{1,3})Y)?(?:(?P<M>\d{1,3})M)?(?:(?P<W>\d{1,3})W)?(?:(?P<D>\d{1,4})D)?$")
_UNITS = {"Y": "duration-year", "M": "duration-month", "W": "duration-week", "D": "duration-day"}


@cache
def babel_locale(language: str, fallback: str = DEFAULT_LANGUAGE) -> Locale:
    """The CLDR locale for a BCP-47 tag (`es-US` → es_US, `es` → es); `fallback` when CLDR has none."""
    for tag in (language, primary_language(language), fallback):
        try:
            return Locale.parse(tag.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(DEFAULT_LANGUAGE)


def in_language_of(language: str, words_language: str) -> Locale:
    """The locale to write a value in when the words around it are in `words_language`: the reader's own
    locale (with its region) when the words are in the reader's language, else `words_language`'s."""
    if primary_language(language) == primary_language(words_language):
        return babel_locale(language, words_language)
    return babel_locale(words_language)


def date_words(value: dt.date | dt.datetime | str, locale: Locale, *, length: str = "long") -> str:
    """`2026-05-05` → "May 5, 2026" / "5 de mayo de 2026". A datetime or ISO string is taken by its date;
    anything that is not a date is returned as it is."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return format_date(day, format=length, locale=locale)


def parse_duration(value: str) -> dict[str, int] | None:
    """`P3M` → {"M": 3}; None unless an ISO-8601 duration of years, months, weeks or days above zero."""
    match = _DURATION.match(value.strip().upper()) if value else None
    if match is None:
        return None
    parts = {unit: int(n) for unit, n in match.groupdict().items() if n is not None and int(n) > 0}
    return parts or None


def duration_words(value: str, locale: Locale) -> str | None:
    """`P1Y2M` → "1 year and 2 months" / "1 año y 2 meses"; None when `value` is not such a duration."""
    parts = parse_duration(value)
    if parts is None:
        return None
    return list_words([format_unit(n, _UNITS[unit], length="long", locale=locale) for unit, n in parts.items()], locale)


def number_words(value: int | float, locale: Locale) -> str:
    """1234.5 → "1,234.5" (en, es-US) / "1.234,5" (es)."""
    return format_decimal(value, locale=locale)


def percent_words(value: float, locale: Locale) -> str:
    """0.625 → "62%" (en) / "62 %" (es): whole percents, as a dashboard shows a rate."""
    return format_percent(value, locale=locale)


def list_words(items: list[str], locale: Locale) -> str:
    """["Ana", "Luis", "Sofia"] → "Ana, Luis, and Sofia" / "Ana, Luis y Sofia"."""
    return format_list(items, locale=locale) if items else ""


def language_name(language: str, locale: Locale) -> str:
    """`es` → "Spanish" (en) / "español" (es); the tag itself when CLDR has no name for it."""
    name = locale.languages.get(primary_language(language))
    return str(name) if name else language
