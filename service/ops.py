"""Operational endpoints at the root, unauthenticated in every mode."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel

from service.db import migrate
from service.deps import RuntimeDep
from service.errors import ServiceUnavailable, problem_responses

router = APIRouter(tags=["operations"])

READINESS_TIMEOUT_SECONDS = 3.0


class Health(BaseModel):
    """The process is up."""

    status: str = "ok"


class Readiness(BaseModel):
    """The service can serve requests: database reachable, schema at the code's revision."""

    status: str = "ready"
    database_revision: str


@router.get(
    "/healthz",
    summary="Liveness",
    description="200 while the process runs; touches nothing else.",
    responses=problem_responses(validated=False),
)
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    summary="Readiness",
    description=(
        "200 when the database answers and its migrations are at the revision this code "
        "expects; otherwise 503 problem+json saying which."
    ),
    responses=problem_responses(ServiceUnavailable, validated=False),
)
async def readyz(runtime: RuntimeDep) -> Readiness:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with runtime.sessions() as session:
                revision = await migrate.current_revision(session)
    except Exception as err:
        raise ServiceUnavailable(f"database unreachable: {type(err).__name__}") from err
    head = migrate.head_revision()
    if revision != head:
        raise ServiceUnavailable(f"database at migration {revision}, code expects {head}")
    return Readiness(database_revision=revision or "")
