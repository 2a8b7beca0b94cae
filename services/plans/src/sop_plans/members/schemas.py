"""What a member sends: never who they are (that is the token's person), only what they say."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from sop_plans.models import SignatureDecision, SignatureMethod
from sop_plans.schemas import InterpreterIn, Strict
from sop_shared import case_refs


class MemberSignatureIn(Strict):
    """A member signs (or refuses, with a reason) the version they read, named by number and content hash: if
    the plan has moved on since it was shown to them, nothing is recorded (409)."""

    version_number: int = Field(ge=1, le=2_147_483_647)
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    decision: SignatureDecision = SignatureDecision.signed
    method: SignatureMethod | None = Field(default=None, description="Required when signing")
    typed_name: str | None = Field(default=None, min_length=1, max_length=200)
    affirmation: str | None = Field(default=None, min_length=1, max_length=2000)
    image_png_base64: str | None = Field(default=None, max_length=2_000_000)
    refusal_reason: str | None = Field(default=None, min_length=1, max_length=2000)
    interpreter: InterpreterIn | None = Field(
        default=None, description="Required to sign a version whose language is not the member's own"
    )


class MemberCheckInIn(Strict):
    """A member says whether a rule they watch was kept (or broken) — on the version in force they were shown."""

    version_number: int = Field(ge=1, le=2_147_483_647, description="The version in force the member was shown")
    rule_id: case_refs.SafetyPlanRuleRef = Field(description="A rule of that version that the member watches")
    kept: bool = Field(description="false: the rule was broken")
    occurred_at: AwareDatetime | None = Field(default=None, description="When it was seen; defaults to now")
    note: str | None = Field(default=None, min_length=1, max_length=4000, description="In the member's own words")
