"""The input policy, applied once to every request of every component (services and gateway) before any
route runs, so no schema, endpoint or resolver can forget it:

- a body larger than the component's limit is 413, whether or not its length is declared;
- a JSON body nested deeper than the limit is 422 before it is parsed (deep nesting exhausts the parser's
  recursion and would be a 500);
- text anywhere in a JSON or form body (nested objects and lists, keys included), in a path parameter or
  in a query value must not carry NUL or other control characters (a tab, line feed or carriage return is
  allowed in body text, where notes have lines), bidirectional embeddings, overrides or isolates (they make
  a record read differently on screen than it is stored: "Trojan Source"), or lone surrogates (not text;
  PostgreSQL refuses them);
- a JSON number must be finite and an integer must fit a signed 64-bit column.

A refusal is 422 problem+json whose `errors` name each offending field (`children[0].note`, `cursor`), and
nothing downstream runs, so nothing is written. A body that is not valid JSON is passed on unchanged: the
framework's own validation answers it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sop_shared.problems import InvalidInput, Problem, problem_response

DEFAULT_MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# C0 controls but tab, line feed and carriage return; DEL and the C1 controls; bidirectional embeddings,
# overrides (U+202A-U+202E) and isolates (U+2066-U+2069); lone surrogates. The implicit marks (LRM, RLM,
# ALM) are left alone: they do not reorder text around them and mixed-direction names may need them.
_LINE_BREAKS = "\t\n\r"
_REFUSED = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
REFUSED_IN_TEXT = re.compile(f"[{_REFUSED}]")
REFUSED_IN_LINE = re.compile(f"[{_REFUSED}{_LINE_BREAKS}]")


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "The request body is too large"


def refused_character(text: str, *, multiline: bool = True) -> str | None:
    """Why `text` is refused, or None. `multiline` allows tab, line feed and carriage return."""
    match = (REFUSED_IN_TEXT if multiline else REFUSED_IN_LINE).search(text)
    if match is None:
        return None
    char = match.group()
    kind = (
        "a bidirectional control character"
        if "\u202a" <= char <= "\u2069"
        else "an unpaired surrogate"
        if "\ud800" <= char <= "\udfff"
        else "a control character"
    )
    return f"contains {kind} (U+{ord(char):04X}), which text here may not carry"


def _escaped(text: str) -> str:
    """A key as a field name, its refused characters written as escapes (never reflected raw)."""
    return REFUSED_IN_LINE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def json_errors(value: Any, path: str = "") -> Iterator[dict[str, str]]:
    """Every field of a parsed JSON value that breaks the policy, by path (`children[0].note`)."""
    if isinstance(value, str):
        reason = refused_character(value)
        if reason:
            yield {"field": path or "body", "message": reason}
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            yield {"field": path or "body", "message": "the number is out of range"}
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield {"field": path or "body", "message": "the number must be finite"}
    elif isinstance(value, dict):
        for key, item in value.items():
            field = _join(path, _escaped(key))
            reason = refused_character(key, multiline=False)
            if reason:
                yield {"field": field, "message": "the name " + reason}
            yield from json_errors(item, field)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_errors(item, f"{path}[{index}]")


# What could make a JSON body break the policy, looked for in its raw bytes: an escape (it may stand for any
# character), a refused character written raw, a number too long for 64 bits (19 digits in a row), too large for
# a float (an exponent: a digit then e or E) or not finite. A body with none of them is clean without parsing it;
# one with any is parsed and walked, so each refused field is named. Text inside strings can trigger the walk
# needlessly (a name "NaN"), never skip it wrongly. Each look is a substring search or a byte-for-byte
# translation (no regular expression: an alternation with no fixed prefix is tried at every byte, ~50 ms for a
# 1 MB SACWIS batch).
_NUMBER_SHAPES = bytes(0x30 if 0x30 <= b <= 0x39 else 0x65 if b in b"eE" else 0x20 for b in range(256))
_LONG_NUMBER, _EXPONENT = b"0" * 19, b"0e"  # in a body's number shapes: every digit a 0, e and E an e
_REFUSED_ASCII = bytes(b for b in range(128) if REFUSED_IN_TEXT.match(chr(b)))


def may_break_policy(body: bytes) -> bool:
    """False only when `body` (JSON) certainly holds no refused text and no out-of-range number."""
    if b"\\" in body or b"NaN" in body or b"Infinity" in body:
        return True
    shapes = body.translate(_NUMBER_SHAPES)
    if _LONG_NUMBER in shapes or _EXPONENT in shapes:
        return True
    if body.isascii():
        return len(body.translate(None, _REFUSED_ASCII)) != len(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return True  # another encoding (or none): the walk decides, as before
    return REFUSED_IN_TEXT.search(text) is not None


# Escapes first (so an escaped quote is not taken for the end of a string), then whole strings: what is
# left outside strings holds every bracket that nests. Both patterns are linear: no backtracking.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_BRACKETS_OR_QUOTES = bytes(b for b in range(256) if b not in b'[]{}"')
# Opening brackets count +1, closing ones -1 (0xFF read as a signed byte).
_DEPTH_STEPS = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")


def json_depth(body: bytes) -> int:
    """How deep a JSON text nests, counted without parsing it (a parser recurses once per level).

    Only brackets and quotes matter once escapes are gone, so the rest is dropped first (one translation), and
    with every quote paired, two quotes side by side (an empty string, or one string closing where the next
    opens) are dropped as well: what is inside a string stays inside one. What is left is a short text of
    brackets, with the few strings that hold a bracket."""
    if b"\\" in body:
        body = _ESCAPE.sub(b"", body)
    kept = body.translate(None, _NOT_BRACKETS_OR_QUOTES)
    if kept.count(b'"') % 2 == 0:  # an unpaired quote (not JSON) is left to the pattern, which keeps what follows it
        kept = kept.replace(b'""', b"")
    brackets = _STRING.sub(b"", kept).translate(None, _NOT_BRACKETS)
    steps = memoryview(brackets.translate(_DEPTH_STEPS)).cast("b")
    return max(accumulate(steps, initial=0))


def _is_json(content_type: str) -> bool:
    # FastAPI parses a body without a Content-Type as JSON too, so that is checked as JSON.
    media = content_type.split(";")[0].strip().lower()
    return media in ("", "application/json") or (media.startswith("application/") and media.endswith("+json"))


def _is_form(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


# `{name}` in a path template (re.escape has turned its braces into `\{name\}`); `{name:path}` spans slashes.
_TEMPLATE_PARAM = re.compile(r"\\\{(\w+)(:path)?\\\}")


def _param_pattern(match: re.Match[str]) -> str:
    return f"(?P<{match.group(1)}>{'.+' if match.group(2) else '[^/]+'})"


class InputPolicy:
    """ASGI middleware enforcing the policy above. `openapi` (the app's document) names path parameters in
    errors; without it a refused path is reported as `path`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        openapi: Callable[[], dict[str, Any]] | None = None,
        larger_bodies: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.larger_bodies = dict(larger_bodies or {})
        self.max_json_depth = max_json_depth
        self.openapi = openapi
        self._path_patterns: list[re.Pattern[str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = [*self._path_errors(scope), *self._query_errors(scope)]
        if errors:
            await problem_response(InvalidInput(errors), Request(scope))(scope, receive, send)
            return
        limit = self.larger_bodies.get(scope["path"], self.max_body_bytes)
        body = await self._read_body(scope, receive, limit)
        if body is None:
            too_large = PayloadTooLarge(f"at most {limit} bytes")
            await problem_response(too_large, Request(scope))(scope, receive, send)
            return
        problem = self._body_problem(body, _content_type(scope)) if body else None
        if problem is not None:
            await problem_response(problem, Request(scope))(scope, receive, send)
            return
        await self.app(scope, replay_body(body, receive), send)

    def _path_errors(self, scope: Scope) -> Iterator[dict[str, str]]:
        path = scope.get("path", "")
        if refused_character(path, multiline=False) is None:
            return
        params = next((m.groupdict() for m in (t.match(path) for t in self._templates()) if m), {})
        for name, value in params.items():
            reason = refused_character(value, multiline=False)
            if reason:
                yield {"field": name, "message": reason}
        if not params:
            yield {"field": "path", "message": refused_character(path, multiline=False) or ""}

    def _templates(self) -> list[re.Pattern[str]]:
        """The app's path templates (from its OpenAPI document, built once) as patterns naming parameters."""
        if self._path_patterns is None:
            paths = self.openapi().get("paths", {}) if self.openapi is not None else {}
            self._path_patterns = [
                re.compile("^" + _TEMPLATE_PARAM.sub(_param_pattern, re.escape(t)) + "$")
                for t in sorted(paths, key=lambda t: t.count("{"))
            ]
        return self._path_patterns

    @staticmethod
    def _query_errors(scope: Scope) -> Iterator[dict[str, str]]:
        query = scope.get("query_string", b"").decode("latin-1")
        if "%" not in query and REFUSED_IN_LINE.search(query) is None:
            return  # parse_qsl only splits on & and = and reads + as a space: no name or value can hold one
        for name, value in parse_qsl(query, keep_blank_values=True):
            for text in (name, value):
                reason = refused_character(text, multiline=False)
                if reason:
                    yield {"field": _escaped(name), "message": reason}
                    break

    async def _read_body(self, scope: Scope, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None once it exceeds the limit (a declared length is believed only when
        it is over the limit; the bytes themselves are always counted)."""
        declared = _header(scope, b"content-length") or b""
        if declared.isdigit() and int(declared) > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; what arrived is passed on and the app sees the disconnect
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _body_problem(self, body: bytes, content_type: str) -> Problem | None:
        if not body.strip():
            return None
        if _is_form(content_type):
            try:
                pairs = parse_qsl(body.decode(), keep_blank_values=True)
            except UnicodeDecodeError:
                return None
            errors = [
                {"field": _escaped(name), "message": reason}
                for name, value in pairs
                for reason in [refused_character(name, multiline=False) or refused_character(value)]
                if reason
            ]
            return InvalidInput(errors) if errors else None
        if not _is_json(content_type):
            return None
        if json_depth(body) > self.max_json_depth:
            return InvalidInput.field("body", f"nested deeper than {self.max_json_depth} levels")
        if not may_break_policy(body):
            return None  # nothing to name: the body is parsed once, by the route
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return None  # not JSON: the framework's own parsing answers it
        errors = list(json_errors(value))
        return InvalidInput(errors) if errors else None


def _header(scope: Scope, name: bytes) -> bytes | None:
    """A request header's raw value (the last one sent, as a dict of the headers keeps it), or None."""
    found = None
    for key, value in scope.get("headers") or ():
        if key == name:
            found = value
    return found


def _content_type(scope: Scope) -> str:
    """As Starlette's `request.headers.get("content-type", "")` reads it: the first one sent."""
    for key, value in scope.get("headers") or ():
        if key == b"content-type":
            return str(value.decode("latin-1"))
    return ""


def replay_body(body: bytes, receive: Receive) -> Receive:
    """The body read once, handed on whole; after it, the client's own stream (which only ever says it
    disconnected), so a streaming response still notices a client that went away."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def install_input_policy(
    app: Any,
    *,
    max_body_bytes: int,
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
    larger_bodies: Mapping[str, int] | None = None,
) -> None:
    """Add the policy to a FastAPI app. Install it before the request context, so that context (request id,
    metrics) wraps it and its refusals carry the request id. `larger_bodies` names the few paths (exactly, no
    parameters) whose bodies may be larger than `max_body_bytes`, such as the SACWIS batch."""
    app.add_middleware(
        InputPolicy,
        max_body_bytes=max_body_bytes,
        max_json_depth=max_json_depth,
        openapi=app.openapi,
        larger_bodies=larger_bodies,
    )
