"""Rules for safety-scale ratings: the trajectory over occasions and the latest occasion. No HTTP, no session."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sop_assessment.ratings.models import OVERALL, ScaleRating


def target_of(statement_id: uuid.UUID | None) -> str:
    return str(statement_id) if statement_id is not None else OVERALL


def rater_key(name: str) -> str:
    """One rater per statement per occasion: 'Maria Lopez' and ' maria  lopez' are the same person."""
    return " ".join(name.split()).casefold()


def _occasion(rating: ScaleRating) -> Any:
    """An occasion is a day: the same rater on the same day is one occasion, whatever its label says (a
    mislabelled second occasion drew a false dip in the family's chart)."""
    return rating.occasion_on


def _labels(rows: Sequence[ScaleRating]) -> str:
    return " / ".join(dict.fromkeys(r.occasion for r in rows if r.occasion))


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def fixed_anchors(
    given: tuple[str, str], fixed: tuple[str, str] | None, *, given_fields: set[str]
) -> tuple[tuple[str, str], list[dict[str, str]]]:
    """The anchors of a case's scale for one statement (or overall) are fixed by its first rating: 0 = the
    danger is certain to happen, 10 = everyone agrees it is safe enough to close. A rating that does not give
    them takes the fixed ones; one that gives others is refused, so no rating silently reverses the scale."""
    if fixed is None:
        return given, []
    errors = [
        {"field": name, "message": f"this scale's anchors are fixed by its first rating: {want!r}"}
        for name, have, want in (("zero_anchor", given[0], fixed[0]), ("ten_anchor", given[1], fixed[1]))
        if name in given_fields and not _same_words(have, want)
    ]
    return fixed, errors


def trajectory(ratings: Sequence[ScaleRating], statement_id: uuid.UUID | None) -> dict[str, Any]:
    """Occasions oldest first, each with every rater's score, lowest, highest and mean; and each rater's
    own line with how far it moved since their previous rating."""
    if not ratings:  # most danger statements of a case are not rated yet
        return {"statement_id": statement_id, "occasions": [], "raters": []}
    ordered = sorted(live(ratings), key=lambda r: (_occasion(r), r.id))
    occasions: dict[Any, list[ScaleRating]] = {}
    for rating in ordered:
        occasions.setdefault(_occasion(rating), []).append(rating)
    raters: dict[str, dict[str, Any]] = {}
    for rating in ordered:
        series = raters.setdefault(
            rating.rater_key, {"rater_name": rating.rater_name, "rater_role": rating.rater_role, "points": []}
        )
        previous = series["points"][-1]["score"] if series["points"] else None
        series["points"].append(
            {
                "occasion_on": rating.occasion_on,
                "occasion": rating.occasion,
                "score": rating.score,
                "change": rating.score - previous if previous is not None else None,
            }
        )
    return {
        "statement_id": statement_id,
        "occasions": [
            {
                "occasion_on": on,
                "occasion": _labels(rows),
                "ratings": [{"rater_name": r.rater_name, "rater_role": r.rater_role, "score": r.score} for r in rows],
                "lowest": min(r.score for r in rows),
                "highest": max(r.score for r in rows),
                "mean": round(sum(r.score for r in rows) / len(rows), 1),
            }
            for on, rows in occasions.items()
        ],
        "raters": list(raters.values()),
    }


def live(ratings: Sequence[ScaleRating]) -> list[ScaleRating]:
    """The ratings not withdrawn: a withdrawn rating is kept, but draws nothing."""
    return [r for r in ratings if r.withdrawn_at is None]


def latest_occasion(ratings: Sequence[ScaleRating]) -> list[ScaleRating]:
    """The ratings of the most recent occasion (all raters of that occasion), withdrawn ones left out."""
    ratings = live(ratings)
    if not ratings:
        return []
    last = max(_occasion(r) for r in ratings)
    return sorted((r for r in ratings if _occasion(r) == last), key=lambda r: r.id)
