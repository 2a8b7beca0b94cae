"""Rules of statement translations on the statement's own routes (the older way in, kept): what such a
translation must say, and which an audience is shown. The translation rules themselves are the shared ones
(`sop_shared.translations`). No HTTP, no session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sop_assessment.translations.schemas import StatementTranslationIn
from sop_shared.plain_language import primary_language
from sop_shared.translations import Source, is_current


def translation_errors(
    body: StatementTranslationIn, *, statement_language: str, statement_version: int
) -> list[dict[str, str]]:
    """Every reason the translation cannot be recorded. A verified translation names its verifier, who is
    not the translator, and the verifier's qualification; a translation is into another language than the
    statement's own; it translates a version the statement has had."""
    errors: list[dict[str, str]] = []
    if body.verified and not body.verified_by:
        errors.append({"field": "verified_by", "message": "a verified translation names who verified it"})
    if not body.verified and body.verified_by:
        errors.append(
            {"field": "verified_by", "message": "only a verified translation names a verifier; send verified: true"}
        )
    if body.verified and body.verified_by and body.verified_by.casefold() == body.translated_by.casefold():
        errors.append({"field": "verified_by", "message": "someone other than the translator verifies it"})
    if body.verified and body.verified_by and body.verifier_qualification is None:
        errors.append(
            {"field": "verifier_qualification", "message": "a verified translation says what qualifies its verifier"}
        )
    if primary_language(body.language) == primary_language(statement_language):
        errors.append({"field": "language", "message": f"the statement is already in {statement_language}"})
    if body.statement_version is not None and body.statement_version > statement_version:
        errors.append({"field": "statement_version", "message": f"the statement is at version {statement_version}"})
    return errors


T = TypeVar("T", bound=Any)


def shown_translations(
    translations: Iterable[T],
    *,
    source: Source,
    withheld: bool,
    shows_reporter: bool,
    current_only: bool = False,
) -> Sequence[T]:
    """The translations an audience is shown: none of a withheld statement, none naming the reporter to an
    audience that may not see the reporter, and (in the case view) only current ones."""
    if withheld:
        return []
    return [
        t
        for t in translations
        if (shows_reporter or not t.names_reporter) and (not current_only or is_current(t, source))
    ]
