"""The plain-language check measured on a labelled set (not a test): precision and recall per finding type
and language.

    make bench-language                       # tuning part, held-out part and all, per language
    uv run python tests/perf/plain_language.py --errors   # also print every miss and false alarm

The set (`tests/perf/plain_language_labelled.jsonl`) holds fictional danger and harm statements, safety goals
and plan rules in English and Spanish, labelled by the definitions in docs/plain-language.md: the jargon
terms as written, the parts missing from free text, and whether a goal or rule is negatively phrased or asks
for service compliance. Every 5th item of each language is held out: rules are never tuned on it, so its
figures say how the check does on text it was not shaped by.

How findings are counted
- jargon: per term. A finding is right when it overlaps a labelled term; a labelled term is found when a
  finding overlaps it.
- missing parts: per (item, part), for the kinds whose parts are read from free text.
- negative phrasing, service compliance: per item (any finding of the code), goals and rules only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sop_shared.plain_language import ACTION_KINDS, FREE_TEXT_PARTS, check_text, fold

DATA = Path(__file__).with_name("plain_language_labelled.jsonl")
TYPES = ("jargon", "missing_part", "negative_phrasing", "service_compliance")
HELD_OUT_EVERY = 5


@dataclass
class Tally:
    tp: int = 0  # findings that are right
    fp: int = 0
    found: int = 0  # labelled things found
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def recall(self) -> float | None:
        return self.found / (self.found + self.fn) if self.found + self.fn else None


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]


def held_out(item: dict[str, Any]) -> bool:
    return int(item["id"].rsplit("-", 1)[1]) % HELD_OUT_EVERY == 0


def _spans(text: str, term: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(re.escape(fold(term)), fold(text), re.IGNORECASE)]


def score(items: list[dict[str, Any]]) -> dict[tuple[str, str], Tally]:
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for item in items:
        text, kind, lang = item["text"], item["kind"], item["language"]
        findings = [f for f in check_text(text, kind=kind, language=lang).findings if f.severity == "warning"]
        where = f"{item['id']} ({kind})"

        t = tallies[("jargon", lang)]
        labelled = [(term, span) for term in item["jargon"] for span in _spans(text, term)[:1]]
        predicted = [(f.term or "", (f.start or 0, f.end or 0)) for f in findings if f.code == "jargon"]
        for term, (s, e) in predicted:
            if any(s < le and ls < e for _, (ls, le) in labelled):
                t.tp += 1
            else:
                t.fp += 1
                t.errors.append(f"false alarm {term!r} in {where}: {text}")
        for term, (ls, le) in labelled:
            if any(s < le and ls < e for _, (s, e) in predicted):
                t.found += 1
            else:
                t.fn += 1
                t.errors.append(f"missed {term!r} in {where}: {text}")

        if kind in FREE_TEXT_PARTS:
            t = tallies[("missing_part", lang)]
            expected = set(item["missing_parts"])
            got = {f.part for f in findings if f.code == "missing_part"}
            for part in got:
                if part in expected:
                    t.tp += 1
                else:
                    t.fp += 1
                    t.errors.append(f"says {part} is missing in {where}: {text}")
            for part in expected:
                if part in got:
                    t.found += 1
                else:
                    t.fn += 1
                    t.errors.append(f"does not see {part} is missing in {where}: {text}")

        if kind in ACTION_KINDS:
            for code in ("negative_phrasing", "service_compliance"):
                t = tallies[(code, lang)]
                expected_flag = bool(item[code])
                got_terms = [f.term for f in findings if f.code == code]
                if got_terms and expected_flag:
                    t.tp += 1
                    t.found += 1
                elif got_terms:
                    t.fp += 1
                    t.errors.append(f"false alarm {got_terms} in {where}: {text}")
                elif expected_flag:
                    t.fn += 1
                    t.errors.append(f"missed in {where}: {text}")

        if not (item["jargon"] or item["missing_parts"] or item["negative_phrasing"] or item["service_compliance"]):
            t = tallies[("plain items without a finding", lang)]
            codes = sorted({f.code for f in findings if f.code in TYPES})
            if codes:
                t.fp += 1
                t.errors.append(f"plain item flagged {codes}: {where}: {text}")
            else:
                t.tp += 1
    return tallies


def _fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def table(title: str, items: list[dict[str, Any]], show_errors: bool) -> None:
    tallies = score(items)
    print(f"\n{title}: {len(items)} items")
    print(f"  {'finding':<32} {'lang':<4} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for code in (*TYPES, "plain items without a finding"):
        for lang in ("en", "es"):
            t = tallies.get((code, lang))
            if t is None:
                continue
            if code.startswith("plain"):
                share = t.tp / (t.tp + t.fp) if t.tp + t.fp else None
                print(f"  {code:<32} {lang:<4} {_fmt(share):>9} {'':>7} {t.tp:>4} {t.fp:>4}")
                continue
            print(
                f"  {code:<32} {lang:<4} {_fmt(t.precision()):>9} {_fmt(t.recall()):>7} {t.tp:>4} {t.fp:>4} {t.fn:>4}"
            )
    if show_errors:
        for (code, lang), t in sorted(tallies.items()):
            for error in t.errors:
                print(f"    [{code} {lang}] {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--errors", action="store_true", help="print every miss and false alarm of the tuning part")
    parser.add_argument("--held-out-only", action="store_true", help="only the held-out part")
    args = parser.parse_args(argv)
    items = load()
    tuning = [i for i in items if not held_out(i)]
    held = [i for i in items if held_out(i)]
    langs = {lang: sum(1 for i in items if i["language"] == lang) for lang in ("en", "es")}
    print(
        f"labelled set: {len(items)} items ({langs['en']} English, {langs['es']} Spanish); "
        f"every {HELD_OUT_EVERY}th held out"
    )
    if not args.held_out_only:
        table("tuning part (rules were adjusted while looking at it)", tuning, args.errors)
    table("held-out part (never tuned on)", held, False)  # its errors are not printed: nobody tunes on them
    if not args.held_out_only:
        table("all items", items, False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
