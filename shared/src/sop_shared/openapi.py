"""The OpenAPI documents tell the truth about errors and authentication, in every component.

FastAPI documents a 422 as `application/json` with its own `HTTPValidationError` body, and nothing about
the other errors or how to authenticate. What the platform sends is `application/problem+json` (RFC 9457)
for every error (`sop_shared.problems`), so a client generated from the document must expect exactly that:

- every error response of every operation is `application/problem+json` with the `Problem` schema (a
  schema an operation declared for one of its errors is kept, under that media type);
- every operation declares the errors every route can give (400 bad query, 401, 404, 422 invalid input,
  503 busy), the writes also 409, those guarded by `If-Match` also 412, and 428 where it is required;
- path parameters are never nullable (a route served flat and under `/v1/cases/{case_id}/…` declares
  `case_id` optional for the flat form; in the path it is always there);
- the security schemes are declared, and each operation says which apply (`[]` for the public ones:
  health, readiness, the OAuth token endpoint).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from sop_shared.problems import PROBLEM_BASE, PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details; `request_id` lets support find it in the logs.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri", "examples": [PROBLEM_BASE + "invalid-input"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "description": "422: each field that is not valid (a dotted path into the body, or a parameter name)",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "current_version": {"type": "integer", "description": "412 stale-version: the version stored now"},
        "retry_after": {"type": "integer", "description": "503: seconds to wait before sending it again"},
    },
    "additionalProperties": True,
}

# status -> (the shared response's name under components/responses, its description)
COMMON_ERRORS = {
    "400": ("BadRequest", "Bad request: an unknown query parameter, or a request that cannot be read"),
    "401": ("Unauthenticated", "No valid bearer token"),
    "403": ("Forbidden", "You may see this case, but your role or scopes do not let you do this"),
    "404": ("NotFound", "No such record, or one this caller may not know exists"),
    "422": ("InvalidInput", "Some fields are not valid (`errors` names each); nothing was written"),
    "503": ("Unavailable", "Busy or briefly unavailable: nothing was written; send it again after `Retry-After`"),
}
WRITE_ERRORS = {"409": ("Conflict", "Conflicts with the record's state or one stored at the same moment")}
IF_MATCH_ERRORS = {
    "412": ("PreconditionFailed", "The record changed since you read it (`current_version`), or a weak ETag was sent"),
    "428": ("VersionRequired", "`If-Match` with the ETag you read is required"),
}
# On a response an operation declares itself: its errors have their own format (OAuth 2's token endpoint answers
# RFC 6749 `{"error", "error_description"}`), so they are not made problem details.
OWN_ERROR_FORMAT = "x-sop-error-format"
PUBLIC_PATHS = frozenset({"/", "/healthz", "/readyz", "/metrics", "/oauth/token"})
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_REPLACED_SCHEMAS = ("HTTPValidationError", "ValidationError")


def publish_conventions(
    document: dict[str, Any],
    security_schemes: Mapping[str, dict[str, Any]],
    security: Iterable[str],
    public_paths: frozenset[str] = PUBLIC_PATHS,
) -> dict[str, Any]:
    """Apply the conventions above to an OpenAPI document, in place; returns it."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = dict(security_schemes)
    components["responses"] = {
        name: {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}
        for name, description in (COMMON_ERRORS | WRITE_ERRORS | IF_MATCH_ERRORS).values()
    }
    requirement: list[dict[str, list[str]]] = [{name: []} for name in security]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            _non_nullable_path_parameters(operation)
            public = path in public_paths
            operation["security"] = [] if public else requirement
            responses = operation["responses"]
            declared = {} if public else dict(COMMON_ERRORS)
            if method in {"post", "put", "patch", "delete"} and not public:
                declared |= WRITE_ERRORS
            for parameter in _params(operation):
                if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
                    # Required (marked by sop_shared.concurrency): 412 and 428; optional: a stale one is 412.
                    required = bool(parameter.get("schema", {}).pop("x-sop-required", False))
                    if required:
                        parameter["required"] = True
                        parameter["schema"] = {"type": "string", "title": "If-Match"}
                    declared |= IF_MATCH_ERRORS if required else {"412": IF_MATCH_ERRORS["412"]}
            for status, (name, _) in declared.items():
                if status not in responses or _is_fastapi_default(responses[status]):
                    responses[status] = {"$ref": f"#/components/responses/{name}"}
            for status, response in responses.items():
                if status[:1] in {"4", "5"} and "$ref" not in response and OWN_ERROR_FORMAT not in response:
                    _as_problem(response)  # described by the operation itself: kept, as problem details
    for name in _REPLACED_SCHEMAS:
        if name in schemas and not _referenced(document, name):
            del schemas[name]
    return document


def _params(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if isinstance(p, dict)]


def _non_nullable_path_parameters(operation: dict[str, Any]) -> None:
    for parameter in _params(operation):
        schema = parameter.get("schema", {})
        if parameter.get("in") == "path" and "anyOf" in schema:
            options = [s for s in schema["anyOf"] if s.get("type") != "null"]
            if len(options) == 1:
                rest = {k: v for k, v in schema.items() if k != "anyOf"}
                parameter["schema"] = {**options[0], **rest}
            parameter["required"] = True


def _is_fastapi_default(response: dict[str, Any]) -> bool:
    schemas = [m.get("schema", {}) for m in (response.get("content") or {}).values() if isinstance(m, dict)]
    return any(schema.get("$ref", "").rsplit("/", 1)[-1] in _REPLACED_SCHEMAS for schema in schemas)


def _as_problem(response: dict[str, Any]) -> None:
    content = response.get("content") or {}
    schema = next((media.get("schema") for media in content.values() if isinstance(media, dict)), None)
    if schema is None or schema.get("$ref", "").rsplit("/", 1)[-1] in _REPLACED_SCHEMAS:
        schema = _PROBLEM_REF
    response["content"] = {PROBLEM_JSON: {"schema": schema}}


def _referenced(document: dict[str, Any], name: str) -> bool:
    target = f"#/components/schemas/{name}"

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            return node.get("$ref") == target or any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    return walk(document.get("paths", {})) or any(
        walk(schema) for key, schema in document["components"]["schemas"].items() if key != name
    )


def amend_openapi(app: FastAPI, amend: Callable[[dict[str, Any]], object]) -> None:
    """Make `app.openapi()` return its document changed by `amend` (in place, once per built document); amends
    apply in the order they are installed."""
    build: Callable[[], dict[str, Any]] = app.openapi  # FastAPI's (or an earlier amend's): builds once, then caches
    amended: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = build()
        if not amended or amended[0] is not document:
            amend(document)
            amended[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document


def install_openapi_conventions(
    app: FastAPI, security_schemes: Mapping[str, dict[str, Any]], security: Iterable[str]
) -> None:
    """Make `app.openapi()` return the document with the conventions applied (built once, then cached)."""
    names = tuple(security)
    amend_openapi(app, lambda document: publish_conventions(document, security_schemes, names))


INTERNAL_TOKEN = {
    "internalToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A short-lived EdDSA token the gateway mints for each call, for this service, scoped to "
        "the case (docs/identity.md). Services are not reached directly by clients.",
    }
}


def operation_id(route: APIRoute) -> str:
    """A route's short, stable OpenAPI operationId, `<tag>_<route name>` (`statements_create_case_statement`),
    so a generated client's functions read like the practice rather than FastAPI's `<name>_<path>_<method>`.
    Set on every app (`FastAPI(generate_unique_id_function=operation_id)`). A record route served both at its
    short form and under its case (one endpoint at `/v1/statements/{id}` and `/v1/cases/{case_id}/statements/
    {id}`: the case's id is in the path but the endpoint does not require it) is `…_in_case` under the case. Unique per
    document (a test checks it: give a route a `name=` where two would meet)."""
    tag = route.tags[0] if route.tags else ""
    words = re.sub(r"\W+", "_", f"{tag} {route.name}".strip().lower()).strip("_")
    takes = inspect.signature(route.endpoint).parameters.get("case_id")
    if "{case_id}" in route.path_format and (takes is None or takes.default is not inspect.Parameter.empty):
        words += "_in_case"
    return words
