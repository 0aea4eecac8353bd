"""Running the server: open the home, start the scheduler, the HTTP door (and the gRPC door
when the ``pachyderm`` extra is installed), announce the addresses, serve until SIGINT or
SIGTERM."""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from loxo.errors import InvalidArgumentError, StorageError
from loxo.service import Service

from .events import EventBus
from .http import create_app
from .scheduler import Scheduler

log = logging.getLogger("loxo.server")


@dataclass(frozen=True)
class ServeOptions:
    home: str | Path | None = None
    store_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    grpc_port: int | None = 1650  # None: no gRPC door
    token_file: str | None = None
    console: bool = True
    name: str = "loxo serve"  # how the announcement line starts


def read_token(path: str) -> str:
    try:
        token = Path(path).read_text().strip()
    except OSError as err:
        raise InvalidArgumentError(
            f"cannot read the auth token file {path!r}: {err.strerror}"
        ) from err
    if not token:
        raise InvalidArgumentError(f"the auth token file {path!r} is empty: put a secret in it")
    return token


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when
    # the socket says TCP, and without it every keep-alive response (headers and body are
    # two writes) waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise StorageError(
            f"cannot listen on {host}:{port}: {err.strerror}; choose another --port"
        ) from err
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


def _console_dir() -> Path | None:
    try:
        from loxo.console import static_dir
    except ImportError:
        return None
    return static_dir()


def _grpc_door(
    svc: Service, host: str, port: int, token: str | None, scheduler: Scheduler
) -> tuple[Any, int] | None:
    missing = [m for m in ("grpc", "pachyderm_sdk") if importlib.util.find_spec(m) is None]
    if missing:
        print(
            f"loxo serve: no gRPC door ({', '.join(missing)} missing): "
            "pip install 'loxo[pachyderm]' for the Pachyderm SDK API",
            file=sys.stderr,
        )
        return None
    from loxo.server.pachyderm import build_grpc_server

    return build_grpc_server(svc, host=host, port=port, token=token, on_write=scheduler.wake)


def serve(opts: ServeOptions, announce: Any = None) -> None:
    """Serve until interrupted. ``announce(line)`` gets the one line naming the addresses
    once both doors accept connections (default: print it)."""
    token = read_token(opts.token_file) if opts.token_file else None
    svc = Service.open_home(opts.home, opts.store_url)
    svc.drives_inline = False
    bus = EventBus()
    scheduler = Scheduler(svc, bus)
    app = create_app(
        svc,
        bus=bus,
        scheduler=scheduler,
        token=token,
        console_dir=_console_dir() if opts.console else None,
    )
    sock = listen(opts.host, opts.port)
    grpc_door = None
    if opts.grpc_port is not None:
        grpc_door = _grpc_door(svc, opts.host, opts.grpc_port, token, scheduler)
    host_text = f"[{opts.host}]" if ":" in opts.host else opts.host
    line = f"{opts.name}: http://{host_text}:{sock.getsockname()[1]} (HTTP API, console)"
    if grpc_door is not None:
        grpc_door[0].start()
        line += f", grpc {host_text}:{grpc_door[1]} (Pachyderm SDK)"
    scheduler.start()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=3)
    )

    def announce_when_started() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if server.started:
            (announce or _print)(line)

    threading.Thread(target=announce_when_started, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        if grpc_door is not None:
            grpc_door[0].stop(1).wait(3)
        app.state.uploads.abort_all()
        scheduler.stop(timeout=5)
        if scheduler.alive:
            # a job is still running: leave it claimed (it resumes on the next start) and
            # go now, as a crash would; the lease dies with this process
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        svc.close()


def _print(line: str) -> None:
    print(line, flush=True)


__all__ = ["ServeOptions", "serve"]
