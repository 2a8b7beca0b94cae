"""What one audience may see of a statement: decided only by `sop_shared.policy.may_see`, the one policy table.

Two rules. The reporter (`who_reported`) is `reporter_identity`: an audience that may not see it gets the
statement without it (a composed sentence is composed again without the reporter; in the worker's own text
the reporter's exact words become "someone"). A statement carrying a label the audience may not see (e.g.
`substance_use_part2` without a recorded consent for that audience) is withheld: a fixed plain sentence in
the reader's language stands in for its text and every structured part is emptied. Either way `redacted`
names the fields withheld. No HTTP, no session.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sop_assessment.models import StatementKind, TextSource
from sop_assessment.statements.rules import PARTS, SHARED_FIELDS, compose_text
from sop_shared.plain_language import primary_language
from sop_shared.policy import Audience, SensitivityLabel, may_see

WITHHELD_TEXT = {
    "en": "Part of this worry is private and is not shown here.",
    "es": "Parte de esta preocupación es privada y no se muestra aquí.",
}
# What stands for the reporter in a worker's own text, by the statement's language ("…" where none is reviewed).
SOMEONE = {"en": "someone", "es": "alguien"}
LABEL_FIELDS = ("sensitivity_labels", "consented_audiences")
LIST_FIELDS = frozenset({"caregivers", "children", "threat_codes", "agrees", "disputes", *LABEL_FIELDS})


@dataclass(frozen=True)
class StatementView:
    """A statement's values as one audience is shown them."""

    values: dict[str, Any]
    redacted: list[str] = field(default_factory=list)
    withheld: bool = False  # the whole statement stands behind the fixed sentence

    @property
    def shows_reporter(self) -> bool:
        return "who_reported" not in self.redacted


def hidden_labels(labels: Iterable[str], audience: Audience, consented_audiences: Iterable[str]) -> list[str]:
    """The statement's labels this audience may not see (a consent counts for the audiences it names)."""
    consented = audience.value in set(consented_audiences)
    return [label for label in labels if not may_see(SensitivityLabel(label), audience, consented=consented)]


def is_withheld(labels: Iterable[str] | None, consented_audiences: Iterable[str] | None, audience: Audience) -> bool:
    """Whether the statement with these labels and consents stands behind the fixed sentence for `audience`
    (`statement_view`'s `withheld`, without building the view). Most statements carry no label: nothing to weigh."""
    return bool(labels) and bool(hidden_labels(labels or [], audience, consented_audiences or []))


def may_see_reporter(audience: Audience) -> bool:
    return may_see(SensitivityLabel.reporter_identity, audience)


def withheld_text(language: str) -> tuple[str, str]:
    """The fixed sentence in the reader's language (English where no reviewed wording exists), and that language."""
    lang = primary_language(language)
    lang = lang if lang in WITHHELD_TEXT else "en"
    return WITHHELD_TEXT[lang], lang


def statement_view(values: Mapping[str, Any], audience: Audience, *, language: str = "en") -> StatementView:
    """The statement (`values`: its columns) as `audience` may see it; `language` is the reader's, used only
    for the fixed sentence of a withheld statement."""
    shown = dict(values)
    kind = StatementKind(shown["kind"])
    if is_withheld(shown.get("sensitivity_labels"), shown.get("consented_audiences"), audience):
        text, lang = withheld_text(language)
        withheld = ["composed_text", *PARTS[kind], *SHARED_FIELDS, *LABEL_FIELDS]
        for name in withheld[1:]:
            shown[name] = [] if name in LIST_FIELDS else None
        shown.update(composed_text=text, language=lang)
        return StatementView(shown, withheld, withheld=True)
    reporter = shown.get("who_reported")
    if reporter and not may_see_reporter(audience):
        shown["who_reported"] = None
        if shown.get("text_source") == TextSource.composed:
            shown["composed_text"] = compose_text(kind, shown["language"], shown)
        else:
            shown["composed_text"] = without_reporter(shown["composed_text"], reporter, shown["language"])
        return StatementView(shown, ["who_reported"])
    return StatementView(shown)


def without_reporter(text: str, reporter: str, language: str) -> str:
    """The worker's own text with the reporter's exact words (any case) replaced. Words that only describe
    the reporter differently cannot be found: the worker writes family-facing text without naming them."""
    someone = SOMEONE.get(primary_language(language), "…")

    def replace(match: re.Match[str]) -> str:
        at_start = match.start() == 0 or text[: match.start()].rstrip().endswith((".", "!", "?"))
        return someone[0].upper() + someone[1:] if at_start else someone

    words = reporter.strip().rstrip(".").strip()
    return re.sub(re.escape(words), replace, text, flags=re.IGNORECASE) if words else text
