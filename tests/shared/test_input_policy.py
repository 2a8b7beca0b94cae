"""The input policy's pieces: nesting is measured without parsing (brackets inside strings, escaped quotes
included, do not count), refused characters are named by kind and code point, and field paths follow the
JSON's shape."""

from __future__ import annotations

import json
import random
import re
from urllib.parse import parse_qsl

import pytest

from sop_shared.input_policy import (
    REFUSED_IN_TEXT,
    InputPolicy,
    _escaped,
    json_depth,
    json_errors,
    may_break_policy,
    refused_character,
)


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'"[[["', 0),
        (b"3", 0),
        (b'[{"a": [1, {"b": []}]}]', 5),
        (b'{"a": "x\\"[[[[", "b": [[]]}', 3),
        (b'{"a": "\\\\", "b": [[]]}', 3),
        (b'["\\\\\\"]]]"]', 1),
        (b"[" * 20_000, 20_000),
        (b'"unterminated [[[', 3),
        (b"]]]]", 0),
    ],
)
def test_nesting_is_measured_outside_strings_without_parsing(body: bytes, depth: int) -> None:
    # (an unterminated string's brackets count: such a body is not JSON, so refusing it loses nothing)
    assert json_depth(body) == depth


def test_a_parsable_body_measures_as_the_parser_nests() -> None:
    value = {"a": [{"b": ["[", "]]", "\\", '"{{'], "c": {"d": [[["e"]]]}}]}
    assert json_depth(json.dumps(value).encode()) == 7


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("a\x00", "a control character (U+0000)"),
        ("a\x7f", "a control character (U+007F)"),
        ("a\x9b", "a control character (U+009B)"),
        ("\u202a", "a bidirectional control character (U+202A)"),
        ("\u2069", "a bidirectional control character (U+2069)"),
        ("\ud83d", "an unpaired surrogate (U+D83D)"),
    ],
)
def test_refused_characters_are_named_by_kind_and_code_point(text: str, kind: str) -> None:
    assert refused_character(text) == f"contains {kind}, which text here may not carry"


def test_line_breaks_are_text_in_a_body_but_not_in_a_single_line_value() -> None:
    for text in ("two\nlines", "tab\there", "crlf\r\n", "Ana María 👩‍👧 \u200f"):
        assert refused_character(text) is None
    assert refused_character("two\nlines", multiline=False) is not None


def test_every_offending_field_is_named_by_its_path_and_keys_are_escaped() -> None:
    value = {
        "children": [{"name": "ok"}, {"name": "x\x00"}],
        "a\u202eb": 1,
        "n": 2**63,
        "m": -(2**63),
        "f": float("inf"),
        "nested": [[{"deep": ["\x1b"]}]],
        "fine": [True, None, 1.5, "text"],
    }
    assert list(json_errors(value)) == [
        {
            "field": "children[1].name",
            "message": "contains a control character (U+0000), which text here may not carry",
        },
        {
            "field": "a\\u202eb",
            "message": "the name contains a bidirectional control character (U+202E), which text here may not carry",
        },
        {"field": "n", "message": "the number is out of range"},
        {"field": "f", "message": "the number must be finite"},
        {
            "field": "nested[0][0].deep[0]",
            "message": "contains a control character (U+001B), which text here may not carry",
        },
    ]
    assert list(json_errors("\x00")) == [
        {"field": "body", "message": "contains a control character (U+0000), which text here may not carry"}
    ]


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "Ma\\u0000ria"}',
        '{"name": "\u202eairaM"}',
        '{"name": "Maria\u0085"}',
        '{"na\\nme": "Maria"}',
        '{"n": 12345678901234567890}',
        '{"n": -12345678901234567890}',
        '{"n": 1e400}',
        '{"n": NaN}',
        '{"n": -Infinity}',
        '{"pair": "\\ud800"}',
    ],
)
def test_the_raw_scan_never_lets_a_body_the_walk_refuses_pass(body: str) -> None:
    """The input policy parses and walks a JSON body only when its raw bytes could break the policy: every body
    the walk refuses must be caught by the scan."""
    raw = body.encode("utf-8", "surrogatepass")
    assert list(json_errors(json.loads(raw.decode("utf-8", "surrogatepass"))))
    assert may_break_policy(raw)


@pytest.mark.parametrize(
    "body", ['{"name": "María José", "n": 3, "x": -1.25, "ok": true, "none": null}', '[{"a": [1, 2, {"b": "ñ"}]}]']
)
def test_a_plain_body_is_clean_without_parsing(body: str) -> None:
    assert not may_break_policy(body.encode())
    assert not list(json_errors(json.loads(body)))


# The scans as first written, one regular expression each: the faster scans must answer exactly as these do.
_SUSPECT_BYTES = re.compile(rb"\\|[0-9]{19}|[0-9][eE]|NaN|Infinity")


def _may_break_policy_by_pattern(body: bytes) -> bool:
    if _SUSPECT_BYTES.search(body):
        return True
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return REFUSED_IN_TEXT.search(text) is not None


def _json_depth_by_pattern(body: bytes) -> int:
    no_escapes = re.sub(rb"\\.", b"", body, flags=re.DOTALL)
    brackets = re.sub(rb'"[^"]*"', b"", no_escapes).translate(None, bytes(b for b in range(256) if b not in b"[]{}"))
    depth = level = 0
    for b in brackets:
        level += 1 if b in b"[{" else -1
        depth = max(depth, level)
    return depth


_PIECES = [b"[", b"]", b"{", b"}", b'"', b'""', b"\\", b'\\"', b"a", b" ", b"0", b"9" * 18, b"9", b"e", b"E", b"NaN"]
_PIECES += [b"Infinity", b"\x00", b"\x0b", b"\x1f", b"\x7f", b"\t\n\r", "ñ".encode(), "\x85".encode(), b"\xff"]
_PIECES += ["\u202e".encode(), "\u2066".encode(), "\ud800".encode("utf-8", "surrogatepass"), b"1e5", b"-1.5"]


def test_the_scans_answer_as_the_patterns_did_for_any_bytes() -> None:
    """Random bodies of the pieces that matter (brackets, quotes, escapes, digits, refused characters, invalid
    UTF-8): depth and the raw scan agree with the regular expressions they replaced, byte for byte."""
    rng = random.Random(16)
    for _ in range(20_000):
        body = b"".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 24)))
        assert json_depth(body) == _json_depth_by_pattern(body), body
        assert may_break_policy(body) == _may_break_policy_by_pattern(body), body


def test_the_scans_answer_as_the_patterns_did_for_a_sacwis_batch() -> None:
    records = [
        {"kind": "case", "external_id": f"C{i}", "data": {"members": [{"person": {"first_name": "Ana", "n": i}}]}}
        for i in range(500)
    ]
    clean = json.dumps({"system": "CHRIS", "records": records}).encode()
    for body in (
        clean,
        clean.replace(b'"Ana"', b'"An\\u0000a"', 1),
        clean.replace(b'"Ana"', '"Ana\u202e"'.encode(), 1),
        clean.replace(b'"n": 499', b'"n": 4990000000000000000000'),
        clean.replace(b'"n": 3', b'"n": 3e9'),
        clean.replace(b'"Ana"', '"María"'.encode()),
        clean.replace(b'"Ana"', b'"[{["', 1),
    ):
        assert json_depth(body) == _json_depth_by_pattern(body)
        assert may_break_policy(body) == _may_break_policy_by_pattern(body)
    assert not may_break_policy(clean)


def _query_errors_by_parsing(query_string: bytes) -> list[dict[str, str]]:
    """The query check as first written: every name and value parsed, then looked at."""
    errors = []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        for text in (name, value):
            reason = refused_character(text, multiline=False)
            if reason:
                errors.append({"field": _escaped(name), "message": reason})
                break
    return errors


_QUERY_PIECES = [b"a", b"=", b"&", b"+", b"%", b"%00", b"%0A", b"%E2%80%AE", b"%C3%B1", b"%ED%A0%80", b"%zz", b"\xf1"]
_QUERY_PIECES += [b"\x00", b"\t", b"\x1b", b"\x7f", b"\x85", b"audience=staff", b"first=2&cursor=eyJhIjoxfQ"]


def test_a_query_is_refused_exactly_as_parsing_every_value_refused_it() -> None:
    """A query without a percent escape and without a refused character is passed without parsing it: every
    query, clean or not, gets the errors the parse-everything check gave."""
    rng = random.Random(16)
    queries = [b"", b"audience=staff", b"a=%00", b"a=\x00", b"a\x1b=1", b"q=Mar%C3%ADa+Jos%C3%A9"]
    queries += [b"".join(rng.choices(_QUERY_PIECES, k=rng.randint(1, 8))) for _ in range(3000)]
    for query in queries:
        assert list(InputPolicy._query_errors({"query_string": query})) == _query_errors_by_parsing(query), query
