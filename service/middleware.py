"""ASGI middleware: request body limit, and a last-resort problem response."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import KintraceError, PayloadTooLarge, problem_response

log = structlog.get_logger("kintrace.http")


class BodySizeLimit:
    """Refuse bodies over `max_bytes` with 413, whether or not Content-Length is declared.

    A declared length is checked before reading; a chunked body is counted as it streams, so a
    client cannot get around the limit by omitting the header. Past the limit the application
    is told the client went away, and whatever it answers to that is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    def limit_for(self, path: str) -> int:
        """The limit of a path: a larger one for the paths given (bulk imports), else the
        default."""
        return self.larger.get(path, self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False
        too_large = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope.get("path", ""))
        error = PayloadTooLarge(f"the request body exceeds {limit} bytes")
        response = problem_response(error.to_problem(Request(scope)), {"Connection": "close"})
        await response(scope, receive, send)


class ProblemOnCrash:
    """Turn any unhandled exception into a 500 problem document, inside the request-id scope.

    Starlette's own last-resort handler runs outside the other middleware, where the request id
    is gone; this one keeps it, and never lets a stack trace reach the client.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.exception("unhandled error", path=scope.get("path"), error=type(exc).__name__)
            if started:
                raise
            response = problem_response(KintraceError().to_problem(Request(scope)))
            await response(scope, receive, send)
