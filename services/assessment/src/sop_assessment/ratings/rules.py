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


def _occasion(rating: ScaleRating) -> tuple[Any, str]:
    return (rating.occasion_on, rating.occasion)


def trajectory(ratings: Sequence[ScaleRating], statement_id: uuid.UUID | None) -> dict[str, Any]:
    """Occasions oldest first, each with every rater's score, lowest, highest and mean; and each rater's
    own line with how far it moved since their previous rating."""
    ordered = sorted(ratings, key=lambda r: (_occasion(r), r.id))
    occasions: dict[tuple[Any, str], list[ScaleRating]] = {}
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
                "occasion": label,
                "ratings": [{"rater_name": r.rater_name, "rater_role": r.rater_role, "score": r.score} for r in rows],
                "lowest": min(r.score for r in rows),
                "highest": max(r.score for r in rows),
                "mean": round(sum(r.score for r in rows) / len(rows), 1),
            }
            for (on, label), rows in occasions.items()
        ],
        "raters": list(raters.values()),
    }


def latest_occasion(ratings: Sequence[ScaleRating]) -> list[ScaleRating]:
    """The ratings of the most recent occasion (all raters of that occasion)."""
    if not ratings:
        return []
    last = max(_occasion(r) for r in ratings)
    return sorted((r for r in ratings if _occasion(r) == last), key=lambda r: r.id)
