"""The size limit of request bodies read whole.

FastAPI reads a JSON body into memory before the route runs, so without a limit one
request could make the server hold gigabytes. Every route but the streaming ones (those
described as raw bodies, ``RAW_BODY``: file contents, tar streams) refuses a body over
:data:`MAX_JSON_BODY`: at once when its ``Content-Length`` says so (a 413 before any byte
is read), else as soon as the bytes received pass the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import BodyTooLarge, error_response
from .streams import RAW_BODY

MAX_JSON_BODY = 16 << 20


def streamed_routes(routers: Iterable[APIRouter]) -> Callable[[Scope], bool]:
    """Whether a request goes to a route of ``routers`` whose body streams (declared with
    ``openapi_extra=RAW_BODY``)."""
    routes = (route for router in routers for route in router.routes)
    streamed = [r for r in routes if isinstance(r, APIRoute) and r.openapi_extra is RAW_BODY]
    return lambda scope: any(r.matches(scope)[0] is Match.FULL for r in streamed)


class BodyLimit:
    """ASGI middleware: bodies of non-streaming routes are at most ``limit`` bytes."""

    def __init__(
        self, app: ASGIApp, streamed: Callable[[Scope], bool], limit: int = MAX_JSON_BODY
    ) -> None:
        self.app, self.streamed, self.limit = app, streamed, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.streamed(scope):
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            await error_response(BodyTooLarge(self.limit))(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)
