"""Annotated dependency aliases used by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from service.principal import Principal
from service.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The runtime (engine, settings, acting society) built by the lifespan."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: the unit of work.

    Routes commit explicitly before returning, so a failed commit is an error response, never
    a 2xx followed by a lost write. Anything not committed is rolled back here.
    """
    async with get_runtime(request).sessions() as session:
        yield session


async def get_principal(request: Request) -> Principal:
    """The acting principal (the local operator until authentication lands)."""
    return get_runtime(request).local_principal


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
