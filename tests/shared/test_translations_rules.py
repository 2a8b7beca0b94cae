"""The shared translation rules as plain functions: a stale translation is never current or shown, the writer
never verifies their own, a verification names a qualification, and a reader gets the verified translation or
the original marked, in their language, as not yet translated."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from sop_shared.problems import InvalidInput
from sop_shared.translations import (
    QueueState,
    Source,
    TranslationState,
    VerifyIn,
    Words,
    is_current,
    pick,
    queue_items,
    source_digest,
    state_of,
    untranslated_note,
    verify,
)

WORDS = Source(language="en", version=2, text="Maria walks Sofia to school every morning")


@dataclass
class Row:
    source_version: int = 2
    source_digest: str | None = source_digest(WORDS.text)
    language: str = "es"
    text: str = "Maria lleva a Sofia a la escuela"
    verified: bool = False
    verified_by: str | None = None
    verifier_qualification: str | None = None
    verifier_subject: str | None = None
    verified_at: object = None
    translated_by: str = "Ana Cruz"
    created_by: str = "fsw.rivera"
    source_field: str = "text"
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def test_an_edit_of_the_words_makes_a_translation_stale_and_an_unchanged_new_version_does_not() -> None:
    edited = Source(language="en", version=3, text="Maria walks Sofia and Mateo to school")
    unchanged = Source(language="en", version=3, text=WORDS.text)
    assert is_current(Row(), WORDS) and state_of(Row(), WORDS) is TranslationState.needs_verifying
    assert not is_current(Row(), edited) and state_of(Row(verified=True, verifier_qualification="x"), edited) == "stale"
    assert is_current(Row(), unchanged)
    assert not is_current(Row(source_version=1, source_digest=None), WORDS)  # a row from before digests
    assert is_current(Row(source_digest=None), WORDS)


def test_the_writer_never_verifies_and_a_verification_records_a_qualification() -> None:
    body = VerifyIn(qualification="court_interpreter", verified_by="Grace Okafor")
    for subject, named in (("fsw.rivera", None), ("sup.okafor", "Ana Cruz"), ("sup.okafor", "FSW.RIVERA")):
        row = Row()
        with pytest.raises(InvalidInput) as refused:
            verify(
                row,
                VerifyIn(qualification="bilingual_staff", verified_by=named),
                verifier_subject=subject,
                source=WORDS,
            )
        assert [e["field"] for e in refused.value.errors] == ["verified_by"] and row.verified is False
    stale = Row(source_version=1, source_digest=source_digest("older words"))
    with pytest.raises(InvalidInput) as refused:
        verify(stale, body, verifier_subject="sup.okafor", source=WORDS)
    assert [e["field"] for e in refused.value.errors] == ["version"]
    row = Row()
    verify(row, body, verifier_subject="sup.okafor", source=WORDS)
    assert (row.verified, row.verified_by, row.verifier_qualification, row.verifier_subject) == (
        True,
        "Grace Okafor",
        "court_interpreter",
        "sup.okafor",
    )
    assert state_of(row, WORDS) is TranslationState.verified
    # A verification from before qualifications were recorded (a typed name only) does not count.
    assert state_of(Row(verified=True, verified_by="Luis"), WORDS) is TranslationState.needs_verifying


def test_a_reader_gets_the_newest_verified_current_translation_or_the_original_marked_untranslated() -> None:
    def carried(text: str, **flags: bool) -> dict[str, object]:
        return {"language": "es", "text": text, "verified": True, "current": True, **flags}

    shown = pick(
        WORDS.text, "en", [carried("vieja"), carried("nueva"), carried("sin verificar", verified=False)], "es-US"
    )
    assert (shown.text, shown.language, shown.untranslated) == ("nueva", "es", False)
    stale = pick(WORDS.text, "en", [carried("vieja", current=False)], "es")
    assert (stale.text, stale.language, stale.untranslated) == (WORDS.text, "en", True)
    assert pick(WORDS.text, "en", [], "en").untranslated is False
    assert untranslated_note("es", "inglés").startswith("Todavía no está traducido al español")
    assert untranslated_note("mh", "English").startswith("Not yet translated")


def test_the_queue_lists_untranslated_and_unverified_words_and_nothing_verified_or_already_in_the_language() -> None:
    case, goal, item, spanish = (uuid.uuid4() for _ in range(4))
    words = [
        Words(case, "safety_goal", goal, "text", WORDS),
        Words(case, "map_item", item, "text", WORDS),
        Words(case, "map_item", item, "by_whom", Source("en", 2, "Rosa")),
        Words(case, "statement", spanish, "text", Source("es", 1, "Ya en español")),
    ]
    verified = Row(verified=True, verifier_qualification="bilingual_staff")
    waiting = Row(id=uuid.UUID(int=7))
    items = queue_items(words, {goal: [verified], item: [waiting]}, "es")
    assert [(i.record_kind, i.source_field, i.state, i.translation_id) for i in items] == [
        ("map_item", "text", QueueState.needs_verifying, waiting.id),
        ("map_item", "by_whom", QueueState.untranslated, None),
    ]
