"""Translations of the words a family reads: one rule for every family-facing text, each service applies it to
its own table (as `sop_shared.sharing` does for "ready to share").

A translation is a person's rendering of one field of one record (a statement's words, a plan rule's trigger,
a network commitment, …) as it read at one version, into one language. The rules, here and nowhere else:

- it is written by a person (`translated_by`) and never by a machine: nothing in the platform translates;
- it counts for a family only once *another* qualified person verified it: the verifier is the signed-in
  person who verifies it (`verifier_subject`), never the one who recorded it nor the named translator, and
  their role or qualification is recorded (`verifier_qualification`), not only a typed name;
- it speaks for the words as they read then: when the source text is edited (its version moves and its words
  differ) it is stale, kept for the record and never shown as current;
- a reader is shown the current verified translation into their language, or the original words marked, in
  the reader's language, as not yet translated (`pick`).

`TranslationRecord` adds the columns to a service's `translation` table; `TranslationIn`, `TranslationOut` and
`VerifyIn` are the API's bodies; `translation_errors` and `verify` are the domain rules a route calls.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Protocol

import sqlalchemy as sa
from pydantic import BaseModel, StringConstraints
from pydantic import Field as PydanticField
from sqlalchemy import Text
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import AutoString

from sop_shared.case_refs import NotCaseScoped
from sop_shared.db import UTCDateTime, utcnow
from sop_shared.ids import new_id
from sop_shared.input_models import Strict as Strict  # re-exported: the service's bodies import it from here
from sop_shared.language_tags import LanguageTag
from sop_shared.plain_language import primary_language
from sop_shared.problems import InvalidInput

PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Qualification(StrEnum):
    """What makes the verifier fit to check a translation (recorded with the verification)."""

    certified_translator = "certified_translator"  # certified by a translators' association or a court
    court_interpreter = "court_interpreter"  # a court-certified interpreter
    qualified_interpreter = "qualified_interpreter"  # an interpreter who passed an official test
    bilingual_staff = "bilingual_staff"  # agency staff whose language skill the agency tested


class TranslationState(StrEnum):
    needs_verifying = "needs_verifying"  # written, current, not yet verified by a second qualified person
    verified = "verified"  # current and verified: what a family reads
    stale = "stale"  # the source words changed since: kept for the record, never shown as current


def source_digest(text: str) -> str:
    """A fingerprint of the words a translation translates: it tells an edit of the words from a new version
    that left them as they were."""
    return hashlib.sha256(text.strip().encode()).hexdigest()


class TranslationRecord(SQLModel):
    """The columns of a service's `translation` table (mixed into its table)."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    record_kind: str = Field(max_length=40)  # what was translated: "statement", "plan_rule", …
    record_id: uuid.UUID = Field(index=True)
    source_field: str = Field(default="text", max_length=60)  # which of its fields: "text", "trigger", …
    source_version: int  # the record's version whose words were translated
    source_digest: str | None = Field(default=None, max_length=64)  # None: recorded before digests were kept
    language: str = Field(max_length=35)
    text: str = Field(sa_type=Text)
    translated_by: str = Field(max_length=200)
    # Whether the text names who reported (statements): only audiences that may see the reporter are shown it.
    names_reporter: bool = False
    verified: bool = False
    verified_by: str | None = Field(default=None, max_length=200)
    verifier_qualification: str | None = Field(default=None, max_length=40)
    verifier_subject: str | None = Field(default=None, max_length=200)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Translation(Protocol):
    source_version: int
    source_digest: str | None
    language: str
    text: str
    verified: bool
    verifier_qualification: str | None


# Which record `record_id` names depends on `record_kind`, so no single CaseRef kind fits: the translation routes
# look the record up within the path's case themselves (404 outside it, like any other case's record).
TranslatedRecordId = Annotated[
    uuid.UUID, NotCaseScoped("a record of `record_kind`, looked up within the path's case by the translation routes")
]


class TranslationIn(Strict):
    """A person's translation of one field of one record, as it reads now (or at `source_version`). Verifying
    it is a second step, by another person (`POST …/translations/{id}/verify`)."""

    record_kind: str = PydanticField(max_length=40, description="What is translated (see docs/api.md)")
    record_id: TranslatedRecordId
    source_field: str = PydanticField(default="text", max_length=60, description="Which of its fields")
    language: LanguageTag
    text: str = PydanticField(min_length=1, max_length=20000)
    translated_by: PersonName = PydanticField(description="The person who translated it")
    source_version: int | None = PydanticField(default=None, ge=1)


class VerifyIn(Strict):
    """The signed-in person verifies a translation they did not write: their qualification is recorded."""

    qualification: Qualification
    verified_by: PersonName | None = PydanticField(
        default=None, description="The verifier's name as the family should read it (default: their subject)"
    )
    version: int | None = PydanticField(
        default=None, ge=1, description="The source version the verifier read (default: the translation's)"
    )


class TranslationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    record_kind: str
    record_id: uuid.UUID
    source_field: str
    source_version: int
    language: str
    text: str
    translated_by: str
    verified: bool
    verified_by: str | None
    verifier_qualification: str | None
    verified_at: datetime | None
    state: TranslationState
    current: bool = PydanticField(description="Whether it translates the words as they read now")
    created_by: str
    created_at: datetime


# What staff write in. Words recorded without a language of their own (what a worker wrote down with a network
# member: their commitments) are in it, and are translated from it like any other words.
AGENCY_LANGUAGE = "en"


class CarriedTranslation(BaseModel):
    """A current translation as a read model carries it, for the gateway to pick the reader's language."""

    language: str
    text: str
    verified: bool
    current: bool
    translated_by: str
    source_field: str = PydanticField(default="text", description="Which of the record's fields it translates")


@dataclass(frozen=True)
class Source:
    """The words being translated, as they read now."""

    language: str
    version: int
    text: str


def is_current(translation: Translation, source: Source) -> bool:
    """A translation speaks for the words as they read then: current while the version it translated is the
    record's, or (a new version that left these words as they were) while the words are the same."""
    if translation.source_version == source.version:
        return translation.source_digest is None or translation.source_digest == source_digest(source.text)
    return translation.source_digest is not None and translation.source_digest == source_digest(source.text)


def is_verified(translation: Translation) -> bool:
    """Verified by a second person whose qualification is on the record (a verification with only a typed
    name, from before qualifications were recorded, does not count)."""
    return bool(translation.verified and translation.verifier_qualification)


def state_of(translation: Translation, source: Source) -> TranslationState:
    if not is_current(translation, source):
        return TranslationState.stale
    return TranslationState.verified if is_verified(translation) else TranslationState.needs_verifying


def translation_errors(body: TranslationIn, source: Source, *, fields: Iterable[str]) -> list[dict[str, str]]:
    """Every reason the translation cannot be recorded: a field the record has no words in, the record's own
    language, a version the record has not had."""
    errors: list[dict[str, str]] = []
    if body.source_field not in set(fields):
        errors.append({"field": "source_field", "message": "one of: " + ", ".join(sorted(fields))})
    if primary_language(body.language) == primary_language(source.language):
        errors.append({"field": "language", "message": f"the words are already in {source.language}"})
    if body.source_version is not None and body.source_version > source.version:
        errors.append({"field": "source_version", "message": f"the record is at version {source.version}"})
    return errors


def verification_errors(
    translation: Any, *, verifier_subject: str, verified_by: str, source: Source, version: int | None
) -> list[dict[str, str]]:
    """Every reason the signed-in person cannot verify `translation`: they recorded it or are its translator;
    it is verified already; it is stale, or the verifier read another version than the one translated."""
    errors: list[dict[str, str]] = []
    if verifier_subject.casefold() == str(translation.created_by).casefold() or verified_by.casefold() in {
        str(translation.translated_by).casefold(),
        str(translation.created_by).casefold(),
    }:
        errors.append({"field": "verified_by", "message": "someone other than the translator verifies it"})
    if is_verified(translation):
        errors.append({"field": "qualification", "message": "it is verified already"})
    if version is not None and version != translation.source_version:
        errors.append({"field": "version", "message": f"it translates version {translation.source_version}"})
    elif not is_current(translation, source):
        errors.append({"field": "version", "message": "the words changed since: translate them again"})
    return errors


def verify(
    translation: Any, body: VerifyIn, *, verifier_subject: str, source: Source, now: datetime | None = None
) -> None:
    """Record the verification on `translation` (422 naming the field, nothing changed, when not allowed)."""
    verified_by = body.verified_by or verifier_subject
    errors = verification_errors(
        translation, verifier_subject=verifier_subject, verified_by=verified_by, source=source, version=body.version
    )
    if errors:
        raise InvalidInput(errors)
    translation.verified = True
    translation.verified_by = verified_by
    translation.verifier_qualification = body.qualification.value
    translation.verifier_subject = verifier_subject
    translation.verified_at = now or utcnow()


def translation_out(translation: Any, source: Source) -> TranslationOut:
    values = {name: getattr(translation, name) for name in TranslationOut.model_fields if hasattr(translation, name)}
    state = state_of(translation, source)
    return TranslationOut.model_validate({**values, "state": state, "current": state is not TranslationState.stale})


def carried(translations: Iterable[Any], source: Source) -> list[CarriedTranslation]:
    """The current translations a read model carries (verified or not: the reader's side picks)."""
    return [
        CarriedTranslation(
            language=t.language,
            text=t.text,
            verified=is_verified(t),
            current=True,
            translated_by=t.translated_by,
            source_field=t.source_field,
        )
        for t in translations
        if is_current(t, source)
    ]


# --- what a reader is shown ---

# The child's words in a child-voice record's content, by key (Three Houses entries, Safety House rules, …).
CHILD_WORDS = ("words", "text", "why_safe", "why", "child_name_for_house")


def child_words(content: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every piece of the child's words in `content`, by its path (`houses.0.entries.1.words`): what is
    translated (beside the words, never over them) and what a reader is shown."""
    if isinstance(content, Mapping):
        for key, value in content.items():
            path = f"{prefix}{key}"
            if key in CHILD_WORDS and isinstance(value, str) and value.strip():
                yield path, value
            else:
                yield from child_words(value, f"{path}.")
    elif isinstance(content, list):
        for index, value in enumerate(content):
            yield from child_words(value, f"{prefix}{index}.")


# "Not yet translated", said in the reader's language: {language} is the original's language, named in the
# reader's language. Languages without a sentence here get the English one (and the page says so).
UNTRANSLATED = {
    "en": "Not yet translated into English. The original words, in {language}:",
    "es": "Todavía no está traducido al español. Las palabras originales, en {language}:",
}


@dataclass(frozen=True)
class Shown:
    """The words to show a reader: `text` in `language`; `untranslated` when no current verified translation
    into the reader's language exists and the original is shown instead (mark it, in the reader's language,
    with `untranslated_note`, and give the text its own `lang`)."""

    text: str
    language: str
    original_language: str
    untranslated: bool


def pick(
    original: str, original_language: str, translations: Iterable[Mapping[str, Any]], reader_language: str
) -> Shown:
    """The words to show in `reader_language`: the original when it is already in that language; else the
    newest current, verified translation into it (the lists run oldest first); else the original, marked as not
    yet translated (an unverified or stale translation is never shown as current)."""
    if original_language == reader_language:  # the common case, without working out the primary languages
        return Shown(original, original_language, original_language, False)
    wanted = primary_language(reader_language)
    if primary_language(original_language) == wanted:
        return Shown(original, original_language, original_language, False)
    for translation in reversed(list(translations)):
        if (
            primary_language(str(translation.get("language", ""))) == wanted
            and translation.get("verified")
            and translation.get("current")
            and translation.get("text")
        ):
            return Shown(str(translation["text"]), str(translation["language"]), original_language, False)
    return Shown(original, original_language, original_language, True)


def untranslated_note(reader_language: str, original_language_name: str) -> str:
    """The mark on words not yet translated, in the reader's language (English where there is no sentence)."""
    sentence = UNTRANSLATED.get(primary_language(reader_language), UNTRANSLATED["en"])
    return sentence.format(language=original_language_name)


# --- a unit's translation queue ---


class QueueState(StrEnum):
    untranslated = "untranslated"  # no translation into the language, or only stale ones
    needs_verifying = "needs_verifying"  # a current translation waits for a second, qualified person


class QueueItem(BaseModel):
    """Words a family reads that wait for a person: a translation into the queue's language, or its check."""

    case_id: uuid.UUID
    record_kind: str
    record_id: uuid.UUID
    source_field: str
    source_version: int
    source_language: str
    text: str = PydanticField(description="The words as they read now")
    state: QueueState
    translation_id: uuid.UUID | None = PydanticField(
        default=None, description="The newest current translation waiting to be verified"
    )


class TranslationQueue(BaseModel):
    language: str
    items: list[QueueItem]


@dataclass(frozen=True)
class Words:
    """One field of one record that a family reads, offered to the queue."""

    case_id: uuid.UUID
    record_kind: str
    record_id: uuid.UUID
    source_field: str
    source: Source


def queue_items(
    words: Iterable[Words], translations: Mapping[uuid.UUID, Iterable[Any]], language: str
) -> list[QueueItem]:
    """What waits for a person in `language`: words with no current translation into it, and words whose
    current translations are none of them verified. Words already in `language` wait for nothing."""
    wanted = primary_language(language)
    items = []
    for w in words:
        if not w.source.text.strip() or primary_language(w.source.language) == wanted:
            continue
        current = [
            t
            for t in translations.get(w.record_id, [])
            if t.source_field == w.source_field and primary_language(t.language) == wanted and is_current(t, w.source)
        ]
        if any(is_verified(t) for t in current):
            continue
        items.append(
            QueueItem(
                case_id=w.case_id,
                record_kind=w.record_kind,
                record_id=w.record_id,
                source_field=w.source_field,
                source_version=w.source.version,
                source_language=w.source.language,
                text=w.source.text,
                state=QueueState.needs_verifying if current else QueueState.untranslated,
                translation_id=current[-1].id if current else None,
            )
        )
    return items


def translation_table_columns() -> list[sa.schema.SchemaItem]:
    """The `translation` table's columns as its first migration in each service creates them (and only that
    migration: a later change of the table is a migration of its own, never a change here)."""
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("record_kind", AutoString(length=40), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("source_field", AutoString(length=60), nullable=False),
        sa.Column("source_version", sa.Integer(), nullable=False),
        sa.Column("source_digest", AutoString(length=64), nullable=True),
        sa.Column("language", AutoString(length=35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("translated_by", AutoString(length=200), nullable=False),
        sa.Column("names_reporter", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_by", AutoString(length=200), nullable=True),
        sa.Column("verifier_qualification", AutoString(length=40), nullable=True),
        sa.Column("verifier_subject", AutoString(length=200), nullable=True),
        sa.Column("verified_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", AutoString(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_translation"),
    ]


def without_carried_translations(value: Any) -> Any:
    """An item as a read gave it (with the `translations` beside its words) may be sent back with a save: the
    translations are read only (recorded with `POST …/translations`), so they are left out, not refused."""
    if isinstance(value, dict) and "translations" in value:
        return {k: v for k, v in value.items() if k != "translations"}
    return value
