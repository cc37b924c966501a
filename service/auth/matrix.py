"""The role x operation matrix, read off the application's routes (`python -m
service.auth.matrix` prints it; the README carries it and a test keeps the two equal)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from schemas.enums import StaffRole
from service.auth.scopes import ROLE_SCOPES

PUBLIC = "public"
ANY_PRINCIPAL = "any signed-in caller"


def declared_scopes(dependant: Dependant) -> set[str]:
    """Every scope a route's dependencies declare (`Security(..., scopes=[...])`)."""
    scopes = set(dependant.own_oauth_scopes or [])
    for dependency in dependant.dependencies:
        scopes |= declared_scopes(dependency)
    return scopes


def api_operations(app: FastAPI) -> list[tuple[str, str, Dependant]]:
    """(method, full path, dependant) of every API operation of the app, routers included."""
    operations = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or context.path is None:
            continue
        for method in sorted((context.methods or set()) - {"HEAD"}):
            operations.append((method, context.path, context.original_route.dependant))
    return operations


def route_requirements(app: FastAPI) -> list[tuple[str, str, frozenset[str] | None]]:
    """(method, path, scopes) of every `/v1` operation; None for the public token endpoint."""
    rows = []
    for method, path, dependant in api_operations(app):
        if not path.startswith("/v1"):
            continue
        public = path == "/v1/auth/token"
        rows.append((method, path, None if public else frozenset(declared_scopes(dependant))))
    return rows


def allowed(role: StaffRole, scopes: frozenset[str] | None) -> bool:
    """Whether a holder of `role` alone may call an operation needing `scopes`."""
    return scopes is None or scopes <= {scope.value for scope in ROLE_SCOPES[role]}


def markdown(app: FastAPI) -> str:
    """The matrix as a Markdown table (rows: operations; columns: roles)."""
    roles = list(StaffRole)
    header = "| operation | scope | " + " | ".join(r.value.replace("_", " ") for r in roles) + " |"
    lines = [header, "|---|---|" + "---|" * len(roles)]
    for method, path, scopes in route_requirements(app):
        label = PUBLIC if scopes is None else (", ".join(sorted(scopes)) or ANY_PRINCIPAL)
        cells = " | ".join("✓" if allowed(role, scopes) else "" for role in roles)
        lines.append(f"| `{method} {path}` | {label} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from service.app import create_app
    from service.settings import Settings

    print(markdown(create_app(Settings(database_url="postgresql://unused/unused"))))
