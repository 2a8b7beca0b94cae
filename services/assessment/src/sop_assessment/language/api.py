"""The plain-language check of any text, and the glossary, over HTTP. Neither touches case data."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sop_assessment.language.glossary import GLOSSARY_LANGUAGES, REVIEWED, glossary
from sop_assessment.schemas import Strict
from sop_shared.auth import CurrentPrincipal
from sop_shared.language_tags import LanguageTag
from sop_shared.plain_language import (
    LANGUAGE_NAMES,
    PLAIN_WORDS,
    REQUIRED_PARTS,
    LanguageCheck,
    check_text,
    primary_language,
)
from sop_shared.problems import InvalidInput
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["plain language"])

CheckKind = Literal[
    "danger_statement",
    "harm_statement",
    "safety_goal",
    "safety_plan_rule",
    "map_item",
    "network_commitment",
    "general",
]


class LanguageCheckIn(Strict):
    """Any text a worker is about to share: a statement, a goal, a plan rule, a map item, a network member's
    commitment, a letter. Give `parts` (the structured parts it was written from) to check that the required
    ones are there; without them the parts are looked for in the text itself (English and Spanish)."""

    text: str = Field(max_length=10_000)
    kind: CheckKind = "general"
    language: LanguageTag = "en"
    parts: dict[str, str | None] | None = Field(default=None, max_length=20)


@router.post("/language/check", response_model=LanguageCheck, dependencies=[known_query_params()])
async def check_language(body: LanguageCheckIn, principal: CurrentPrincipal) -> LanguageCheck:
    """Findings with their positions in the text: missing parts, jargon with plainer words, negative
    phrasing and service compliance in safety goals and plan rules, reading grade. They are warnings;
    nothing is stored. Every code and part is defined in docs/plain-language.md."""
    if body.parts is not None:
        known = {name for name, _ in REQUIRED_PARTS.get(body.kind, ())}
        unknown = sorted(set(body.parts) - known)
        if unknown:
            raise InvalidInput(
                [
                    {
                        "field": f"parts.{name}",
                        "message": f"not a part of a {body.kind}; parts are: {', '.join(sorted(known)) or 'none'}",
                    }
                    for name in unknown
                ]
            )
    return check_text(body.text, kind=body.kind, language=body.language, parts=body.parts)


class GlossaryEntry(BaseModel):
    key: str
    term: str
    english_term: str
    meaning: str | None
    status: Literal["reviewed", "draft", "missing"] = Field(
        description="`missing`: no meaning in this language yet (never machine-translated)"
    )


class Glossary(BaseModel):
    language: str
    language_name: str
    reviewed: bool
    word_list: bool = Field(description="Whether the plain-language check has a reviewed word list for it")
    entries: list[GlossaryEntry]


@router.get("/glossary", response_model=Glossary, dependencies=[known_query_params("language")])
async def get_glossary(
    principal: CurrentPrincipal,
    language: Annotated[LanguageTag, Query(description="en, es or mh")] = "en",
) -> Glossary:
    """Professional terms with their plain meanings in one language. Terms nobody has translated yet
    come back with `status: missing`."""
    lang = primary_language(language)
    if lang not in GLOSSARY_LANGUAGES:
        raise InvalidInput.field("language", f"the glossary is kept in {', '.join(GLOSSARY_LANGUAGES)}")
    return Glossary(
        language=lang,
        language_name=LANGUAGE_NAMES.get(lang, lang),
        reviewed=REVIEWED,
        word_list=lang in PLAIN_WORDS,
        entries=[GlossaryEntry(**e) for e in glossary(lang)],
    )
