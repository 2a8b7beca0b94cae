"""The practice dashboards (issue 15 part 6): a supervisor's page for her unit and a coach's for her caseload, the
fidelity measures quarter by quarter beside the state average, server-rendered with inline SVG and nothing to fetch,
read as the reader through the practice service (which decides and audits). Rendered in a real headless Chromium;
screenshots in tests/artifacts/. Suppressed cells say "fewer than 5", never a number. All fictional."""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from sop_gateway.demo.history import seed_practice_history
from sop_gateway.demo.seeding import DemoSeed

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import chromium  # noqa: E402

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ARTIFACTS = HERE.parent / "artifacts"
UNIT = "Pulaski-3"


class Tables(HTMLParser):
    """Each table's caption and rows of cell texts; and every URL the page would fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, object]] = []
        self.fetches: list[str] = []
        self.scripts = 0
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "poster", "data") and value:
                self.fetches.append(value)
        if tag == "script":
            self.scripts += 1
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            rows = self.tables[-1]["rows"]
            assert isinstance(rows, list)
            rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)


def read(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


def table(parsed: Tables, caption_start: str) -> list[list[str]]:
    [found] = [t for t in parsed.tables if str(t["caption"]).startswith(caption_start)]
    rows = found["rows"]
    assert isinstance(rows, list)
    return rows


async def history(system: EmbeddedSystem) -> None:
    """The demo's year of practice, every event of it folded into the read model (a loaded machine takes longer
    than `events_delivered`'s ten seconds to relay some hundreds of events)."""
    await seed_practice_history(system.client, DemoSeed(system.keys_dir))
    deadline = asyncio.get_running_loop().time() + 180
    for app in system.services.values():
        outbox = app.state.audit.tables.outbox
        while asyncio.get_running_loop().time() < deadline:
            async with app.state.database.session() as session:
                query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                if not (await session.execute(query)).scalar_one():
                    break
            await asyncio.sleep(0.1)


async def page(system: EmbeddedSystem, path: str, user: str, **params: str) -> str:
    response = await system.client.get(path, params=params, headers=system.bearer(user))
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["cache-control"] == "no-store"
    return response.text


async def test_the_supervisors_dashboard_draws_her_units_year_beside_the_state_and_hides_small_cells(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID, record_property: pytest.RecordProperty
) -> None:
    system = sqlite_system
    await history(system)
    html = await page(system, "/dashboards/practice", "sup.okafor", unit=UNIT)
    parsed = read(html)
    assert parsed.scripts == 0 and parsed.fetches == []  # nothing to run, nothing to fetch
    assert '<html lang="en">' in html and html.count("<svg") == 11 and 'role="img"' in html
    maps = table(parsed, f"Cases with a map: unit {UNIT}")
    # 3 of 14 (never said as a number), 7, 9 and 14 of 14
    # (this quarter also holds the demo family's case, with or without its map as the template was copied: 15 of 15
    # or 14 of 15, whose 1 without is a small cell)
    assert [row[1] for row in maps[1:4]] == ["fewer than 5", "50%", "64%"] and maps[4][1] in ("100%", "fewer than 5")
    state = [row[2] for row in maps[1:]]  # the state's 42 cases a quarter: 3 of 42 is a small cell too
    assert state[:3] == ["fewer than 5", "17%", "21%"] and state[3] in ("33%", "35%")
    network = table(parsed, f"Cases with a safety network: unit {UNIT}")
    assert [row[1] for row in network[1:4]] == [
        "36%",
        "50%",
        "57%",
    ]  # 5, 7 and 8 of 14    assert "Training due and overdue in the unit" in html and "Sam Lindqvist" in html
    # in a real browser, with a screenshot
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = ARTIFACTS / "dashboard-supervisor-en.html"
    saved.write_text(html, encoding="utf-8")
    dom = chromium.dump_dom(saved)
    assert "Cases with a map" in dom and "State average" in dom
    png = chromium.screenshot(saved, ARTIFACTS / "dashboard-supervisor-en.png", width=1200, height=3600)
    record_property("screenshot", str(png))
    # in Spanish: the page's own words, Babel's percents
    spanish = await page(system, "/dashboards/practice", "sup.okafor", unit=UNIT, language="es")
    assert '<html lang="es">' in spanish and "Promedio del estado" in spanish and "menos de 5" in spanish
    assert "50\u00a0%" in spanish or "50 %" in spanish
    assert '<td lang="en">Building safety networks</td>' in spanish  # the catalogue's English, marked as such
    saved_es = ARTIFACTS / "dashboard-supervisor-es.html"
    saved_es.write_text(spanish, encoding="utf-8")
    chromium.screenshot(saved_es, ARTIFACTS / "dashboard-supervisor-es.png", width=1200, height=3600)


def test_a_suppressed_cell_is_never_a_number_even_when_the_service_sends_one() -> None:
    from sop_gateway.dashboards.labels import dashboard_words
    from sop_gateway.dashboards.page import unit_trend

    trend = {
        "unit": UNIT,
        "dangerWithinDays": 10,
        "smallCellMinimum": 5,
        "periods": [
            {
                "period": "2026-Q4",
                "cases": None,
                "measures": [{"key": "cases_with_map", "rate": 0.75, "suppressed": True}],
                "state": [{"key": "cases_with_map", "rate": 0.5, "suppressed": False}],
            }
        ],
    }
    view = unit_trend(trend, dashboard_words("en"))
    maps = next(m for m in view.measures if m.key == "cases_with_map")
    assert maps.rows[0].unit == "fewer than 5" and maps.rows[0].state == "50%"
    assert view.cases == (("2026-Q4", "fewer than 5"),)
    unit_line, state_line = maps.chart.series
    assert unit_line.points == () and [p.label for p in state_line.points] == ["50%"]


async def test_who_may_open_which_dashboard(sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID) -> None:
    system = sqlite_system

    async def status(path: str, user: str | None, **params: str) -> int:
        headers = system.bearer(user) if user else {}
        answer = await system.client.get(path, params=params, headers=headers)
        return answer.status_code

    assert await status("/dashboards/practice", "sup.okafor", unit="Benton-1") == 403  # not her unit
    assert await status("/dashboards/practice", "fsw.rivera", unit=UNIT) == 403  # a worker
    assert await status("/dashboards/practice", "maria.lopez", unit=UNIT) == 403  # a family login
    assert await status("/dashboards/coaching", "maria.lopez") == 403
    # a family's login is refused by the page itself: nothing is asked of the practice service on their behalf
    # (each read the page makes is audited at the edge as `practice:<route>`)
    asked = [
        (r.actor_subject, r.resource) for r in await system.audit_rows() if str(r.resource).startswith("practice:")
    ]
    assert asked and not [who for who, _ in asked if who == "maria.lopez"]
    assert await status("/dashboards/coaching", "sup.okafor") == 403  # not a coach
    assert await status("/dashboards/practice", None, unit=UNIT) == 401
    assert await status("/dashboards/practice", "lead.park", unit=UNIT) == 200  # practice leads read any unit
    missing = await system.client.get("/dashboards/practice", headers=system.bearer("sup.okafor"))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "unit"
    unknown = await system.client.get(
        "/dashboards/practice", params={"unit": UNIT, "team": "x"}, headers=system.bearer("sup.okafor")
    )
    assert unknown.status_code == 400


async def test_the_coachs_dashboard_shows_her_queue_caseload_and_units(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID, record_property: pytest.RecordProperty
) -> None:
    system = sqlite_system
    await history(system)
    html = await page(system, "/dashboards/coaching", "coach.tran")
    parsed = read(html)
    assert parsed.scripts == 0 and parsed.fetches == []
    queue = parsed.tables[0]["rows"]  # the queue's table comes first
    assert isinstance(queue, list)
    assert ["Dana Rivera", "Harm and danger statements", "in coaching", "1", "1"] == queue[1][:5]
    assert re.search(r"Unit Pulaski-3: .*Dana Rivera", html) and html.count("<svg") == 11
    # the consultation snapshot never reaches the page (the family's names are not the coach's to see here)
    assert "Maria Lopez" not in html
    saved = ARTIFACTS / "dashboard-coach-en.html"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved.write_text(html, encoding="utf-8")
    png = chromium.screenshot(saved, ARTIFACTS / "dashboard-coach-en.png", width=1200, height=3600)
    record_property("screenshot", str(png))
