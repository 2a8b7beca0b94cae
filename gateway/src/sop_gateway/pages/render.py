"""Rendering a page: Jinja2 (autoescaped, strict) over the page's own templates and the shared ones (`page.html`, the
layout every page extends: `lang`, head, title, the note when the labels are not the reader's language; `chart.html`,
the line chart), and the headers every page goes out with: nothing to fetch and nothing to run."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from fastapi import Request

from sop_shared.problems import BadQuery

if TYPE_CHECKING:
    from jinja2 import Environment

# Nothing to fetch and nothing to run: the page is its own styles, text and inline SVG.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


@cache
def templates(package: str) -> Environment:
    """The templates of `package` (its `templates/` folder) and the shared ones (`page.html`, `chart.html`).
    Jinja2 is imported with the first page rendered, not with the app: most replicas never render one."""
    from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

    # Autoescaped: every statement, name and label is someone's text, never markup.
    return Environment(
        loader=ChoiceLoader([PackageLoader(package, "templates"), PackageLoader("sop_gateway.pages", "templates")]),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page_headers(language: str) -> dict[str, str]:
    """An HTML page's headers: never cached (it is someone's data), in `language`, under the strict policy."""
    return {
        "Cache-Control": "no-store",
        "Content-Language": language,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": PAGE_POLICY,
    }


def refuse_unknown_query_params(request: Request, known: frozenset[str]) -> None:
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        raise BadQuery(
            f"unknown query parameter(s): {', '.join(unknown)}; this endpoint accepts: {', '.join(sorted(known))}",
            errors=[{"field": name, "message": "unknown query parameter"} for name in unknown],
        )


def clock_now(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock.now() if clock is not None else datetime.now(UTC)
