"""Person matching: plain functions that suggest likely duplicates (name + date of birth). They suggest;
people decide. Nothing here merges anything."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Protocol, TypeVar

LIKELY = 0.8


class Named(Protocol):
    first_name: str
    last_name: str
    date_of_birth: date | None


P = TypeVar("P", bound=Named)


def normalise(name: str) -> str:
    """Case, accents, spaces, hyphens and apostrophes do not make two names different."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def name_similarity(a: str, b: str) -> float:
    a, b = normalise(a), normalise(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if len(a) > 2 and len(b) > 2 and (a.startswith(b) or b.startswith(a)):
        return 0.9  # "Rosa" / "Rosalinda", "Greene" / "Green"
    return SequenceMatcher(None, a, b).ratio()


def dob_similarity(a: date | None, b: date | None) -> float:
    """1 same day; 0.7 day and month swapped or a one-digit slip; 0.5 one of them unknown; else 0."""
    if a is None or b is None:
        return 0.5
    if a == b:
        return 1.0
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return 0.7
    differing = sum(x != y for x, y in zip(a.isoformat(), b.isoformat(), strict=True))
    return 0.7 if differing == 1 else 0.0


def match_score(a: Named, b: Named) -> float:
    straight = (name_similarity(a.first_name, b.first_name) + name_similarity(a.last_name, b.last_name)) / 2
    swapped = (name_similarity(a.first_name, b.last_name) + name_similarity(a.last_name, b.first_name)) / 2
    return round(0.6 * max(straight, swapped * 0.95) + 0.4 * dob_similarity(a.date_of_birth, b.date_of_birth), 3)


@dataclass(frozen=True)
class Suggestion:
    candidate: object
    score: float


def suggest_duplicates(
    person: Named, candidates: Iterable[P], *, threshold: float = LIKELY, limit: int = 10
) -> list[tuple[P, float]]:
    """Candidates scoring at least `threshold`, best first."""
    scored = [(c, match_score(person, c)) for c in candidates if c is not person]
    return sorted([s for s in scored if s[1] >= threshold], key=lambda s: -s[1])[:limit]
