"""The solution-focused question bank: questions by type, audience and language, kept as data in
`question_bank/questions.json` (edit the file to change the bank; it is checked when the service loads it).

Drafted by the engineering team from the published SOP and solution-focused practice literature (Turnell &
Edwards; de Shazer & Berg) in our own words, and awaiting review by a practice lead (Spanish: a bilingual practice
reviewer) — hence `reviewed: false`. Marshallese questions are not given: nobody has written or reviewed them
yet, so asking for `mh` returns none rather than invented ones.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

BANK_FILE = Path(__file__).parent / "question_bank" / "questions.json"
QUESTION_TYPES = (
    "miracle",
    "exception",
    "coping",
    "relationship",
    "scaling",
    "preferred_future",
    "appreciative_inquiry",
)
AUDIENCES = ("caregiver", "child", "network", "worker")
# The solution-focused questions every family-facing audience has (issue 14): the bank is refused without them.
SOLUTION_FOCUSED = ("miracle", "exception", "coping", "relationship", "scaling")
FAMILY_AUDIENCES = ("caregiver", "child", "network")
REQUIRED_LANGUAGES = ("en", "es")


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    question_type: Literal[
        "miracle", "exception", "coping", "relationship", "scaling", "preferred_future", "appreciative_inquiry"
    ]
    audience: Literal["caregiver", "child", "network", "worker"]
    text: dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], Annotated[str, Field(min_length=1, max_length=1000)]]


class QuestionBank(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reviewed: bool
    note: str = ""
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> QuestionBank:
        problems = []
        keys = [q.key for q in self.questions]
        problems += [f"key {k} repeats" for k in sorted({k for k in keys if keys.count(k) > 1})]
        problems += [
            f"{q.key} has no {language} words"
            for q in self.questions
            for language in REQUIRED_LANGUAGES
            if language not in q.text
        ]
        have = {(q.question_type, q.audience) for q in self.questions}
        problems += [
            f"no {kind} question for the {audience}"
            for kind in SOLUTION_FOCUSED
            for audience in FAMILY_AUDIENCES
            if (kind, audience) not in have
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


@cache
def bank(path: Path = BANK_FILE) -> QuestionBank:
    """The bank as the data file says (a file that breaks the rules above stops the service, naming why)."""
    return QuestionBank.model_validate_json(path.read_bytes())


def keys() -> frozenset[str]:
    return frozenset(q.key for q in bank().questions)


def questions(
    *, question_type: str | None = None, audience: str | None = None, language: str = "en"
) -> list[dict[str, object]]:
    loaded = bank()
    return [
        {
            "key": q.key,
            "question_type": q.question_type,
            "audience": q.audience,
            "language": language,
            "text": q.text[language],
            "reviewed": loaded.reviewed,
        }
        for q in loaded.questions
        if language in q.text
        and (question_type is None or q.question_type == question_type)
        and (audience is None or q.audience == audience)
    ]
