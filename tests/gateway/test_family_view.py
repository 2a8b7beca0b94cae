"""The family view: the demo Lopez family's common-language page, as HTML and PDF, in English and Spanish,
through the embedded gateway; who may ask for it; and what a real headless Chromium makes of it.

Screenshots of the rendered page are kept at tests/artifacts/family-view-{en,es}.png (paths are printed;
run with `-rA` or `-s` to see them)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import sys
import uuid
import zlib
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sop_gateway.family_view.chart import RaterLine, scale_chart
from sop_gateway.family_view.labels import LABELS, page_words
from sop_gateway.family_view.page import family_page, render_html
from sop_gateway.family_view.reading import case_view_query
from sop_shared.plain_language import READING_GRADE_LIMIT, reading_grade

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # the helper modules beside this file

import chromium  # noqa: E402

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ARTIFACTS = HERE.parent / "artifacts"
QUESTIONS = {
    "en": ("What are we worried about?", "What's working well?", "What needs to happen?"),
    "es": ("¿Qué nos preocupa?", "¿Qué está funcionando bien?", "¿Qué tiene que pasar?"),
}
DANGER_STATEMENT_START = "Grandma Rosa and Ms. Rivera are worried that Maria drinks"
DANGER_STATEMENT_START_ES = "La abuela Rosa y la Sra. Rivera están preocupadas porque Maria bebe"
PLAN_TITLE = "Keeping Sofia and Mateo safe at night"


async def family_view(
    system: EmbeddedSystem,
    case_id: Any,
    *,
    user: str = "fsw.rivera",
    headers: dict[str, str] | None = None,
    **params: str,
) -> Any:
    return await system.client.get(
        f"/v1/cases/{case_id}/family-view", params=params, headers={**system.bearer(user), **(headers or {})}
    )


def text_of(html: str) -> str:
    """The page's words as a reader sees them (tags dropped, entities decoded, spaces collapsed)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def h2_headings(html: str) -> list[str]:
    return [text_of(h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]


def pdf_page_count(pdf: bytes) -> int:
    """Pages in a PDF, reading through its compressed object streams."""
    content = pdf
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            content += zlib.decompress(match.group(1))
        except zlib.error:
            continue
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", content, re.S)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", content, re.S)]
    return max(counts, default=len(re.findall(rb"/Type\s*/Page\b", content)))


# --- the page, in the family's languages --------------------------------------------------------------------


@pytest.mark.sqlite_smoke
async def test_the_family_view_in_english_answers_the_three_questions_with_the_familys_own_statements(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    response = await family_view(system, demo_case, language="en")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    html = response.text
    assert '<html lang="en">' in html
    assert [h.lstrip("123 ") for h in h2_headings(html)[:3]] == list(QUESTIONS["en"])
    words = text_of(html)
    assert "Keeping Sofia and Mateo safe" in words
    assert DANGER_STATEMENT_START in words and "Worry 1" in words
    assert PLAN_TITLE in words and "Rosa Delgado" in words and "Who helps and checks" in words
    assert "<svg" in html or "Nobody has given a number yet." in words  # the scale, when caseView has it
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "translated" not in words  # English statements for an English reader: no mark, no other `lang`
    assert " lang=" not in html.replace('<html lang="en">', "")
    # Maria and Rosa read Spanish: the plan in English was explained to them, and the page says by whom.
    assert "Who signed the plan" in words and "Maria Lopez signed it on " in words
    explained = (
        "Lucía Gómez went over the plan with {} by phone, in Spanish. "
        "Lucía Gómez is an interpreter who passed an official test."
    )
    assert all(explained.format(signer) in words for signer in ("Maria Lopez", "Rosa Delgado"))


async def test_the_family_view_in_spanish_has_spanish_headings_and_the_verified_spanish_statement(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    response = await family_view(system, demo_case, language="es")
    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == "es"
    html = response.text
    assert '<html lang="es">' in html
    assert [h.lstrip("123 ") for h in h2_headings(html)[:3]] == list(QUESTIONS["es"])
    words = text_of(html)
    assert "Para que Sofia y Mateo estén seguros" in words and "Su plan de seguridad" in words
    assert "Preocupación 1" in words and "Quién ayuda y revisa" in words
    # The demo statement has a verified Spanish translation; the map's entries have none: shown as written.
    assert DANGER_STATEMENT_START_ES in words and DANGER_STATEMENT_START not in words
    assert "Todavía no está traducido al español. Las palabras originales, en inglés:" in words
    assert '<span lang="en">Rosa lives two streets away and loves the children</span>' in html
    assert "Quién firmó el plan" in words and "Maria Lopez lo firmó el " in words
    explicado = (
        "Lucía Gómez le explicó el plan a {} por teléfono, en español. "
        "Lucía Gómez es intérprete con certificación oficial."
    )
    assert all(explicado.format(signer) in words for signer in ("Maria Lopez", "Rosa Delgado"))


# A code is a word with underscores (`safety_person`, `in_home`, `certified_interpreter`): never what a family reads.
CODE = re.compile(r"\b[a-zA-Z]+(?:_[a-zA-Z]+)+\b")


@pytest.mark.parametrize("language", ["en", "es"])
async def test_every_role_status_and_code_on_the_page_is_words_in_the_readers_language(
    system: EmbeddedSystem, demo_case: uuid.UUID, language: str
) -> None:
    added = await system.client.post(
        f"/api/network/v1/cases/{demo_case}/network/members",
        headers=system.bearer("fsw.rivera"),
        json={
            "person": {"first_name": "Teresa", "last_name": "Vance"},
            "circle": "outer",
            "roles": ["safety_person", "night_watch"],  # keys, as an app may send them
        },
    )
    assert added.status_code == 201, added.text
    response = await family_view(system, demo_case, language=language)
    assert response.status_code == 200, response.text
    words = text_of(response.text)
    assert CODE.findall(words) == []
    safe_adult = {"en": "is a safe adult the children can go to", "es": "es un adulto de confianza"}[language]
    assert f"Teresa Vance: {safe_adult}" in words and "night watch" in words


async def test_the_three_questions_read_the_same_as_the_case_views_own_labels(
    sqlite_system: EmbeddedSystem,
    sqlite_demo_case: uuid.UUID,
) -> None:
    case_id = sqlite_demo_case
    for language in ("en", "es"):
        body = (
            await sqlite_system.graphql(
                "query($id: ID!, $language: String!) { caseView(caseId: $id, audience: FAMILY, language: $language) {"
                " labels { worries workingWell needsToHappen } } }",
                {"id": str(case_id), "language": language},
            )
        ).json()
        labels = body["data"]["caseView"]["labels"]
        assert (labels["worries"], labels["workingWell"], labels["needsToHappen"]) == QUESTIONS[language]
        assert (
            LABELS[language]["q_worried"],
            LABELS[language]["q_working_well"],
            LABELS[language]["q_needs_to_happen"],
        ) == QUESTIONS[language]


async def test_a_language_without_labels_gets_english_labels_and_a_visible_note(
    sqlite_system: EmbeddedSystem,
    sqlite_demo_case: uuid.UUID,
) -> None:
    case_id = sqlite_demo_case
    response = await family_view(sqlite_system, case_id, language="mh")
    assert response.status_code == 200, response.text
    words = text_of(response.text)
    assert "This page is not yet available in Marshallese. It is shown in English." in words
    assert QUESTIONS["en"][0] in words
    assert '<html lang="en">' in response.text  # the labels are English, and the page says so


# --- who may ask, and bad requests ----------------------------------------------------------------------------


async def test_a_worker_off_the_case_gets_the_same_not_found_as_a_case_that_does_not_exist(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    denied = await family_view(system, demo_case, user="fsw.lindqvist", language="es")
    missing = await family_view(system, uuid.uuid4(), user="fsw.lindqvist", language="es")
    not_a_uuid = await family_view(system, "not-a-case", user="fsw.lindqvist", language="es")
    bodies = []
    for response in (denied, missing, not_a_uuid):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        bodies.append({k: body[k] for k in ("type", "title", "status", "detail")})
    assert bodies[0] == bodies[1] == bodies[2]
    assert "Lopez" not in denied.text and "Pulaski" not in denied.text
    rows = await system.audit_rows()
    assert [r for r in rows if r.resource in ("family_view", "case_view") and r.actor_subject == "fsw.lindqvist"] == []


async def test_bad_requests_are_refused_before_anything_is_read(
    sqlite_system: EmbeddedSystem,
    sqlite_demo_case: uuid.UUID,
) -> None:
    case_id = sqlite_demo_case
    bad_language = await family_view(sqlite_system, case_id, language="español!")
    assert bad_language.status_code == 422
    assert [e["field"] for e in bad_language.json()["errors"]] == ["language"]
    bad_format = await family_view(sqlite_system, case_id, format="docx")
    assert bad_format.status_code == 422 and bad_format.json()["errors"][0]["field"] == "format"
    unknown = await family_view(sqlite_system, case_id, lang="es")
    assert unknown.status_code == 400 and unknown.json()["errors"] == [
        {"field": "lang", "message": "unknown query parameter"}
    ]
    anonymous = await sqlite_system.client.get(f"/v1/cases/{case_id}/family-view")
    assert anonymous.status_code == 401


async def test_the_view_is_read_as_the_family_would_see_it_and_audited_as_a_family_document(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    response = await family_view(system, demo_case, language="es")
    assert response.status_code == 200
    rows = [r for r in await system.audit_rows() if r.request_id == response.headers["X-Request-ID"]]
    read = [r for r in rows if r.resource == "case_view"]
    document = [r for r in rows if r.resource == "family_view"]
    assert len(read) == 1 and read[0].audience == "family" and read[0].case_id == demo_case
    assert len(document) == 1
    assert (document[0].action, document[0].purpose, document[0].audience, document[0].actor_subject) == (
        "read",
        "family_participation",
        "family",
        "fsw.rivera",
    )
    assert "format:html" in document[0].fields
    assert (await system.verify_audit_chain()).intact


# --- PDF -------------------------------------------------------------------------------------------------------


async def test_the_family_view_as_pdf(sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID) -> None:
    case_id = sqlite_demo_case
    for response in (
        await family_view(sqlite_system, case_id, language="es", format="pdf"),
        await family_view(sqlite_system, case_id, language="es", headers={"Accept": "application/pdf"}),
    ):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == 'inline; filename="family-view-DEMO-2026-0001-es.pdf"'
        assert response.content.startswith(b"%PDF")
        assert pdf_page_count(response.content) >= 1
    rows = [r for r in await sqlite_system.audit_rows() if r.resource == "family_view"]
    assert [r.purpose for r in rows] == ["family_participation", "family_participation"]
    assert all("format:pdf" in r.fields for r in rows)


async def test_without_weasyprints_libraries_the_pdf_is_unavailable_and_the_html_still_works(
    sqlite_system: EmbeddedSystem,
    sqlite_demo_case: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case_id = sqlite_demo_case
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if Pango could not be loaded: the import fails
    pdf = await family_view(sqlite_system, case_id, format="pdf")
    assert pdf.status_code == 503
    assert pdf.json()["title"] == "PDF rendering is unavailable"
    html = await family_view(sqlite_system, case_id)
    assert html.status_code == 200 and "<html" in html.text


# --- the page's own words and pieces ------------------------------------------------------------------------------


def test_the_pages_own_english_sentences_are_at_most_grade_8() -> None:
    sample = {
        "children": "Sofia and Mateo",
        "n": 1,
        "date": "May 5, 2026",
        "language": "Spanish",
        "what": "worry 1",
        "case": "DEMO-2026-0001",
        "name": "Lucía Gómez",
        "signer": "Maria Lopez",
        "mode": "by video call",  # the longest of the modes and of the qualifications
        "qualification": LABELS["en"]["qualification_certified_court_interpreter"],
    }
    sentences = [
        s
        for text in LABELS["en"].values()
        for s in re.split(r"(?<=[.?!])\s+", text.format(**sample))
        if s.endswith((".", "?", "!"))
    ]
    assert len(sentences) > 20
    too_hard = {s: reading_grade(s) for s in sentences if (reading_grade(s) or 0) > READING_GRADE_LIMIT}
    assert too_hard == {}
    assert (reading_grade(" ".join(sentences)) or 0) <= READING_GRADE_LIMIT
    who_interpreted = {
        said: reading_grade(said)
        for key, qualification in LABELS["en"].items()
        if key.startswith("qualification_")
        for said in [LABELS["en"]["interpreter_is"].format(name="Lucía Gómez", qualification=qualification)]
    }
    assert len(who_interpreted) == 5
    assert {s: grade for s, grade in who_interpreted.items() if (grade or 0) > READING_GRADE_LIMIT} == {}


def test_every_language_has_every_label_with_the_same_placeholders() -> None:
    def placeholders(text: str) -> set[str]:
        return set(re.findall(r"{(\w+)}", text))

    for language, labels in LABELS.items():
        assert labels.keys() == LABELS["en"].keys(), language
        for key, text in labels.items():
            assert placeholders(text) == placeholders(LABELS["en"][key]), (language, key)


def test_the_familys_words_are_escaped_never_markup() -> None:
    view = {
        "case": {"externalId": "X-1"},
        "children": [{"firstName": "<b>Ana</b>"}],
        "caregivers": [],
        "worries": {
            "harm": [],
            "danger": [
                {
                    "recordId": "1",
                    "text": "<script>alert(1)</script> & more",
                    "language": "en",
                    "status": "active",
                    "parts": {},
                }
            ],
        },
        "safetyPlan": None,
    }
    html = render_html(
        family_page(view, page_words("en"), unavailable=(), printed_on=__import__("datetime").date(2026, 11, 29))
    )
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "&lt;b&gt;Ana&lt;/b&gt;" in html


def test_a_spanish_page_writes_values_with_babel_and_marks_english_words_with_their_language() -> None:
    """Durations, dates and numbers in the page's locale; an item with no verified translation keeps its
    English words inside `lang="en"` with the Spanish `untranslated_note`; a translated one carries no `lang`."""
    view = {
        "case": {"externalId": "X-1"},
        "children": [{"firstName": "Ana"}],
        "caregivers": [],
        "worries": {"harm": [], "danger": []},
        "workingWell": {
            "strengths": [
                {
                    "text": "Rosa visita cada día.",
                    "language": "es",
                    "originalLanguage": "en",
                    "languageFallback": False,
                },
                {"text": "Rosa cooks dinner.", "language": "en", "originalLanguage": "en", "languageFallback": True},
            ],
            "existingSafety": [
                {
                    "text": "Rosa se quedó con los niños.",
                    "byWhom": "Grandma Rosa",
                    "language": "es",
                    "originalLanguage": "en",
                    "languageFallback": True,
                    "untranslatedFields": ["byWhom"],
                }
            ],
        },
        "needsToHappen": {
            "safetyGoals": [
                {
                    "text": "Maria llamará a Rosa.",
                    "language": "es",
                    "languageFallback": False,
                    "duration": "P3M",
                    "durationText": "3 months",
                    "owner": "FAMILY",
                }
            ],
            "nextSteps": [
                {
                    "action": "Call Rosa",
                    "dueOn": "2026-12-14",
                    "language": "en",
                    "originalLanguage": "en",
                    "languageFallback": True,
                    "untranslatedFields": ["action"],
                }
            ],
        },
        "safetyPlan": {
            "title": "Plan de noche",
            "language": "en",
            "languageFallback": True,
            "untranslatedFields": ["triggers.1"],
            "effectiveFrom": "2026-11-02T15:00:00+00:00",
            "rules": [],
            "triggers": ["Maria bebe", "Maria drinks alone"],
        },
    }
    html = render_html(family_page(view, page_words("es-US"), unavailable=(), printed_on=dt.date(2026, 12, 1)))
    words = text_of(html)
    note = "Todavía no está traducido al español. Las palabras originales, en inglés:"
    assert "Por cuánto tiempo: 3 meses" in words and "3 months" not in words
    assert "Para cuándo: 14 de diciembre de 2026" in words and "Este plan empezó el 2 de noviembre de 2026." in words
    assert "Impreso el 1 de diciembre de 2026." in words
    assert '<span lang="en">Rosa cooks dinner.</span>' in html and "<span>Rosa visita cada día.</span>" in html
    assert '<dd lang="en">Grandma Rosa</dd>' in html and '<span lang="en">Call Rosa</span>' in html
    assert "<li>Maria bebe</li>" in html and '<li lang="en">Maria drinks alone</li>' in html
    assert words.count(note) == 4  # the strength, the existing safety, the next step, the plan
    assert "translated" not in words


def test_the_page_says_how_the_plan_avoids_known_triggers_in_the_readers_language_never_the_trigger_ids() -> None:
    """A plan's `triggerPlan` (fictional): each `howAvoided` in the plan section, in the reader's language where the
    plan service has a verified translation; one left as written keeps its `lang` and the plan's note, like the
    plan's other words. The trigger ids are the trauma history's: never asked for, never shown."""
    alone, door = "0193a1c2-0000-7000-8000-00000000f001", "0193a1c2-0000-7000-8000-00000000f002"
    assert "triggerPlan { howAvoided }" in case_view_query() and "triggerId" not in case_view_query()

    def view(avoids: list[str], untranslated: list[str]) -> dict[str, Any]:
        return {
            "case": {"externalId": "X-1"},
            "children": [{"firstName": "Ana"}],
            "caregivers": [],
            "worries": {"harm": [], "danger": []},
            "safetyPlan": {
                "title": "Ana is safe at night",
                "language": "en",
                "languageFallback": bool(untranslated),
                "untranslatedFields": untranslated,
                "rules": [],
                "triggers": [],
                "triggerPlan": [{"triggerId": (alone, door)[i], "howAvoided": said} for i, said in enumerate(avoids)],
            },
        }

    english = render_html(
        family_page(
            view(["Rosa sleeps over when Maria works at night.", "The bathroom door has no lock."], []),
            page_words("en"),
            unavailable=(),
            printed_on=dt.date(2026, 12, 1),
        )
    )
    words = text_of(english)
    assert "How the plan avoids things that bring back bad memories" in words
    assert "<li>Rosa sleeps over when Maria works at night.</li>" in english
    assert "<li>The bathroom door has no lock.</li>" in english
    assert alone not in english and door not in english and " lang=" not in english.replace('<html lang="en">', "")

    spanish = render_html(
        family_page(
            view(
                ["Rosa se queda a dormir cuando Maria trabaja de noche.", "The bathroom door has no lock."],
                ["title", "triggerPlan.1.howAvoided"],
            ),
            page_words("es"),
            unavailable=(),
            printed_on=dt.date(2026, 12, 1),
        )
    )
    words = text_of(spanish)
    assert "Cómo el plan evita lo que trae malos recuerdos" in words
    assert "<li>Rosa se queda a dormir cuando Maria trabaja de noche.</li>" in spanish
    assert '<li lang="en">The bathroom door has no lock.</li>' in spanish  # no verified translation yet
    assert "Todavía no está traducido al español. Las palabras originales, en inglés:" in words
    assert alone not in spanish and door not in spanish

    # A plan without a trigger plan (or one the reader may not see: the plans service sends none) has no heading.
    none = render_html(family_page(view([], []), page_words("en"), unavailable=(), printed_on=dt.date(2026, 12, 1)))
    assert "bring back bad memories" not in none


def test_a_section_that_came_back_null_says_so_instead_of_looking_empty() -> None:
    view = {"case": {"externalId": "X-1"}, "children": [], "caregivers": [], "worries": None, "safetyPlan": None}
    html = render_html(
        family_page(
            view,
            page_words("es"),
            unavailable={"worries", "safetyPlan"},
            printed_on=__import__("datetime").date(2026, 11, 29),
        )
    )
    assert text_of(html).count("No podemos mostrar esta parte ahora.") == 2


def test_the_scale_chart_puts_0_at_the_bottom_10_at_the_top_and_occasions_left_to_right() -> None:
    chart = scale_chart(
        [("a", "October 20, 2026"), ("b", "November 17, 2026")],
        [RaterLine("Maria Lopez", (("a", 4), ("b", 7))), RaterLine("Rosa Delgado", (("b", 6),))],
    )
    zero, ten = chart.y_ticks[0], chart.y_ticks[-1]
    assert (zero.label, ten.label) == ("0", "10") and zero.position == chart.bottom and ten.position == chart.top
    maria, rosa = chart.series
    assert maria.points[0].x < maria.points[1].x and maria.points[0].y > maria.points[1].y  # 4 → 7 goes up
    assert [p.score for p in rosa.points] == [6] and rosa.points[0].x == maria.points[1].x
    assert maria.colour != rosa.colour and maria.dash != rosa.dash


def test_the_charts_dates_never_overlap_and_long_names_wrap_in_the_legend() -> None:
    occasions = [(str(n), f"November {n}, 2026") for n in range(1, 13)]  # a dozen weekly ratings
    long_name = "María José Hernández-Delgado (abuela)"
    chart = scale_chart(occasions, [RaterLine(long_name, tuple((key, 5) for key, _ in occasions))])
    shown = [t for t in chart.x_ticks if t.label]
    for left, right in itertools.pairwise(shown):  # centred labels stay apart
        assert right.position - left.position >= (len(left.label) + len(right.label)) * 7.5 / 2, (left, right)
    assert shown[0].label == "November 1, 2026" and shown[-1].label == "November 12, 2026"
    [series] = chart.series
    assert len(series.legend_lines) > 1  # wrapped, nothing cut off:
    assert "".join(series.legend_lines).replace(" ", "") == long_name.replace(" ", "")
    assert all(len(line) <= 16 for line in series.legend_lines)
    assert chart.height >= series.legend_y + 17 * (len(series.legend_lines) - 1)


# --- in a real browser ------------------------------------------------------------------------------------------


async def test_chromium_renders_the_page_with_its_headings_in_english_and_spanish(
    sqlite_system: EmbeddedSystem,
    sqlite_demo_case: uuid.UUID,
    tmp_path: Path,
    record_property: Any,
) -> None:
    browser = chromium.chromium_path()  # skips (or fails under CI) before any work when there is none
    case_id = sqlite_demo_case
    for language in ("en", "es"):
        response = await family_view(sqlite_system, case_id, language=language)
        assert response.status_code == 200, response.text
        page = tmp_path / f"family-view-{language}.html"
        page.write_text(response.text, encoding="utf-8")

        dom = chromium.dump_dom(page)
        assert f'<html lang="{language}">' in dom
        assert [h.lstrip("123 ") for h in h2_headings(dom)[:3]] == list(QUESTIONS[language])
        assert (DANGER_STATEMENT_START if language == "en" else DANGER_STATEMENT_START_ES) in text_of(dom)

        png = chromium.screenshot(page, ARTIFACTS / f"family-view-{language}.png", width=1000, height=1400)
        assert png.stat().st_size > 10_000  # a rendered page, not a blank one
        record_property(f"screenshot_{language}", str(png))
        print(f"\nfamily view screenshot ({language}, {browser}): {png}")
