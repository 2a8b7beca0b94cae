"""`GET /v1/cases/{case_id}/family-view`: the family's common-language view as print-ready HTML or PDF."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from sop_gateway.family_view.labels import page_words
from sop_gateway.family_view.page import family_page, render_html
from sop_gateway.family_view.pdf import render_pdf_in_thread
from sop_gateway.family_view.reading import page_audience, read_family_case_view
from sop_gateway.pages.render import clock_now, page_headers, refuse_unknown_query_params
from sop_shared.audit import AccessPurpose, AuditEntry
from sop_shared.auth import bearer_token
from sop_shared.language_tags import BadLanguageTag, standard_language_tag
from sop_shared.problems import InvalidInput, NotFound

router = APIRouter(tags=["family view"])

QUERY_PARAMS = frozenset({"language", "format"})
FORMATS = ("html", "pdf")


@router.get(
    "/v1/cases/{case_id}/family-view",
    response_class=HTMLResponse,
    summary="The family's common-language case view, print-ready (HTML, or PDF with ?format=pdf)",
    responses={
        200: {"content": {"text/html": {}, "application/pdf": {}}},
        404: {"description": "No such case, or not one you may see as the family would"},
        503: {"description": "PDF rendering is unavailable (the HTML view still works)"},
    },
)
async def family_view(
    case_id: str,
    request: Request,
    language: str | None = Query(
        None,
        description="BCP-47 language of the page (en, es, mh, …); by default a family or network member's "
        "preferred language, else English",
    ),
    format: str | None = Query(
        None, description="html (default) or pdf; `Accept: application/pdf` also asks for the PDF"
    ),
) -> Response:
    state = request.app.state
    principal = await state.authenticator.authenticate(bearer_token(request))
    request.state.principal = principal
    refuse_unknown_query_params(request, QUERY_PARAMS)
    try:
        language = standard_language_tag(language) if language is not None else None
    except BadLanguageTag as exc:
        raise InvalidInput.field("language", str(exc)) from exc
    chosen = _format(format, request.headers.get("accept", ""))
    try:
        case_uuid = uuid.UUID(case_id)
    except ValueError as exc:
        raise NotFound("no such case") from exc

    read = await read_family_case_view(request, principal, case_uuid, language)
    words = page_words(read.view.get("language") or language or "en")
    html = render_html(
        family_page(read.view, words, unavailable=read.unavailable, printed_on=clock_now(request).date())
    )
    async with state.database.session() as session:
        # The caseView above audited the read of the case's data; this says it left as a family document.
        await state.audit.record(
            session,
            AuditEntry.for_principal(
                principal,
                resource="family_view",
                action="read",
                case_id=case_uuid,
                resource_id=str(case_uuid),
                fields=[*sorted(k for k, v in read.view.items() if v is not None), f"format:{chosen}"],
                purpose=(getattr(request.state, "purpose", None) or AccessPurpose.family_participation).value,
                audience=page_audience(principal).lower(),
            ),
        )
    headers = page_headers(words.language)
    if chosen == "pdf":
        del headers["Content-Security-Policy"]
        pdf = await render_pdf_in_thread(html)
        filename = f"family-view-{_safe(read.view['case']['externalId'])}-{words.language}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={**headers, "Content-Disposition": f'inline; filename="{filename}"'},
        )
    return HTMLResponse(html, headers=headers)


def _format(requested: str | None, accept: str) -> str:
    if requested is None:
        return "pdf" if "application/pdf" in accept.lower() else "html"
    if requested not in FORMATS:
        raise InvalidInput.field("format", "html or pdf")
    return requested


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:60] or "case"
