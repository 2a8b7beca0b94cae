"""RFC 9457 problem+json errors: domain errors are values with names, mapped to HTTP once, here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://sop.arkansas.example/problems/"


class Problem(Exception):
    """A failure the caller should see. Subclasses name the situation; routers just raise them."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class NotFound(Problem):
    """Also used for 'not allowed to know': a denied record and a missing one look the same."""

    status, slug, title = 404, "not-found", "Not found"


class Unauthenticated(Problem):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class StaleVersion(Problem):
    status, slug, title = 412, "stale-version", "The record changed since you read it"


class WeakEtagRefused(Problem):
    """If-Match compares entity tags strongly (RFC 9110 §13.1.1): a weak one never matches."""

    status, slug, title = 412, "weak-etag", "If-Match needs the strong ETag you read"


class VersionRequired(Problem):
    status, slug, title = 428, "version-required", "If-Match with the version you read is required"


class BadQuery(Problem):
    status, slug, title = 400, "bad-query", "Bad query"


class InvalidInput(Problem):
    """422 with an `errors` list of {field, message}."""

    status, slug, title = 422, "invalid-input", "Some fields are not valid"

    def __init__(self, errors: list[dict[str, str]], detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
        self.errors = errors

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        return cls([{"field": field, "message": message}])


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", "A service this request needs is unavailable"


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = str(request.url.path) if request is not None else None
    body = problem.body(instance)
    request_id = getattr(request.state, "request_id", None) if request is not None else None
    if request_id:
        body["request_id"] = request_id
    headers = {}
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in problem.extra:
        headers["Retry-After"] = str(problem.extra["retry_after"])
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
        return "body"  # malformed JSON: the number is a character offset, not a field
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    return [
        {"field": _field_path(tuple(err.get("loc", ()))), "message": err.get("msg", "invalid")} for err in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(InvalidInput(validation_errors(exc)), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = Problem(str(exc.detail))
        problem.status = exc.status_code
        problem.title = str(exc.detail)
        problem.slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        response = problem_response(problem, request)
        for name, value in (exc.headers or {}).items():  # e.g. `Allow` on a 405 (RFC 9110 §15.5.6)
            response.headers[name] = value
        return response

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness race (two creates of the same thing at once): the loser is told, nothing is merged.
        return problem_response(Conflict("this record conflicts with one stored at the same moment; retry"), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Internal detail is never shown; the request id lets staff find it in the logs.
        import structlog

        from sop_shared.observability import route_template

        # The route's template, never the path: paths carry case ids and SACWIS numbers (as the request line).
        # The request id from the request's state: this handler runs outside the request context's middleware,
        # whose log context is gone by then (the line carried no request id for support to find it by).
        structlog.get_logger("sop").exception(
            "unhandled_error",
            route=route_template(request.scope),
            request_id=getattr(request.state, "request_id", None),
        )
        problem = Problem("An unexpected error occurred; quote the request id to support.")
        problem.status, problem.slug, problem.title = 500, "internal-error", "Internal error"
        return problem_response(problem, request)

    # Handled here rather than in `_unexpected`, whose middleware re-raises into the server log as a crash.
    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        from sop_shared.db import database_problem

        busy = database_problem(exc)  # a busy database is a 503 to retry, not an internal error
        if busy is None:
            return await _unexpected(request, exc)
        import structlog

        from sop_shared.db import busy_cause
        from sop_shared.observability import route_template

        # Which kind of busy (the pool, a statement timeout, a lock, a lost connection): what an operator (or a
        # failed test's log) needs to tell a pool too small from a statement waiting on a lock. The request id
        # comes from the log context; the route's template, not the path, which carries ids.
        structlog.get_logger("sop").warning("database_busy", route=route_template(request.scope), **busy_cause(exc))
        return problem_response(busy, request)
