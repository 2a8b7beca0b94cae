"""Which questions a contact may say were used: those of the question bank. No HTTP, no session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def question_errors(used: Sequence[Any], known: Iterable[str]) -> list[dict[str, str]]:
    """A question used must be one of the bank (`GET /v1/questions`), and each is named once."""
    known = set(known)
    errors, seen = [], set()
    for i, question in enumerate(used):
        if question.key not in known:
            errors.append(
                {"field": f"questions_used.{i}.key", "message": "not a question of the bank (GET /v1/questions)"}
            )
        elif question.key in seen:
            errors.append({"field": f"questions_used.{i}.key", "message": "this question is already listed"})
        seen.add(question.key)
    return errors
