"""A real ``loxo serve`` process on loopback, for tests: :func:`running_server`.

The server runs in its own process group on ports it picks itself (``--port 0``,
``--grpc-port 0``); the context manager reads the addresses from the line the server prints
once ready, and stops the whole group on exit — also when the test fails.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

READY_TIMEOUT = 60.0
READY = re.compile(r"http://(?P<host>[^:\s]+):(?P<port>\d+)(?:.*grpc \S+:(?P<grpc>\d+))?")


@dataclass
class ServerProc:
    home: Path
    proc: subprocess.Popen[str]
    http_url: str = ""
    grpc_port: int = 0
    output: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then wait; the exit code."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.wait()

    def kill(self) -> None:
        """kill -9 of the server and everything it started (its workers)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> ServerProc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def _start(home: Path, args: tuple[str, ...], env: dict[str, str] | None) -> ServerProc:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LOXO_ADDRESS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loxo.cli.main", "--home", str(home), "serve",
         "--port", "0", "--grpc-port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        text=True, env=full_env, start_new_session=True,
    )  # fmt: skip
    server = ServerProc(home, proc)
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            server.output.append(line)
            m = READY.search(line)
            if m and not ready.is_set():
                server.http_url = f"http://{m['host']}:{m['port']}"
                server.grpc_port = int(m["grpc"] or 0)
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready.wait(0.05):
        if proc.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("loxo serve did not start:\n" + "".join(server.output))
    return server


@contextmanager
def running_server(
    home: Path, *extra_args: str, env: dict[str, str] | None = None
) -> Iterator[ServerProc]:
    """``loxo --home HOME serve --port 0 --grpc-port 0 EXTRA_ARGS...``, ready."""
    server = _start(home, extra_args, env)
    try:
        yield server
    finally:
        server.kill()


def restart(server: ServerProc, *extra_args: str, env: dict[str, str] | None = None) -> ServerProc:
    """A new server on the same home (after ``server`` was stopped or killed); use it as a
    context manager (``with restart(server) as again:``) so that it stops too."""
    return _start(server.home, extra_args, env)
