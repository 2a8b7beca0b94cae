"""Reading the family's case view: ONE `caseView` (audience FAMILY) executed in-process against the gateway's
own GraphQL schema, so the same authorization, redaction, one-call-per-service rule and audit apply as for
any other client. The query lives in `case_view.graphql`, beside this module."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import Request

from sop_gateway.pages.reading import run_as
from sop_shared.auth import Principal
from sop_shared.policy import ActorType
from sop_shared.problems import InvalidInput, NotFound, ServiceUnavailable

# Codes that mean "you may not see this case as the family would": all answer exactly like a missing case.
NOT_VISIBLE = {"NOT_FOUND", "FORBIDDEN"}


class CaseViewFailed(RuntimeError):
    """The caseView failed in a way the caller cannot fix (an internal error, already masked and logged)."""


@dataclass(frozen=True)
class FamilyCaseView:
    view: dict[str, Any]
    unavailable: frozenset[str]  # sections that came back null with an error naming them


@cache
def case_view_query() -> str:
    return files("sop_gateway.family_view").joinpath("case_view.graphql").read_text(encoding="utf-8")


def page_audience(principal: Principal) -> str:
    """Whose page it is: a network member reads it as the network does; everyone else as the family does."""
    return "NETWORK" if principal.actor_type == ActorType.network else "FAMILY"


async def read_family_case_view(
    request: Request, principal: Principal, case_id: uuid.UUID, language: str | None
) -> FamilyCaseView:
    result = await run_as(
        request,
        principal,
        case_view_query(),
        {"caseId": str(case_id), "language": language, "audience": page_audience(principal)},
        "FamilyView",
    )
    errors = result.errors or []
    view = (result.data or {}).get("caseView")
    if view is None:
        raise _refusal(errors)
    return FamilyCaseView(view=view, unavailable=frozenset(_failed_sections(errors)))


def _failed_sections(errors: list[Any]) -> set[str]:
    """`worries`, `needsToHappen.nextSteps`, …: the sections (and parts) an error names by its path."""
    sections = set()
    for error in errors:
        path = [p for p in (error.path or []) if isinstance(p, str)]
        if len(path) >= 2 and path[0] == "caseView":
            sections.add(path[1])
            if len(path) >= 3:
                sections.add(f"{path[1]}.{path[2]}")
    return sections


def _refusal(errors: list[Any]) -> Exception:
    codes = [(e.extensions or {}).get("code") for e in errors]
    if any(code in NOT_VISIBLE for code in codes):
        return NotFound("no such case")
    for error in errors:
        extensions = error.extensions or {}
        if extensions.get("code") == "BAD_USER_INPUT" and extensions.get("field") == "language":
            return InvalidInput.field("language", error.message)
        if extensions.get("code") == "SECTION_UNAVAILABLE":
            return ServiceUnavailable("the case cannot be read right now; try again shortly")
    return CaseViewFailed("; ".join(e.message for e in errors) or "the caseView returned nothing")
