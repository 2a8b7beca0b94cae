"""A family entered fresh through the gateway's REST façade, with every kind of words a family reads — a harm
and a danger statement, a safety goal, the map's items (what makes it harder, good things, what people already
did, with who, when and how often), the child's words the child agreed to share, a safety plan with rules,
warning signs, what happens if a rule is broken and a backup plan, and next steps — some translated into
Spanish and verified by a second, qualified person, some not.

In a real headless Chromium the Spanish page has no English word outside an element marked `lang="en"`, and each
untranslated item carries the Spanish "not yet translated" note. Screenshots in English and Spanish, and the
Spanish PDF's pages as images, are written to tests/artifacts/; no heading of the PDF is the last thing on a page.

A fictional family: Carmen Vega and her son Diego; Carmen reads Spanish."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import chromium  # noqa: E402

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ARTIFACTS = HERE.parent / "artifacts"
WORKER, SUPERVISOR, SACWIS = "fsw.rivera", "sup.okafor", "sacwis.sync"
VERIFIER = {"qualification": "bilingual_staff", "verified_by": "Ana Ruiz"}
SHARE = {"reason": "Read with Carmen at the family meeting; these are her words"}
NOTE_ES = "Todavía no está traducido al español. Las palabras originales, en inglés:"

# Words that are English and not Spanish: a Spanish reader's page shows none outside `lang="en"`.
ENGLISH_ONLY = frozenset(
    "the and will when with she he her his they is are to of at every night after school before calls call takes "
    "house if not can from who what this that have was been worried could hurt alone home safe keeps".split()
)
VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
HEADINGS = ("h1", "h2", "h3", "h4")


class Family:
    """Calls the gateway's REST façade as the worker, the supervisor or SACWIS would."""

    def __init__(self, system: EmbeddedSystem) -> None:
        self.system = system
        self.case_id = ""
        self.trigger_ids: list[str] = []

    async def call(self, method: str, path: str, *, user: str = WORKER, **kwargs: Any) -> Any:
        headers = {**self.system.bearer(user), **kwargs.pop("headers", {})}
        response = await self.system.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code in (200, 201), (method, path, response.status_code, response.text)
        return response.json()

    @property
    def assessment(self) -> str:
        return f"/api/assessment/v1/cases/{self.case_id}"

    @property
    def plans(self) -> str:
        return f"/api/plans/v1/cases/{self.case_id}"

    async def share(self, url: str) -> None:
        record = await self.call("GET", url)
        version = record.get("current_version", record.get("version"))
        await self.call("POST", f"{url}/share", json=SHARE, headers={"If-Match": f'"{version}"'})

    async def translate(self, service: str, kind: str, record_id: str, text: str, field: str = "text") -> None:
        """Written by the interpreter (recorded by the worker), verified by the supervisor: never machine-made."""
        base = self.assessment if service == "assessment" else self.plans
        made = await self.call(
            "POST",
            f"{base}/translations",
            json={
                "record_kind": kind,
                "record_id": record_id,
                "source_field": field,
                "language": "es",
                "text": text,
                "translated_by": "Lucía Gómez",
            },
        )
        verified = await self.call("POST", f"{base}/translations/{made['id']}/verify", user=SUPERVISOR, json=VERIFIER)
        assert verified["state"] == "verified"


async def enter_the_family(family: Family) -> dict[str, str]:
    """Everything entered fresh; returns the English words left untranslated, by what they are."""
    external_id = f"FRESH-{uuid.uuid4().hex[:8]}"
    case = await family.call(
        "PUT",
        f"/api/network/v1/cases/by-external/CHRIS/{external_id}",
        user=SACWIS,
        json={
            "case_type": "in_home",
            "status": "open",
            "county": "Pulaski",
            "opened_on": "2026-11-02",
            "members": [
                {
                    "role": "caregiver",
                    "relationship_to_children": "mother",
                    "person": {
                        "external_id": f"{external_id}-1",
                        "first_name": "Carmen",
                        "last_name": "Vega",
                        "preferred_language": "es",
                        "needs_interpreter": True,
                    },
                },
                {
                    "role": "child",
                    "relationship_to_children": "son",
                    "person": {
                        "external_id": f"{external_id}-2",
                        "first_name": "Diego",
                        "last_name": "Vega",
                        "date_of_birth": "2018-04-09",
                        "preferred_language": "es",
                    },
                },
            ],
            "assignments": [
                {"staff_subject": WORKER, "role": "worker"},
                {"staff_subject": SUPERVISOR, "role": "supervisor"},
            ],
        },
    )
    family.case_id = case["id"]
    await family.system.events_delivered()  # the other services learn of the case and its people
    carmen = next(m["person"]["id"] for m in case["members"] if m["person"]["first_name"] == "Carmen")
    a = family.assessment

    danger = await family.call(
        "POST",
        f"{a}/statements",
        json={
            "kind": "danger",
            "language": "en",
            "who_is_worried": "Ms. Rivera",
            "caregiver_behaviour": "Carmen leaves Diego alone after school",
            "context_trigger": "when she works the late shift",
            "children": [{"name": "Diego"}],
            "feared_impact_on_child": "could get hurt with no adult there to help him",
            "threat_codes": ["T4"],
            "agrees": [],
            "disputes": [],
        },
    )
    await family.share(f"{a}/statements/{danger['id']}")
    await family.translate(
        "assessment",
        "statement",
        danger["id"],
        "A la Sra. Rivera le preocupa que Carmen deje solo a Diego después de la escuela cuando trabaja en el "
        "turno de la tarde. Diego podría lastimarse sin ningún adulto que lo ayude.",
    )
    harm = await family.call(
        "POST",
        f"{a}/statements",
        json={
            "kind": "harm",
            "language": "en",
            "who_reported": "Diego's teacher",
            "caregivers": [{"name": "Carmen"}],
            "action_or_inaction": "left Diego alone at home for the evening",
            "when_or_how_often": "on 30 October 2026",
            "children": [{"name": "Diego"}],
            "impact_on_child": "was scared and did not eat dinner",
        },
    )
    await family.share(f"{a}/statements/{harm['id']}")  # shared, not translated

    goal = await family.call(
        "POST",
        f"{a}/safety-goals",
        json={
            "language": "en",
            "duration": "P3M",
            "owner": "family",
            "danger_statement_id": danger["id"],
            "caregiver_will_be_doing": "Carmen will make sure an adult is with Diego every day after school",
            "child_will_experience": "Diego will come home to someone who is waiting for him",
            "others_will_see": "Ms. Rivera will see who picks Diego up on her visits",
        },
    )
    await family.share(f"{a}/safety-goals/{goal['id']}")
    await family.translate(
        "assessment",
        "safety_goal",
        goal["id"],
        "Carmen se asegurará de que un adulto esté con Diego todos los días después de la escuela. Diego "
        "llegará a casa y alguien lo estará esperando.",
    )

    the_map = await family.call(
        "POST",
        f"{a}/maps",
        json={
            "context": "in_home",
            "title": "The Vega family's map",
            "participants": [{"name": "Carmen Vega", "role": "mother"}],
            "complicating_factors": [
                {"text": "Carmen works late shifts and her sister moved away", "source": {"name": "Carmen Vega"}}
            ],
            "strengths": [
                {"text": "Carmen reads with Diego every night", "source": {"name": "Carmen Vega"}},
                {"text": "Diego's neighbor knows him well", "source": {"name": "Ms. Rivera"}},
            ],
            "existing_safety": [
                {
                    "text": "The neighbor took Diego to her home when Carmen was late",
                    "source": {"name": "Carmen Vega"},
                    "by_whom": "the neighbor",
                    "when": "last week",
                    "how_often": "once",
                }
            ],
            "next_steps": [],
            "gray_areas": [],
        },
    )
    map_url = f"{a}/maps/{the_map['id']}"
    for on, score in (("2026-11-09", 3), ("2026-11-23", 6)):
        await family.call(
            "POST",
            f"{a}/scale-ratings",
            json={
                "statement_id": danger["id"],
                "occasion_on": on,
                "occasion": "home visit",
                "rater_name": "Carmen Vega",
                "rater_role": "caregiver",
                "score": score,
                "rationale": "Diego is not alone as often now",
                "one_step_up": "The neighbor says yes every week",
                "mode": "verbal",
            },
        )
    current = await family.call("GET", map_url)
    await family.call("POST", f"{map_url}/complete", headers={"If-Match": f'"{current["current_version"]}"'})
    await family.share(map_url)
    content = (await family.call("GET", map_url))["content"]
    read_with_diego, _neighbor_knows_him = content["strengths"]
    [neighbor_helped] = content["existing_safety"]
    await family.translate("assessment", "map_item", read_with_diego["id"], "Carmen lee con Diego todas las noches")
    for field, text in (
        ("text", "La vecina se llevó a Diego a su casa cuando Carmen llegó tarde"),
        ("by_whom", "la vecina"),
        ("when", "la semana pasada"),
        ("how_often", "una vez"),
    ):
        await family.translate("assessment", "map_item", neighbor_helped["id"], text, field)

    voice = await family.call(
        "POST",
        f"{a}/child-voice",
        json={
            "kind": "three_houses",
            "child": {"name": "Diego"},
            "language": "en",
            "consent": {"shared_with": ["family"], "note": "Diego said his mom can see his houses."},
            "sharing_judgement": {
                "safe": True,
                "reason": "Carmen knows these worries; nothing here puts Diego at risk.",
            },
            "content": {
                "session_date": "2026-11-20",
                "parent_consent": "not_needed",
                "houses": [
                    {"house": "worries", "entries": [{"words": "when I am home alone and it gets dark"}]},
                    {"house": "good_things", "entries": [{"words": "mom reads me stories"}]},
                    {"house": "dreams", "entries": [{"words": "someone is there when I come home"}]},
                ],
            },
        },
    )
    await family.translate("assessment", "child_voice", voice["id"], "mamá me lee cuentos", "houses.1.entries.0.words")

    # Diego's known triggers (the words stay in the trauma history): the plan says how it avoids each.
    history = await family.call(
        "POST",
        f"{family.assessment}/trauma-histories",
        json={
            "person": {"name": "Diego Vega"},
            "person_role": "child",
            "history": "Diego was left alone at home one evening and could not reach his mother.",
            "triggers": [{"trigger": "Being alone at home after dark"}, {"trigger": "A phone call nobody answers"}],
            "consented_audiences": ["staff"],
        },
    )
    dark, unanswered = (t["id"] for t in history["triggers"])
    family.trigger_ids = [dark, unanswered]
    await family.system.events_delivered()  # the plans service knows them as the case's known triggers

    p = family.plans
    plan = await family.call(
        "POST",
        f"{p}/safety-plans",
        json={
            "plan_type": "ongoing",
            "title": "Diego is never alone after school",
            "language": "en",
            "threat_codes": ["T4"],
            "danger_statement_ids": [danger["id"]],
            "effective_from": "2026-11-23T15:00:00+00:00",
            "participants": [{"name": "Carmen Vega", "role": "caregiver", "person_id": carmen}],
            "rules": [
                {
                    "text": "The neighbor picks Diego up from school on the days Carmen works late.",
                    "threat_code": "T4",
                    "responsible": [{"name": "Carmen Vega", "person_id": carmen}],
                    "monitors": [{"name": "Ms. Rivera"}],
                    "frequency": "Every late-shift day",
                    "how_verified": "The neighbor texts Carmen when Diego is with her",
                },
                {
                    "text": "Carmen calls Diego when she gets to work to say who is with him.",
                    "threat_code": "T4",
                    "responsible": [{"name": "Carmen Vega", "person_id": carmen}],
                    "monitors": [{"name": "Ms. Rivera"}],
                    "frequency": "Every work day",
                    "how_verified": "Diego tells Ms. Rivera at each visit",
                },
            ],
            "triggers": ["The neighbor cannot come", "Carmen is asked to stay late at work"],
            "if_rule_broken": {
                "who_is_called": [{"name": "Ms. Rivera"}],
                "what_happens": "Carmen leaves work and goes home to Diego.",
            },
            "backup_plan": "If the neighbor is sick, Diego stays in the after-school club until Carmen comes.",
            "worker_monitoring": {"contact_frequency": "weekly", "method": "home visit"},
            "trigger_plan": [
                {"trigger_id": dark, "how_avoided": "The neighbor stays with Diego until Carmen is home."},
                {"trigger_id": unanswered, "how_avoided": "Carmen keeps her phone on at work so she always answers."},
            ],
        },
    )
    at = f"{p}/safety-plans/{plan['id']}"
    [participant] = plan["participants"]
    await family.call(
        "POST",
        f"{at}/signatures",
        json={
            "version_number": plan["current_version_number"],
            "content_hash": plan["content_hash"],
            "participant_id": participant["id"],
            "signer_name": "Carmen Vega",
            "signer_role": "caregiver",
            "method": "typed_name",
            "typed_name": "Carmen Vega",
            "affirmation": "La intérprete me explicó este plan en español y estoy de acuerdo.",
            "interpreter": {
                "name": "Lucía Gómez",
                "qualification": "certified_interpreter",
                "mode": "phone",
                "language": "es",
            },
        },
    )
    await family.call("POST", f"{at}/submit", json={"supervisor": SUPERVISOR, "note": "Signed with Carmen."})
    first_rule = plan["rules"][0]
    await family.translate("plans", "safety_plan", plan["id"], "Diego nunca está solo después de la escuela", "title")
    await family.translate("plans", "safety_plan", plan["id"], "La vecina no puede venir", "triggers.0")
    await family.translate(
        "plans",
        "safety_plan",
        plan["id"],
        "La vecina se queda con Diego hasta que Carmen llega a casa.",
        "trigger_plan.0.how_avoided",
    )
    await family.translate(
        "plans",
        "safety_plan",
        plan["id"],
        "Carmen sale del trabajo y va a casa con Diego.",
        "if_rule_broken.what_happens",
    )
    for field, text in (
        ("text", "La vecina recoge a Diego en la escuela los días que Carmen trabaja tarde."),
        ("frequency", "Cada día de turno de tarde"),
        ("how_verified", "La vecina le manda un mensaje a Carmen cuando Diego está con ella"),
    ):
        await family.translate("plans", "plan_rule", first_rule["id"], text, field)

    translated_step = await family.call(
        "POST",
        f"{p}/next-steps",
        json={
            "action": "Ms. Rivera and Carmen visit the after-school club together.",
            "owner": {"name": "Ms. Rivera"},
            "owner_kind": "agency",
            "due_on": "2026-12-14",
            "safety_plan_id": plan["id"],
        },
    )
    await family.translate(
        "plans", "next_step", translated_step["id"], "La Sra. Rivera y Carmen visitan juntas el club.", "action"
    )
    await family.call(
        "POST",
        f"{p}/next-steps",
        json={
            "action": "Carmen asks her manager about earlier shifts.",
            "owner": {"name": "Carmen Vega"},
            "owner_kind": "family",
            "due_on": "2026-12-21",
        },
    )
    return {
        "harm statement": "left Diego alone at home for the evening",
        "complicating factor": "Carmen works late shifts and her sister moved away",
        "strength": "Diego's neighbor knows him well",
        "child's words": "when I am home alone and it gets dark",
        "plan rule": "Carmen calls Diego when she gets to work to say who is with him.",
        "warning sign": "Carmen is asked to stay late at work",
        "backup plan": "If the neighbor is sick, Diego stays in the after-school club until Carmen comes.",
        "how the plan avoids a known trigger": "Carmen keeps her phone on at work so she always answers.",
        "next step": "Carmen asks her manager about earlier shifts.",
    }


class Words(HTMLParser):
    """The page's text, each piece with the language it is marked as (the nearest `lang`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.pieces: list[tuple[str, str]] = []  # (language, text)
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        self.stack.append((tag, dict(attrs).get("lang")))
        self.skip += tag in ("style", "script", "title")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        while self.stack:
            name, _ = self.stack.pop()
            self.skip -= name in ("style", "script", "title")
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.skip or not data.strip():
            return
        language = next((lang for _, lang in reversed(self.stack) if lang), "")
        self.pieces.append((language.split("-")[0], data))

    @classmethod
    def of(cls, html: str) -> list[tuple[str, str]]:
        parser = cls()
        parser.feed(html)
        return parser.pieces


def english_words(pieces: list[tuple[str, str]], *, outside: str | None) -> list[str]:
    """The English-only words in the text not marked as `outside` (None: all of it)."""
    return [
        word
        for language, text in pieces
        if outside is None or language != outside
        for word in re.findall(r"[a-z]+", text.lower())
        if word in ENGLISH_ONLY
    ]


def text_marked(pieces: list[tuple[str, str]], language: str) -> str:
    return " ".join(text for lang, text in pieces if lang == language)


async def test_a_fresh_spanish_family_reads_spanish_and_english_only_inside_lang_en(
    system: EmbeddedSystem, record_property: Any
) -> None:
    browser = chromium.chromium_path()
    family = Family(system)
    untranslated = await enter_the_family(family)
    pages = {}
    for language in ("en", "es"):
        response = await system.client.get(
            f"/v1/cases/{family.case_id}/family-view", params={"language": language}, headers=system.bearer(WORKER)
        )
        assert response.status_code == 200, response.text
        page = ARTIFACTS / f"family-view-fresh-{language}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(response.text, encoding="utf-8")
        pages[language] = chromium.dump_dom(page)  # the DOM as the browser built it
        png = chromium.screenshot(page, ARTIFACTS / f"family-view-fresh-{language}.png", width=1000, height=5200)
        assert png.stat().st_size > 10_000
        record_property(f"screenshot_{language}", str(png))
        print(f"\nfresh family view ({language}, {browser}): {png}")

    spanish, english = Words.of(pages["es"]), Words.of(pages["en"])
    assert '<html lang="es">' in pages["es"]
    # The check can fail: the English page is full of English words, and so is the Spanish page's lang="en" text.
    assert len(english_words(english, outside=None)) > 50
    assert len(english_words(spanish, outside=None)) > 10
    assert english_words(spanish, outside="en") == []  # no English word outside lang="en"

    marked = text_marked(spanish, "en")
    for what, words in untranslated.items():
        assert words in marked, f"the untranslated {what} is not marked lang=en on the Spanish page"
    plain_text = " ".join(text for _, text in spanish)
    # Each untranslated item carries the Spanish note (the plan's own words share one note).
    assert plain_text.count(NOTE_ES) >= len(untranslated) - 3
    for translated in (
        "Carmen lee con Diego todas las noches",
        "la vecina",
        "La vecina recoge a Diego en la escuela",
        "Cada día de turno de tarde",
        "La vecina no puede venir",
        "mamá me lee cuentos",
        "La Sra. Rivera y Carmen visitan juntas el club.",
        "Diego nunca está solo después de la escuela",
        "La vecina se queda con Diego hasta que Carmen llega a casa.",
    ):
        assert translated in plain_text and translated not in marked, translated
    # How the plan avoids Diego's known triggers, in each page's words; never a trigger or its id.
    assert "Cómo el plan evita lo que trae malos recuerdos" in plain_text
    assert "How the plan avoids things that bring back bad memories" in " ".join(text for _, text in english)
    assert "The neighbor stays with Diego until Carmen is home." in " ".join(text for _, text in english)
    for page in pages.values():
        assert "Being alone at home" not in page and not any(t in page for t in family.trigger_ids)
    assert "3 meses" in plain_text and "14 de diciembre de 2026" in plain_text
    assert "inglés" in plain_text and "Carmen Vega lo firmó el" in plain_text


async def test_the_fresh_familys_spanish_pdf_keeps_headings_with_what_follows(system: EmbeddedSystem) -> None:
    from weasyprint import HTML

    family = Family(system)
    await enter_the_family(family)
    response = await system.client.get(
        f"/v1/cases/{family.case_id}/family-view", params={"language": "es"}, headers=system.bearer(WORKER)
    )
    assert response.status_code == 200, response.text
    document = HTML(string=response.text).render()  # as the page's PDF is laid out (family_view/pdf.py)
    assert len(document.pages) >= 2  # enough words to break across pages
    for number, page in enumerate(document.pages, start=1):
        last = last_text_on(page._page_box)  # WeasyPrint's laid-out boxes
        assert last is not None, f"page {number} is empty"
        tag, text = last
        assert tag not in HEADINGS, f"page {number} ends with the heading {text!r}"

    pdf = ARTIFACTS / "family-view-fresh-es.pdf"
    pdf.write_bytes(document.write_pdf())
    images = pdf_pages_as_images(pdf, ARTIFACTS / "family-view-fresh-es-page")
    assert len(images) == len(document.pages)
    assert all(image.stat().st_size > 5_000 for image in images)
    print(f"\nfresh family PDF pages: {', '.join(str(i) for i in images)}")


def last_text_on(page_box: Any) -> tuple[str, str] | None:
    """The element tag and words of the last text laid out in the page's body (not its margins)."""
    found: tuple[str, str] | None = None

    def walk(box: Any, tag: str) -> None:
        nonlocal found
        if type(box).__name__ == "MarginBox":
            return
        element_tag = getattr(box, "element_tag", None) or tag
        if type(box).__name__ == "TextBox" and box.text.strip():
            found = (element_tag if element_tag not in ("span",) else tag, box.text)
        for child in getattr(box, "children", ()):
            walk(child, element_tag if type(box).__name__ not in ("LineBox", "TextBox") else tag)

    walk(page_box, "")
    return found


def pdf_pages_as_images(pdf: Path, prefix: Path) -> list[Path]:
    """Each page as a PNG: poppler's pdftoppm (`.ci/run` installs poppler-utils)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        import os

        if os.environ.get("CI"):
            pytest.fail("no pdftoppm (apt-get install poppler-utils; .ci/run does this)", pytrace=False)
        pytest.skip("no pdftoppm (apt-get install poppler-utils)")
    for old in prefix.parent.glob(f"{prefix.name}-*.png"):
        old.unlink()
    subprocess.run([tool, "-png", "-r", "60", str(pdf), str(prefix)], check=True, timeout=120)
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))


def test_the_heading_check_sees_a_heading_stranded_at_the_foot_of_a_page() -> None:
    from weasyprint import HTML

    stranded = HTML(string="<p>Before.</p><h3>Alone here</h3><p style='break-before: page'>After.</p>").render()
    kept = HTML(string="<p>Before.</p><h3 style='break-before: page'>With it</h3><p>After.</p>").render()
    assert [last_text_on(p._page_box) for p in stranded.pages] == [("h3", "Alone here"), ("p", "After.")]
    assert [last_text_on(p._page_box) for p in kept.pages] == [("p", "Before."), ("p", "After.")]


async def test_the_demo_familys_spanish_page_marks_every_english_word_including_the_networks(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID
) -> None:
    """The demo family has a safety network: what the worker recorded with each member is in English and has no
    translation, so on Maria's Spanish page it is marked `lang="en"` with the Spanish note, like any other text."""
    response = await sqlite_system.client.get(
        f"/v1/cases/{sqlite_demo_case}/family-view", params={"language": "es"}, headers=sqlite_system.bearer(WORKER)
    )
    assert response.status_code == 200, response.text
    spanish = Words.of(response.text)
    assert english_words(spanish, outside="en") == []
    assert english_words(spanish, outside=None)  # the check can fail: English is there, marked
    assert NOTE_ES in " ".join(text for _, text in spanish)


async def test_a_commitment_the_worker_recorded_is_translated_like_any_other_words(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID
) -> None:
    """What the worker wrote down with Rosa is in the agency's language: translated by one person, verified by
    another qualified one (the shared workflow, `record_kind: network_commitment`), Maria's Spanish page shows it in
    Spanish, no longer marked; until then it is marked English."""
    case = sqlite_demo_case
    view = await sqlite_system.client.post(
        "/graphql",
        json={
            "query": "query($c: ID!) { caseView(caseId: $c) { network { members { recordId firstName "
            "commitments { recordId text origin } } } } }",
            "variables": {"c": str(case)},
        },
        headers=sqlite_system.bearer(WORKER),
    )
    rosa = next(m for m in view.json()["data"]["caseView"]["network"]["members"] if m["firstName"] == "Rosa")
    english, commitment_id = rosa["commitments"][0]["text"], rosa["commitments"][0]["recordId"]
    assert rosa["commitments"][0]["origin"] == "WORKER"
    spanish = "Llama a Maria todas las noches a las 8 para saber cómo está."
    base = f"/api/network/v1/cases/{case}"
    queue = await sqlite_system.client.get(
        f"{base}/translation-queue", params={"language": "es"}, headers=sqlite_system.bearer(WORKER)
    )
    assert queue.status_code == 200, queue.text
    assert ("network_commitment", commitment_id) in {(i["record_kind"], i["record_id"]) for i in queue.json()["items"]}
    recorded = await sqlite_system.client.post(
        f"{base}/translations",
        json={
            "record_kind": "network_commitment",
            "record_id": commitment_id,
            "source_field": "text",
            "language": "es",
            "text": spanish,
            "translated_by": "Lucía Gómez",
        },
        headers=sqlite_system.bearer(WORKER),
    )
    assert recorded.status_code == 201, recorded.text

    async def page() -> list[tuple[str, str]]:
        response = await sqlite_system.client.get(
            f"/v1/cases/{case}/family-view", params={"language": "es"}, headers=sqlite_system.bearer(WORKER)
        )
        assert response.status_code == 200, response.text
        return Words.of(response.text)

    assert english in text_marked(await page(), "en")  # recorded, not yet verified: still the English words
    verified = await sqlite_system.client.post(
        f"{base}/translations/{recorded.json()['id']}/verify",
        json={"qualification": "certified_translator"},
        headers=sqlite_system.bearer(SUPERVISOR),
    )
    assert verified.status_code == 200, verified.text
    shown = await page()
    assert spanish in " ".join(text for lang, text in shown if lang != "en")
    assert english not in " ".join(text for _, text in shown)
