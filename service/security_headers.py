"""ASGI middleware adding browser security headers to every HTTP response.

The service is a JSON API, so the default policy forbids everything a browser could do with a
response (run it, frame it, embed it cross-origin, cache it); only the Swagger UI pages, which
load a bundle from a CDN and run inline code, get a Content-Security-Policy that lets them work.
A header the application already set is never overwritten: a route that knows better wins.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = tuple[tuple[bytes, bytes], ...]

API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'"
)
JWKS_PATH = "/.well-known/jwks.json"
PERSONAL_DATA_PREFIX = "/v1/"

_ALWAYS: Headers = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
)


def security_headers_for(path: str, docs_paths: frozenset[str]) -> Headers:
    """The headers a response on `path` should carry unless the application set them itself.

    Personal data lives under `/v1/` and must not sit in any cache; the signing keys are public
    and change rarely, so clients and proxies may keep them for a few minutes.
    """
    csp = DOCS_CSP if path in docs_paths else API_CSP
    headers = (*_ALWAYS, (b"content-security-policy", csp.encode("latin-1")))
    if path.startswith(PERSONAL_DATA_PREFIX):
        return (*headers, (b"cache-control", b"no-store"))
    if path == JWKS_PATH:
        return (*headers, (b"cache-control", b"public, max-age=300"))
    return headers


def with_defaults(
    existing: list[tuple[bytes, bytes]], defaults: Headers
) -> list[tuple[bytes, bytes]]:
    """`existing` plus every default whose name it does not already carry (names are caseless)."""
    present = {name.lower() for name, _ in existing}
    return [*existing, *((name, value) for name, value in defaults if name not in present)]


class SecurityHeaders:
    """Add the security headers of `security_headers_for` to every HTTP response.

    `docs_paths` are the exact paths of the interactive documentation pages (e.g. `/docs` and
    `/docs/oauth2-redirect`), which get the more permissive Content-Security-Policy.
    """

    def __init__(self, app: ASGIApp, *, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = security_headers_for(scope["path"], self.docs_paths)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_defaults(list(message.get("headers", ())), defaults)
            await send(message)

        await self.app(scope, receive, send_with_headers)
