"""HTTP hardening: the documented role matrix, docs and CORS switches, security headers, rate
limits, page-size caps, and python-jose confined to the one verification module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from service.app import create_app
from service.auth.matrix import markdown
from service.runtime import build_runtime
from service.settings import Settings
from tests.conftest import app_for, http_client

ROOT = Path(__file__).resolve().parents[2]


def test_readme_carries_the_current_role_matrix():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- role-matrix:start -->\n", "\n<!-- role-matrix:end -->"
    documented = readme.split(start, 1)[1].split(end, 1)[0]
    expected = markdown(create_app(Settings(database_url="postgresql://unused/unused")))
    assert documented == expected, "run `uv run python -m service.auth.matrix` into the README"


def test_only_the_verification_module_imports_jose():
    importers = set()
    for path in sorted((ROOT / "service").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "jose" or name.startswith("jose.") for name in names):
                importers.add(str(path.relative_to(ROOT)))
    assert importers == {"service/auth/jwt.py"}


@pytest.mark.parametrize(
    ("env", "docs_status"), [("production", 404), ("development", 200)], ids=["prod", "dev"]
)
async def test_interactive_docs_only_in_development(settings, runtime, env, docs_status):
    app = app_for(settings.model_copy(update={"env": env}), runtime)
    async with app.router.lifespan_context(app), http_client(app) as client:
        assert (await client.get("/docs")).status_code == docs_status
        assert (await client.get("/openapi.json")).status_code == 200


async def test_cors_is_closed_unless_configured(bare_client, settings, runtime):
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    closed = await bare_client.options("/v1/tracing-requests", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    allowed = settings.model_copy(update={"cors_origins": ["https://tracing.example"]})
    app = app_for(allowed, runtime)
    async with app.router.lifespan_context(app), http_client(app) as client:
        foreign = await client.options("/v1/tracing-requests", headers=preflight)
        assert "access-control-allow-origin" not in foreign.headers
        own = await client.options(
            "/v1/tracing-requests", headers={**preflight, "Origin": "https://tracing.example"}
        )
        assert own.headers["access-control-allow-origin"] == "https://tracing.example"


async def test_security_headers_on_personal_data_and_errors(client, bare_client):
    for response in (
        await client.get("/v1/tracing-requests"),
        await bare_client.get("/v1/tracing-requests"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" in response.headers


async def test_rate_limit_is_per_principal_after_authentication(settings, runtime, staff):
    limited = settings.model_copy(update={"rate_limit_per_second": 0.01, "rate_limit_burst": 3})
    app = app_for(limited, await build_runtime(limited, runtime.engine, runtime.sessions))
    first, second = await staff(), await staff()
    async with app.router.lifespan_context(app), http_client(app) as client:
        statuses = [
            (await client.get("/v1/tracing-requests", headers=first.headers())).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        refused = await client.get("/v1/tracing-requests", headers=first.headers())
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        other = await client.get("/v1/tracing-requests", headers=second.headers())
        assert other.status_code == 200
        anonymous = await client.get("/v1/tracing-requests")
        assert anonymous.status_code == 401


@pytest.mark.parametrize("path", ["/v1/tracing-requests", "/v1/registrations"])
async def test_page_size_is_capped(client, path):
    assert (await client.get(path, params={"limit": 200})).status_code == 200
    refused = await client.get(path, params={"limit": 201})
    assert refused.status_code == 422
    assert refused.json()["invalid-params"][0]["name"] == "limit"
