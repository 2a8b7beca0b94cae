"""What a member sends: never who they are (that is the token's person), only what they say."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sop_assessment.members.models import Stance
from sop_assessment.ratings.models import RaterRole
from sop_assessment.schemas import Strict
from sop_shared import case_refs
from sop_shared.language_tags import LanguageTag


class MemberRatingIn(Strict):
    """The member's own 0 to 10 rating of a danger statement they were shown (or, without `statement_id`, of
    the case overall), and what would move it one up. 0: the danger is certain to happen; 10: everyone agrees
    it is safe enough to close."""

    statement_id: case_refs.DangerStatementRef | None = Field(default=None, description="absent = overall")
    statement_version: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="The version of the statement shown (required with it)"
    )
    occasion_on: date | None = Field(default=None, description="Defaults to today")
    occasion: Annotated[str, Field(max_length=200)] = ""
    score: int = Field(ge=0, le=10)
    one_step_up: Annotated[str, Field(min_length=1, max_length=2000, description="What would move it one up")]
    rationale: Annotated[str | None, Field(max_length=2000, description="Why this number")] = None


class StatementResponseIn(Strict):
    """Agree, partly agree or disagree with a statement, in the member's own words (kept exactly as written)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)  # verbatim: not even the spaces go

    statement_version: int = Field(ge=1, le=2_147_483_647, description="The version of the words the member read")
    stance: Stance
    words: str = Field(min_length=1, max_length=4000, description="The member's own words, kept verbatim")
    language: LanguageTag | None = Field(default=None, description="The language written in")

    @field_validator("words")
    @classmethod
    def _some_words(cls, words: str) -> str:
        if not words.strip():
            raise ValueError("say it in your own words")
        return words  # verbatim: not stripped


class StatementResponseOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    statement_id: uuid.UUID
    statement_version: int
    person_id: uuid.UUID
    responder_name: str
    responder_role: RaterRole
    stance: Stance
    words: str
    language: str | None
    created_by: str
    created_at: datetime
