"""The family view as PDF: the same HTML, laid out by WeasyPrint. WeasyPrint needs system libraries (Pango,
HarfBuzz); where they cannot be loaded the PDF is unavailable (503) and the HTML view still works."""

from __future__ import annotations

from typing import Any

import anyio

from sop_shared.problems import Problem


class PdfUnavailable(Problem):
    status, slug, title = 503, "pdf-unavailable", "PDF rendering is unavailable"


def _refuse_fetching(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # The page is self-contained; nothing may be fetched while rendering it (no network, no files).
    raise ValueError(f"the family view fetches nothing: {url}")


def render_pdf(html: str) -> bytes:
    try:
        # Imported here, not at module import: a server without Pango must still start and serve HTML.
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(
            "PDF rendering is unavailable on this server (its system libraries cannot be "
            "loaded); ask for the HTML view and print it from the browser"
        ) from exc
    pdf: bytes = HTML(string=html, url_fetcher=_refuse_fetching).write_pdf()  # without a target: the bytes
    return pdf


async def render_pdf_in_thread(html: str) -> bytes:
    """Layout takes long enough to stall every other request if run on the event loop."""
    return await anyio.to_thread.run_sync(render_pdf, html)
