"""Logs (and following them), live events, health, readiness, metrics, version and store
maintenance."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import loxo
from loxo.pfs.model import FsckReport, GCReport
from loxo.pps.model import LogRecord

from .common import Svc, ok

router = APIRouter(tags=["live"])
KEEPALIVE = 15.0  # seconds between SSE comments on a quiet stream
LOG_POLL = 0.25  # seconds between reads of new log lines while following


def sse(kind: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n"


@router.get("/api/v1/version")
def version() -> JSONResponse:
    return ok({"version": loxo.__version__})


@router.get("/healthz", include_in_schema=True)
def healthz() -> JSONResponse:
    """The process is up."""
    return ok({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request, svc: Svc) -> JSONResponse:
    """The metadata DB answers and the scheduler runs (503 otherwise)."""
    scheduler = request.app.state.scheduler
    svc.db.one("SELECT 1")
    if scheduler is not None and not scheduler.alive:
        return ok({"status": "scheduler stopped"}, 503)
    return ok({"status": "ready"})


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    """Prometheus metrics."""
    body = generate_latest(request.app.state.metrics.registry)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/logs", response_model=list[LogRecord])
def get_logs(
    svc: Svc,
    project: str = "default",
    pipeline: str | None = None,
    job_id: str | None = None,
    datum_id: str | None = None,
    inputs: list[str] | None = Query(None),
    tail: int = 0,
    since_id: int = 0,
    follow: bool = False,
    last_event_id: int | None = Header(None),
) -> Any:
    """Log lines, oldest first, each with its row ``id`` (``since_id`` continues after
    one). With ``follow``, a server-sent-event stream: one ``log``
    event per line (``id`` = the line's row ID), existing lines first, then new ones; a
    reconnecting browser's ``Last-Event-ID`` continues after that line."""
    filters: dict[str, Any] = dict(
        project=project, pipeline=pipeline, job_id=job_id, datum_id=datum_id, inputs=inputs
    )
    if not follow:
        rows = svc.get_logs(tail=tail, since_id=since_id, **filters)
        return ok([{**r.to_dict(), "id": row_id} for row_id, r in rows])
    if last_event_id:  # a browser reconnecting: continue after the last line it got
        since_id, tail = max(since_id, last_event_id), 0
    first = svc.get_logs(tail=tail, since_id=since_id, **filters)  # errors before streaming

    async def stream() -> AsyncIterator[str]:
        rows, last, idle = first, since_id, 0.0
        while True:
            for row_id, record in rows:
                last = row_id
                yield sse("log", record.to_dict(), row_id)
            if not rows:
                idle += LOG_POLL
                if idle >= KEEPALIVE:
                    idle = 0.0
                    yield ": keep-alive\n\n"
            await asyncio.sleep(LOG_POLL)
            rows = await anyio.to_thread.run_sync(
                lambda: svc.get_logs(since_id=last, **filters)  # noqa: B023
            )

    return StreamingResponse(stream(), media_type="text/event-stream", headers=_NO_BUFFER)


_NO_BUFFER = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.get("/api/v1/events")
async def events(request: Request) -> StreamingResponse:
    """Live events as server-sent events: ``job`` (a running job's counters and state),
    ``commit`` (a branch head moved), ``pipeline`` (a pipeline's state changed)."""
    bus = request.app.state.bus

    async def stream() -> AsyncIterator[str]:
        with bus.subscription() as queue:
            yield ": connected\n\n"  # subscribed: every later event reaches this stream
            while True:
                try:
                    kind, data = await asyncio.wait_for(queue.get(), KEEPALIVE)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield sse(kind, data)

    return StreamingResponse(stream(), media_type="text/event-stream", headers=_NO_BUFFER)


@router.post("/api/v1/admin/gc", response_model=GCReport)
def gc(svc: Svc) -> JSONResponse:
    return ok(svc.gc())


@router.post("/api/v1/admin/fsck", response_model=FsckReport)
def fsck(svc: Svc) -> JSONResponse:
    return ok(svc.fsck())


@router.get("/api/v1/admin/pending-jobs")
def pending_jobs(svc: Svc) -> JSONResponse:
    """``{"pending": N}``: jobs not yet done."""
    return ok({"pending": svc.pending_jobs()})
