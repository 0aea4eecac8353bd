"""File-descriptor-level capture of a worker process's stdout and stderr.

A local worker calls Python transforms in its own process, and their output may come from
``print``, from C extensions writing to fd 1 directly, or from child processes they start.
:class:`FdCapture` replaces fds 1 and 2 with pipes once, at worker start; a reader thread
per pipe splits the bytes into lines and hands them to the datum being run (``to(logs)``)
or, between datums, passes them through to the original stream. Leaving ``to()`` flushes
``sys.stdout``/``sys.stderr`` and writes a sync marker through each pipe, waiting until
the reader has seen it, so every byte written during the call lands in that datum's logs.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
from collections.abc import Iterator

from .logs import LogCollector

SYNC_TIMEOUT = 2.0


class _FdPipe:
    def __init__(self, fd: int, stream: str) -> None:
        self.fd, self.stream = fd, stream
        self.sink: LogCollector | None = None
        self._lock = threading.Lock()
        self._synced: dict[bytes, threading.Event] = {}
        self.original = os.dup(fd)
        read, write = os.pipe()
        os.dup2(write, fd)
        os.close(write)
        self._read = read
        threading.Thread(target=self._reader, name=f"loxo-capture-{stream}", daemon=True).start()

    def set_sink(self, sink: LogCollector | None) -> None:
        with self._lock:
            self.sink = sink

    def sync(self, marker: bytes) -> threading.Event:
        """An event set once everything written to the fd before now has been routed."""
        event = threading.Event()
        with self._lock:
            self._synced[marker] = event
        os.write(self.fd, marker + b"\n")
        return event

    def _reader(self) -> None:
        buf = b""
        while True:
            try:
                data = os.read(self._read, 65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                self._route(line)

    def _route(self, line: bytes) -> None:
        with self._lock:
            for marker, event in list(self._synced.items()):
                if marker in line:
                    line = line.replace(marker, b"")
                    del self._synced[marker]
                    if line:
                        self._emit(line)
                    event.set()
                    return
            self._emit(line)

    def _emit(self, line: bytes) -> None:
        if self.sink is not None:
            self.sink.feed(self.stream, line + b"\n")
        else:
            with contextlib.suppress(OSError):
                os.write(self.original, line + b"\n")


class FdCapture:
    """Redirects fds 1 and 2 of this process for good; see the module docstring."""

    def __init__(self) -> None:
        for f in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                f.flush()
        self._pipes = (_FdPipe(1, "stdout"), _FdPipe(2, "stderr"))
        self._ids = itertools.count()

    @contextlib.contextmanager
    def to(self, logs: LogCollector) -> Iterator[None]:
        for p in self._pipes:
            p.set_sink(logs)
        try:
            yield
        finally:
            for f in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    f.flush()
            marker = f"\x1eloxo-sync-{os.getpid()}-{next(self._ids)}\x1e".encode()
            synced = [p.sync(marker) for p in self._pipes]  # both pipes drain at once
            for p, event in zip(self._pipes, synced, strict=True):
                event.wait(SYNC_TIMEOUT)
                p.set_sink(None)
                logs.close_stream(p.stream)
