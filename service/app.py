"""The FastAPI application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CollectorRegistry

from service import ops
from service.audit.routes import router as audit_router
from service.audit.service import sealer
from service.auth.authenticate import Authenticate
from service.auth.routes import router as auth_router
from service.auth.routes import well_known as well_known_router
from service.candidates.events import router as events_router
from service.candidates.routes import router as candidates_router
from service.consent.routes import router as consent_router
from service.disclosure.routes import router as disclosure_router
from service.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from service.exchange.routes import router as exchange_router
from service.middleware import BodySizeLimit, ProblemOnCrash
from service.observability import PoolCollector, install_metrics
from service.persons.routes import router as persons_router
from service.rights.routes import router as rights_router
from service.runtime import Runtime, open_runtime
from service.search.routes import router as search_router
from service.security_headers import SecurityHeaders
from service.settings import Settings, get_settings
from service.sharing.routes import router as sharing_router
from service.tracing.routes import router as tracing_router
from service.webhooks.docs import document_webhooks
from service.webhooks.routes import router as webhooks_router

API_DESCRIPTION = """
Kintrace records tracing requests of the Restoring Family Links network (who is searching,
whom they seek, names in every script, uncertain dates and places) and returns them.

* Resources live under `/v1`; operational endpoints (`/healthz`, `/readyz`, `/metrics`,
  `/.well-known/jwks.json`) at the root.
* Every `/v1` call needs a bearer access token from `POST /v1/auth/token` (or from a configured
  external OpenID Connect issuer); without one it is 401, before anything else is checked. The
  society always comes from the token; another society's record answers 404 like a missing one.
* Calls that read or write personal data state why in `Kintrace-Purpose` (`tracing`, `review`,
  `subject-access`, `audit`, `data-protection`, `exchange`); each is recorded in the audit trail.
* Every error is an RFC 9457 `application/problem+json` document with a stable `type`
  (`urn:kintrace:problem:<slug>`).
* Updates need `If-Match` with the ETag of the version read (412 when stale, 428 when missing).
* POST accepts an `Idempotency-Key` header: a retry with the same key and body returns the first
  result.
"""

RuntimeFactory = Callable[[Settings], contextlib.AbstractAsyncContextManager[Runtime]]


def create_app(
    settings: Settings | None = None, *, runtime_factory: RuntimeFactory | None = None
) -> FastAPI:
    """Build the application; the runtime (database, engine) is opened by the lifespan.

    `runtime_factory` lets tests supply a runtime bound to their own database.
    """
    settings = settings or get_settings()
    open_runtime_for = runtime_factory or open_runtime
    registry = CollectorRegistry(auto_describe=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime_for(settings) as runtime:
            app.state.runtime = runtime
            collector = PoolCollector(runtime.engine)
            registry.register(collector)
            try:
                async with sealer(runtime.sessions, settings.audit_seal_interval_seconds):
                    yield
            finally:
                registry.unregister(collector)

    app = FastAPI(
        title="Kintrace",
        version="0.1.0",
        summary="Restoring Family Links: tracing requests and transliteration-aware matching.",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs" if settings.docs_enabled else None,
        swagger_ui_oauth2_redirect_url="/docs/oauth2-redirect" if settings.docs_enabled else None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(ops.router)
    document_webhooks(app)
    app.include_router(well_known_router)
    app.include_router(auth_router, prefix="/v1")
    app.include_router(tracing_router, prefix="/v1")
    app.include_router(persons_router, prefix="/v1")
    app.include_router(consent_router, prefix="/v1")
    app.include_router(disclosure_router, prefix="/v1")
    app.include_router(rights_router, prefix="/v1")
    app.include_router(candidates_router, prefix="/v1")
    app.include_router(events_router, prefix="/v1")
    app.include_router(search_router, prefix="/v1")
    app.include_router(sharing_router, prefix="/v1")
    app.include_router(exchange_router, prefix="/v1")
    app.include_router(webhooks_router, prefix="/v1")
    app.include_router(audit_router, prefix="/v1")
    install_metrics(app, registry)
    _serve_problems_as_problem_json(app)
    # Outermost last: request id, security headers, CORS, crash guard, authentication (before
    # any body is read), body size limit, then the routes.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/imports": settings.import_max_bytes},
    )
    app.add_middleware(Authenticate)
    app.add_middleware(ProblemOnCrash)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "Kintrace-Purpose",
                "X-Request-ID",
            ],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
        )
    app.add_middleware(SecurityHeaders, docs_paths=frozenset({"/docs", "/docs/oauth2-redirect"}))
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name="X-Request-ID",
        update_request_header=True,
        validator=_valid_request_id,
    )
    return app


def _serve_problems_as_problem_json(app: FastAPI) -> None:
    """Document error bodies under `application/problem+json`, the media type they are sent as.

    FastAPI files a response model under `application/json`; we move it, once, when the
    schema is first generated.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    for code, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if code[0] in "45" and PROBLEM_MEDIA_TYPE in content:
                            content[PROBLEM_MEDIA_TYPE] = content.pop("application/json", {})
                    _document_security_problems(operation)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_SECURITY_PROBLEMS = {
    "401": "Authentication required: no, bad or expired bearer token",
    "403": "Not allowed for your roles",
    "429": "Too many requests (see Retry-After)",
}


def _document_security_problems(operation: dict[str, Any]) -> None:
    """Every secured operation can answer 401, 403 and 429 (and 400 for a missing purpose)."""
    if not operation.get("security"):
        return
    problems = dict(_SECURITY_PROBLEMS)
    if any(p.get("name") == "Kintrace-Purpose" for p in operation.get("parameters", [])):
        problems["400"] = "State the purpose of this access (`Kintrace-Purpose`)"
    schema = {"$ref": "#/components/schemas/Problem"}
    for code, description in problems.items():
        entry = operation["responses"].setdefault(
            code, {"description": "", "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}}}
        )
        if description not in entry["description"]:
            entry["description"] = "; ".join(filter(None, [entry["description"], description]))


def _valid_request_id(value: str) -> bool:
    """Accept a caller's request id only if it is short and printable (it goes into logs)."""
    return 0 < len(value) <= 128 and value.isascii() and value.isprintable()


def openapi_document() -> dict[str, Any]:
    """The OpenAPI schema, independent of settings and of any database."""
    return create_app(Settings(database_url="postgresql://unused/unused")).openapi()
