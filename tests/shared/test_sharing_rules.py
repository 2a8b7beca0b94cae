"""The ready-to-share rule as plain functions: who reads drafts (the policy table), when a reason is needed, and
the filter every read outside the agency applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from sop_shared.plain_language import LanguageFinding
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.problems import InvalidInput
from sop_shared.sharing import Sharing, SharingOut, findings_to_fix, mark_ready_to_share, shown_to, unshare

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
JARGON = LanguageFinding(code="jargon", severity="warning", message="say it plainly", term="UA")
NOTE = LanguageFinding(code="reading_grade", severity="info", message="grade 6")


@dataclass
class Record:
    shared_at: datetime | None = None
    shared_by: str | None = None
    share_reason: str | None = None
    status: str = "active"


def test_only_the_agency_reads_drafts() -> None:
    assert {a for a in Audience if may_see_unshared(a)} == {Audience.staff, Audience.supervisor}


def test_plain_words_are_shared_without_a_reason_and_informational_notes_do_not_count() -> None:
    record = Record()
    mark_ready_to_share(record, findings=[NOTE], reason=None, by="fsw.rivera", now=NOW)
    assert (record.shared_at, record.shared_by, record.share_reason) == (NOW, "fsw.rivera", None)
    assert findings_to_fix([NOTE, JARGON]) == [JARGON]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_finding_to_fix_needs_a_reason_naming_the_finding_and_nothing_changes(reason: str | None) -> None:
    record = Record()
    with pytest.raises(InvalidInput) as refused:
        mark_ready_to_share(record, findings=[JARGON], reason=reason, by="fsw.rivera", now=NOW)
    [error] = refused.value.errors
    assert error["field"] == "reason" and "jargon" in error["message"]
    assert record == Record()


def test_a_reason_is_kept_only_when_it_was_needed_and_new_words_unshare() -> None:
    record = Record()
    mark_ready_to_share(record, findings=[JARGON], reason=" Maria's own words ", by="fsw.rivera", now=NOW)
    assert record.share_reason == "Maria's own words"
    unshare(record)
    assert record == Record()


def test_outside_the_agency_only_shared_records_still_in_force_are_shown() -> None:
    shared = Record(shared_at=NOW, shared_by="fsw.rivera")
    withdrawn = Record(shared_at=NOW, shared_by="fsw.rivera", status="withdrawn")
    for audience in Audience:
        agency = may_see_unshared(audience)
        assert shown_to(Record(), audience) is agency
        assert shown_to(withdrawn, audience) is agency
        assert shown_to(shared, audience) is True


def test_the_api_says_draft_or_shared_from_when_it_was_shared() -> None:
    assert SharingOut().sharing == Sharing.draft
    assert SharingOut(shared_at=NOW).model_dump()["sharing"] == Sharing.shared


def test_a_record_is_a_draft_until_it_is_marked_ready_to_share() -> None:
    """One rule for the record's column, its answer's computed field and the case view's plain answer."""
    marked = datetime(2026, 12, 7, tzinfo=UTC)
    assert Sharing.of(None) is Sharing.draft
    assert Sharing.of(marked) is Sharing.shared
    assert SharingOut().sharing is Sharing.draft
    assert SharingOut(shared_at=marked).sharing is Sharing.shared
