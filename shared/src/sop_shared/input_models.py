"""The base of every request body: unknown fields are refused (a typo is a 422 naming it, never silently
dropped), and text is trimmed of surrounding spaces. `Verbatim` keeps text exactly as given, for words that are
kept as someone said them (a child's, an SDM answer's)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Verbatim(BaseModel):
    model_config = ConfigDict(extra="forbid")
