"""`POST /v1/auth/token`, `GET /v1/auth/me` and `GET /.well-known/jwks.json`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from schemas.auth import TokenResponse, WhoAmI
from service.deps import AnyPrincipal, RuntimeDep
from service.errors import OAuthError, TooManyRequests, problem_responses

router = APIRouter(prefix="/auth", tags=["authentication"])
well_known = APIRouter(tags=["authentication"])

Field = Annotated[str | None, Form()]


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Get an access token",
    description=(
        "OAuth 2.0 token endpoint (form-encoded). `grant_type=password` with `username`, "
        "`password` and, when the account has a second factor, `otp` (a 6-digit TOTP code); "
        "`grant_type=refresh_token` with `refresh_token` (single-use: the answer carries the "
        "next one); `grant_type=client_credentials` with `client_assertion_type="
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and a `client_assertion` "
        "signed with a key the client registered (`iss` = `sub` = its client id, `aud` = this "
        "endpoint's URL, `exp` within 5 minutes, a unique `jti`). Errors are problem documents "
        "that also carry the RFC 6749 `error` and `error_description` members."
    ),
    responses=problem_responses(OAuthError, TooManyRequests),
)
async def token(
    request: Request,
    runtime: RuntimeDep,
    grant_type: Field = None,
    username: Field = None,
    password: Field = None,
    otp: Field = None,
    refresh_token: Field = None,
    client_assertion_type: Field = None,
    client_assertion: Field = None,
    client_id: Field = None,
    scope: Field = None,
) -> JSONResponse:
    issuer = runtime.issuer
    if grant_type == "password":
        if not username or password is None:
            raise OAuthError("invalid_request", "Send `username` and `password`.")
        address = request.client.host if request.client else "unknown"
        issued = await issuer.password_grant(username, password, otp, address)
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise OAuthError("invalid_request", "Send `refresh_token`.")
        issued = await issuer.refresh_grant(refresh_token)
    elif grant_type == "client_credentials":
        issued = await issuer.client_credentials_grant(
            client_assertion_type, client_assertion, client_id
        )
    elif grant_type is None:
        raise OAuthError("invalid_request", "Send `grant_type`.")
    else:
        raise OAuthError(
            "unsupported_grant_type",
            "Use `password`, `refresh_token` or `client_credentials`.",
        )
    return JSONResponse(issued.body(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get(
    "/me",
    response_model=WhoAmI,
    summary="Who am I",
    description="The authenticated caller: subject, society, roles and the scopes they grant.",
    responses=problem_responses(validated=False),
)
async def me(principal: AnyPrincipal) -> WhoAmI:
    return WhoAmI(
        subject=principal.subject,
        kind=principal.kind.value,
        society_id=principal.society_id,
        society_code=principal.society_code,
        roles=sorted(principal.roles),
        scopes=sorted(principal.scopes),
    )


@well_known.get(
    "/.well-known/jwks.json",
    summary="Token signing keys",
    description="Public keys (JWK Set) of the built-in issuer, including recently rotated ones.",
    responses=problem_responses(validated=False),
)
async def jwks(runtime: RuntimeDep) -> dict[str, Any]:
    return (await runtime.keys.keyring()).jwks()
