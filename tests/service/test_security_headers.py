"""Security headers on every response, per path, never overriding what a route set itself."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI, Response

from service.security_headers import API_CSP, DOCS_CSP, SecurityHeaders, with_defaults

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
}


def build_app() -> FastAPI:
    app = FastAPI(docs_url="/docs", redoc_url=None)

    @app.get("/v1/persons")
    async def persons() -> list[str]:
        return ["Amina"]

    @app.get("/v1/exports/latest")
    async def export(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "private, max-age=60"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return {"export": "ready"}

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, list[str]]:
        return {"keys": []}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


@pytest.fixture
async def client():
    app = SecurityHeaders(build_app(), docs_paths=DOCS_PATHS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.parametrize(
    ("path", "status", "csp", "cache_control"),
    [
        ("/v1/persons", 200, API_CSP, "no-store"),
        ("/v1/no-such-thing", 404, API_CSP, "no-store"),
        ("/.well-known/jwks.json", 200, API_CSP, "public, max-age=300"),
        ("/health", 200, API_CSP, None),
        ("/openapi.json", 200, API_CSP, None),
        ("/docs", 200, DOCS_CSP, None),
        ("/docs/oauth2-redirect", 200, DOCS_CSP, None),
        ("/docs/elsewhere", 404, API_CSP, None),
        ("/v1", 404, API_CSP, None),
    ],
)
async def test_headers_per_path(client, path, status, csp, cache_control):
    response = await client.get(path)
    assert response.status_code == status
    for name, value in ALWAYS.items():
        assert response.headers.get_list(name) == [value], name
    assert response.headers.get_list("content-security-policy") == [csp]
    assert response.headers.get("cache-control") == cache_control
    assert "pragma" not in response.headers


async def test_headers_the_route_set_are_kept(client):
    response = await client.get("/v1/exports/latest")
    assert response.status_code == 200
    assert response.headers.get_list("cache-control") == ["private, max-age=60"]
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == API_CSP


async def test_the_docs_policy_allows_every_origin_the_docs_page_loads(client):
    page = (await client.get("/docs")).text
    origins = {
        "{0.scheme}://{0.netloc}".format(urlsplit(url))
        for url in re.findall(r"""(?:src|href)=["']?(https://[^"'\s>]+)""", page)
    }
    assert origins
    for origin in origins:
        assert origin in DOCS_CSP


def test_defaults_fill_only_missing_names_whatever_their_case():
    existing = [(b"Cache-Control", b"private"), (b"content-type", b"text/plain")]
    defaults = ((b"cache-control", b"no-store"), (b"x-frame-options", b"DENY"))
    assert with_defaults(existing, defaults) == [*existing, (b"x-frame-options", b"DENY")]


async def test_non_http_scopes_pass_through_untouched():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    async def never(*_):
        raise AssertionError("not expected")

    await SecurityHeaders(app)({"type": "lifespan"}, never, never)
    assert seen == ["lifespan"]
