"""Ready to share: the words a family, their network, a partner or the court read are finished words.

A statement, a safety goal or a map the worker writes is a *draft* until the worker marks it ready to share.
Marking it is allowed when its plain-language check finds nothing to fix, or with a reason the supervisor can
read (the worker and family chose those words, say). Who may read drafts is the policy table's
(`sop_shared.policy.may_see_unshared`): the agency only. Everyone else reads only shared records that are still
in force (never a withdrawn one). One rule, here; each service applies it to its own tables:

- `SharedRecord` adds the columns (who marked it, when, the reason when the check had findings);
- `shared_only(model, audience)` is the SQL filter a read adds for an audience that may not see drafts;
- `mark_ready_to_share(record, …)` is the domain rule a share endpoint calls.

A text that is edited after it was shared is a draft again (`unshare`): the family never reads words no one
has looked at since they changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, computed_field
from pydantic import Field as PydanticField
from sqlalchemy import ColumnElement
from sqlmodel import Field as Column
from sqlmodel import SQLModel, col

from sop_shared.db import UTCDateTime
from sop_shared.plain_language import LanguageFinding
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.problems import InvalidInput

WITHDRAWN = "withdrawn"


class Sharing(StrEnum):
    draft = "draft"  # not yet marked ready to share: only the agency reads it
    shared = "shared"  # marked ready to share: every audience the record's other rules allow reads it

    @classmethod
    def of(cls, shared_at: datetime | None) -> Sharing:
        """A record's sharing: a draft until it is marked ready to share (`shared_at` set)."""
        return cls.shared if shared_at is not None else cls.draft


class SharedRecord(SQLModel):
    """The sharing columns of a family-facing record (mixed into its table)."""

    shared_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    shared_by: str | None = Column(default=None, max_length=200)
    share_reason: str | None = Column(default=None, max_length=1000)

    @property
    def sharing(self) -> Sharing:
        return Sharing.of(self.shared_at)


class ShareIn(BaseModel):
    """Mark a record ready to share with the family, their network, partners and the court."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[
        str | None,
        PydanticField(
            min_length=3,
            max_length=1000,
            description="Why it is shared although the plain-language check has findings (the supervisor sees "
            "it). Not needed when the check finds nothing to fix.",
        ),
    ] = None


class SharingOut(BaseModel):
    """Whether the family, their network, partners and the court may read the record yet."""

    shared_at: datetime | None = PydanticField(default=None, description="When it was marked ready to share")
    shared_by: str | None = PydanticField(default=None, description="Who marked it ready to share")
    share_reason: str | None = PydanticField(
        default=None, description="Why it was shared although the plain-language check had findings"
    )

    @computed_field(description="`draft` until marked ready to share; only the agency reads a draft")  # type: ignore[prop-decorator]
    @property
    def sharing(self) -> Sharing:
        return Sharing.of(self.shared_at)


class Shareable(Protocol):
    shared_at: datetime | None
    shared_by: str | None
    share_reason: str | None


# What the agency writes about its own sharing (why words with findings were shared anyway): the supervisor's to
# read, not the family's. `MapOut.completion_exception` (a supervisor's waiver) is one more, passed by the maps.
AGENCY_NOTES = ("share_reason",)


def without_agency_notes(
    values: dict[str, Any], audience: Audience | None, notes: tuple[str, ...] = AGENCY_NOTES
) -> dict[str, Any]:
    """`values` as `audience` may read them: outside the agency the agency's notes are left out (None: the writer,
    who reads everything)."""
    if audience is None or may_see_unshared(audience):
        return values
    return {**values, **{name: None for name in notes if name in values}}


def findings_to_fix(findings: Iterable[LanguageFinding]) -> list[LanguageFinding]:
    """The findings that stand in the way of sharing: warnings (missing parts, jargon, labels, service
    compliance, negative phrasing). Informational notes do not."""
    return [f for f in findings if f.severity == "warning"]


def mark_ready_to_share(
    record: Shareable, *, findings: Iterable[LanguageFinding], reason: str | None, by: str, now: datetime
) -> None:
    """Mark `record` ready to share, by `by` at `now`. With findings to fix, a reason is required: 422 naming
    `reason` and listing the findings' codes, and nothing changes. Marking a shared record again refreshes
    who and when (and the reason)."""
    kept = reason_to_share(findings, reason)
    record.shared_at = now
    record.shared_by = by
    record.share_reason = kept


def reason_to_share(findings: Iterable[LanguageFinding], reason: str | None, *, field: str = "reason") -> str | None:
    """The reason kept for sharing words the plain-language check has `findings` on: None when nothing is to
    fix; with findings to fix a reason is required (422 naming `field`, listing the findings' codes)."""
    to_fix = findings_to_fix(findings)
    if to_fix and not (reason and reason.strip()):
        codes = sorted({f.code for f in to_fix})
        raise InvalidInput.field(
            field,
            "the plain-language check found something to fix (" + ", ".join(codes) + "): fix the words, or give the "
            "reason they are shared as they are",
        )
    return reason.strip() if to_fix and reason else None


def unshare(record: Shareable) -> None:
    """The words changed: a draft again until someone marks them ready to share."""
    record.shared_at = None
    record.shared_by = None
    record.share_reason = None


def shared_only(model: Any, audience: Audience) -> list[ColumnElement[bool]]:
    """The conditions a read of `model`'s rows adds for `audience`: none for the agency; for everyone else only
    shared rows, and (where the table has a status) none withdrawn."""
    if may_see_unshared(audience):
        return []
    conditions: list[ColumnElement[bool]] = [col(model.shared_at).is_not(None)]
    if hasattr(model, "status"):
        conditions.append(col(model.status) != WITHDRAWN)
    return conditions


def shown_to(record: Any, audience: Audience) -> bool:
    """The same rule as `shared_only`, for a row already loaded."""
    if may_see_unshared(audience):
        return True
    return record.shared_at is not None and str(getattr(record, "status", "")) != WITHDRAWN


def shown_to_reader(
    record: Any, audience: Audience, reader_person_id: Any = None, *, author: str = "person_id"
) -> bool:
    """`shown_to`, and a member's own words before they are shared: the person who wrote them (`author`: the
    record's person id field) reads them, as written, whatever became of them (a network commitment)."""
    if reader_person_id is not None and str(getattr(record, author, None)) == str(reader_person_id):
        return True
    return shown_to(record, audience)
