"""Annotated dependency aliases used by the routes: runtime, principal, access and session.

The principal was authenticated by the `Authenticate` middleware; here each route's declared
scope is checked (403), then the stated purpose (400), and the session is confined to the
principal's society for every transaction it runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from asgi_correlation_id import correlation_id
from fastapi import Depends, Header, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.enums import Purpose
from service.auth.scopes import SCOPE_DESCRIPTIONS, Scope
from service.errors import Forbidden, PurposeRequired, Unauthorized
from service.principal import Access, Principal
from service.runtime import Runtime

PURPOSE_HEADER = "Kintrace-Purpose"

_scopes = {scope.value: text for scope, text in SCOPE_DESCRIPTIONS.items()}
oauth2 = OAuth2(
    flows=OAuthFlows(
        password=OAuthFlowPassword(tokenUrl="/v1/auth/token", scopes=_scopes),
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/v1/auth/token", scopes=_scopes),
    ),
    scheme_name="kintrace",
    description=(
        "Bearer access tokens (`typ` at+jwt) from `POST /v1/auth/token`: `password` for "
        "local users (with `otp` where a second factor is enrolled), `refresh_token`, and "
        "`client_credentials` with a `private_key_jwt` client assertion for partner systems. "
        "Tokens of configured external OpenID Connect issuers are accepted too."
    ),
    auto_error=False,
)


def get_runtime(request: Request) -> Runtime:
    """The runtime (engine, settings, keys) built by the lifespan."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def authenticated(request: Request) -> Principal:
    """The principal the middleware authenticated (401 if it somehow did not)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise Unauthorized("Send an access token: `Authorization: Bearer <token>`.")
    return principal


async def get_principal(
    request: Request,
    security_scopes: SecurityScopes,
    _token: Annotated[str | None, Depends(oauth2)],
) -> Principal:
    """The caller, if its roles grant every scope the route declares (else 403)."""
    principal = authenticated(request)
    missing = [scope for scope in security_scopes.scopes if scope not in principal.scopes]
    if missing:
        raise Forbidden(f"This needs the scope {', '.join(missing)}, which your roles lack.")
    return principal


async def get_access(
    principal: Annotated[Principal, Security(get_principal)],
    purpose: Annotated[
        str | None,
        Header(
            alias=PURPOSE_HEADER,
            description="Why personal data is accessed: "
            + ", ".join(p.value for p in Purpose)
            + ". Recorded in the audit trail.",
        ),
    ] = None,
) -> Access:
    """The principal with the purpose it states (400 when missing or unknown)."""
    try:
        stated = Purpose(purpose or "")
    except ValueError:
        known = ", ".join(p.value for p in Purpose)
        raise PurposeRequired(f"Send the `{PURPOSE_HEADER}` header with one of: {known}.") from None
    return Access(principal, stated, correlation_id.get())


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, confined to the caller's society: the unit of work.

    Routes commit explicitly before returning, so a failed commit is an error response, never
    a 2xx followed by a lost write. Anything not committed is rolled back here.
    """
    principal = authenticated(request)
    async with get_runtime(request).tenant_session(principal.society_id) as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadAccess = Annotated[Access, Security(get_access, scopes=[Scope.TRACING_READ])]
WriteAccess = Annotated[Access, Security(get_access, scopes=[Scope.TRACING_WRITE])]
CloseAccess = Annotated[Access, Security(get_access, scopes=[Scope.TRACING_CLOSE])]
AuditAccess = Annotated[Access, Security(get_access, scopes=[Scope.AUDIT_READ])]
ReviewAccess = Annotated[Access, Security(get_access, scopes=[Scope.REVIEW])]
CandidateReadAccess = Annotated[Access, Security(get_access, scopes=[Scope.CANDIDATES_READ])]
ProtectionAccess = Annotated[Access, Security(get_access, scopes=[Scope.PROTECTION_APPROVE])]
DataProtectionAccess = Annotated[Access, Security(get_access, scopes=[Scope.DATA_PROTECTION])]
SharingAccess = Annotated[Access, Security(get_access, scopes=[Scope.SHARING_MANAGE])]
WebhooksAccess = Annotated[Access, Security(get_access, scopes=[Scope.WEBHOOKS_MANAGE])]
AnyPrincipal = Annotated[Principal, Security(get_principal)]
