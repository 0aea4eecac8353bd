"""http: loxo's HTTP/JSON API, the door loxo's remote client and the web console use.

Everything the embedded client can do is under ``/api/v1`` (see ``/openapi.json`` or
``/docs`` of a running server, and ``docs/http-api.md``): JSON records are the records'
``to_dict()``; refs are loxo ref strings (``images@master^2``) in a ``ref`` parameter; file
contents stream both ways; ``/api/v1/events`` and ``/api/v1/logs?follow=true`` are
server-sent-event streams. Errors are ``{"error": {type, category, message}}`` with a status
by category (:mod:`.errors`).

With a token configured, every request but ``/healthz``, ``/readyz`` and the console's static
files must carry it (``Authorization: Bearer <token>``, or the ``loxo_token`` cookie for the
browser's event streams); others get 401.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

import loxo
from loxo.errors import LoxoError

from ..events import EventBus
from . import routes_files, routes_live, routes_pfs, routes_pps
from .errors import (
    error_body,
    http_error_handler,
    internal_error_handler,
    loxo_error_handler,
    validation_error_handler,
)
from .limits import BodyLimit, streamed_routes
from .metrics import Metrics
from .uploads import Uploads

if TYPE_CHECKING:
    from loxo.service import Service

    from ..scheduler import Scheduler

OPEN_PATHS = ("/healthz", "/readyz")
API_PREFIXES = ("/api/", "/metrics", "/openapi.json", "/docs", "/redoc")
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def create_app(
    service: Service,
    *,
    bus: EventBus | None = None,
    scheduler: Scheduler | None = None,
    token: str | None = None,
    console_dir: Path | None = None,
) -> FastAPI:
    app = FastAPI(
        title="loxo",
        version=loxo.__version__,
        description="Versioned data and incremental data pipelines: the HTTP/JSON API.",
    )
    app.state.service = service
    app.state.bus = bus or EventBus()
    app.state.scheduler = scheduler
    app.state.uploads = Uploads()
    app.state.metrics = Metrics(service, app.state.uploads, app.state.bus)
    app.add_exception_handler(LoxoError, loxo_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(Exception, internal_error_handler)
    routers = [m.router for m in (routes_pfs, routes_files, routes_pps, routes_live)]
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def wake_scheduler(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.method not in READ_METHODS and scheduler is not None:
            scheduler.wake()
        return response

    app.middleware("http")(app.state.metrics.middleware)
    app.add_middleware(BodyLimit, streamed=streamed_routes(routers))
    if token:
        app.middleware("http")(_require_token(token))
    if console_dir is not None and console_dir.is_dir():
        app.mount("/", StaticFiles(directory=console_dir, html=True), name="console")
    return app


def _require_token(
    token: str,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    expected = token.encode()

    async def check(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        guarded = path.startswith(API_PREFIXES)
        if guarded and path not in OPEN_PATHS:
            auth = request.headers.get("authorization", "")
            given = auth[7:] if auth.lower().startswith("bearer ") else ""
            given = given or request.cookies.get("loxo_token", "")
            if not hmac.compare_digest(given.encode(), expected):
                return JSONResponse(
                    error_body(
                        "Unauthenticated",
                        "Unauthenticated",
                        "this loxo server needs a token: set LOXO_TOKEN (or `loxo config set "
                        "token`) to the content of the server's --auth-token-file",
                    ),
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return await call_next(request)

    return check


__all__ = ["create_app"]
