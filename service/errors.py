"""The one error type of the service and its RFC 9457 rendering.

Exception tree (every class renders as `application/problem+json` with its own stable `type`):

    KintraceError                 500 internal            anything unexpected we raise ourselves
    ├── BadRequest                400 bad-request         malformed request (e.g. a bad cursor)
    │   └── PurposeRequired       400 purpose-required    no or unknown `Kintrace-Purpose`
    ├── OAuthError                400/401 oauth-<error>   token endpoint (RFC 6749 `error` too)
    ├── Unauthorized              401 unauthorized        no, bad or expired bearer token
    ├── Forbidden                 403 forbidden           the caller's roles do not allow it
    ├── NotFound                  404 not-found           no such resource for this society
    ├── Conflict                  409 conflict            state does not allow the operation
    │   └── IdempotencyInFlight   409 idempotency-in-flight  a twin request is still running
    ├── PreconditionFailed        412 precondition-failed    If-Match does not match (stale)
    ├── PayloadTooLarge           413 payload-too-large
    ├── UnprocessableContent      422 validation-error    payload fails validation
    │   └── IdempotencyKeyReused  422 idempotency-key-reused  same key, different body
    ├── PreconditionRequired      428 precondition-required  update without If-Match
    ├── TooManyRequests           429 rate-limited        rate limit or login throttle hit
    └── ServiceUnavailable        503 unavailable         database down, migrations pending

Framework errors (request validation, unknown routes, bad methods) and any other exception are
mapped onto the same shapes by `install_error_handlers`; any other exception becomes a 500
problem in `service.middleware.ProblemOnCrash`. Stack traces are logged, never sent.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.problem import PROBLEM_TYPE_PREFIX, InvalidParam, Problem

PROBLEM_MEDIA_TYPE = "application/problem+json"

log = structlog.get_logger("kintrace.errors")


class KintraceError(Exception):
    """Base of every error the service raises on purpose; carries its HTTP status."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        invalid_params: list[InvalidParam] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.invalid_params = invalid_params
        self.headers = headers or {}

    def to_problem(self, request: Request) -> Problem:
        """The problem document for this error on this request."""
        return make_problem(
            self.status, self.slug, self.title, self.detail, request, self.invalid_params
        )


class BadRequest(KintraceError):
    status, slug, title = 400, "bad-request", "Bad request"


class PurposeRequired(BadRequest):
    slug, title = "purpose-required", "State the purpose of this access"


class Unauthorized(KintraceError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token", realm="kintrace"'},
        )


class Forbidden(KintraceError):
    status, slug, title = 403, "forbidden", "Not allowed for your roles"


class TooManyRequests(KintraceError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str | None, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class OAuthError(KintraceError):
    """A token endpoint error: a problem document that also carries RFC 6749 `error`."""

    status, slug, title = 400, "oauth-error", "Token request refused"

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="kintrace"'
        super().__init__(description, headers=headers)
        self.error = error
        self.status = status  # type: ignore[misc]

    def to_problem(self, request: Request) -> Problem:
        """The problem with the OAuth members (`error`, `error_description`) added."""
        problem = make_problem(
            self.status, f"oauth-{self.error.replace('_', '-')}", self.title, self.detail, request
        )
        extra = {"error": self.error, "error_description": self.detail}
        return problem.model_copy(update=extra)


class NotFound(KintraceError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(KintraceError):
    status, slug, title = 409, "conflict", "Conflict"


class IdempotencyInFlight(Conflict):
    slug, title = "idempotency-in-flight", "A request with this Idempotency-Key is in progress"


class PreconditionFailed(KintraceError):
    status, slug, title = 412, "precondition-failed", "The resource has changed"


class PayloadTooLarge(KintraceError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnprocessableContent(KintraceError):
    status, slug, title = 422, "validation-error", "The request is not valid"


def invalid_fields(reason: str, *names: str) -> UnprocessableContent:
    """A 422 naming the offending body fields in `invalid-params`."""
    params = [InvalidParam(name=name, location="body", reason=reason) for name in names]
    return UnprocessableContent(reason, invalid_params=params)


class IdempotencyKeyReused(UnprocessableContent):
    slug, title = "idempotency-key-reused", "Idempotency-Key reused with a different request"


class PreconditionRequired(KintraceError):
    status, slug, title = 428, "precondition-required", "If-Match header required"


class ServiceUnavailable(KintraceError):
    status, slug, title = 503, "unavailable", "Service unavailable"


_FRAMEWORK_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def make_problem(
    status: int,
    slug: str,
    title: str,
    detail: str | None,
    request: Request | None,
    invalid_params: list[InvalidParam] | None = None,
) -> Problem:
    """Build a problem document, stamping it with the request id and path."""
    return Problem.model_validate(
        {
            "type": PROBLEM_TYPE_PREFIX + slug,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": request.url.path if request is not None else None,
            "request_id": correlation_id.get(),
            "invalid-params": invalid_params,
        }
    )


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """Render a problem as `application/problem+json`."""
    return JSONResponse(
        problem.model_dump(mode="json", by_alias=True, exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _location(loc: tuple[Any, ...]) -> tuple[str, str]:
    """Split a pydantic error location into (where, dotted field path)."""
    if loc and loc[0] in {"body", "query", "path", "header", "cookie"}:
        where, rest = str(loc[0]), loc[1:]
    else:
        where, rest = "body", loc
    return where, ".".join(str(part) for part in rest) or where


def invalid_params_from(errors: Any) -> list[InvalidParam]:
    """Turn pydantic/FastAPI validation errors into the problem's `invalid-params` list."""
    params = []
    for error in errors:
        where, name = _location(tuple(error.get("loc", ())))
        reason = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            reason = "body is not valid JSON: " + str(error.get("ctx", {}).get("error", ""))
        params.append(InvalidParam(name=name, location=where, reason=reason))
    return params


async def _kintrace_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KintraceError)
    if exc.status >= 500:
        log.error("request failed", error=type(exc).__name__, detail=exc.detail)
    return problem_response(exc.to_problem(request), exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    params = invalid_params_from(exc.errors())
    malformed = any(p.reason.startswith("body is not valid JSON") for p in params)
    if malformed:
        problem = make_problem(400, "malformed-json", "Malformed JSON", params[0].reason, request)
        return problem_response(problem)
    detail = f"{len(params)} field(s) failed validation"
    return problem_response(UnprocessableContent(detail, invalid_params=params).to_problem(request))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    slug = _FRAMEWORK_SLUGS.get(status, "http-error")
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem_response(
        make_problem(status, slug, title, detail, request), dict(exc.headers or {})
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error, ours or the framework's, through the problem renderer."""
    app.add_exception_handler(KintraceError, _kintrace_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def problem_responses(
    *errors: type[KintraceError], validated: bool = True
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problems a route can return.

    Every route can fail with 500; routes that take input (`validated`) also with 422.
    """
    documented: dict[int | str, dict[str, Any]] = {}
    always = (UnprocessableContent, KintraceError) if validated else (KintraceError,)
    for error in (*errors, *always):
        entry = documented.setdefault(
            error.status,
            {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": ""},
        )
        titles = [t for t in entry["description"].split("; ") if t]
        if error.title not in titles:
            titles.append(error.title)
        entry["description"] = "; ".join(titles)
    return documented
