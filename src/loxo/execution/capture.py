"""File-descriptor-level capture of a worker process's stdout and stderr.

A local worker calls Python transforms in its own process, and their output may come from
``print``, from C extensions writing to fd 1 directly, or from child processes they start.
:class:`FdCapture` replaces fds 1 and 2 with pipes once, at worker start; a reader thread
per pipe splits the bytes into lines and hands them to the datum being run (``to(logs)``)
or, between datums, passes them through to the original stream. Leaving ``to()`` flushes
``sys.stdout``/``sys.stderr`` and, unless every pipe is already drained (nothing left in it
nor half a line held back: the common case of a quiet datum, checked without a thread
hop, since a reader reads and routes under one lock), writes a sync marker through each
pipe and waits until the reader has seen it, so every byte written during the call lands
in that datum's logs.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import itertools
import os
import select
import sys
import termios
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
        self._buf = b""  # an unterminated line, held back
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

    def drained(self) -> bool:
        """Whether everything written so far has been routed (no sync needed)."""
        pending = array.array("i", [0])
        with self._lock:
            try:
                fcntl.ioctl(self._read, termios.FIONREAD, pending, True)
            except OSError:
                return False
            return pending[0] == 0 and not self._buf

    def _reader(self) -> None:
        poller = select.poll()
        poller.register(self._read, select.POLLIN)
        while True:
            try:
                poller.poll()
                with self._lock:  # read and route at once: see drained()
                    data = os.read(self._read, 65536)
                    if not data:
                        return
                    *lines, self._buf = (self._buf + data).split(b"\n")
                    for line in lines:
                        self._route(line)
            except OSError:
                return

    def _route(self, line: bytes) -> None:
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
            self._leave(logs)

    def _leave(self, logs: LogCollector) -> None:
        if not all(p.drained() for p in self._pipes):
            marker = f"\x1eloxo-sync-{os.getpid()}-{next(self._ids)}\x1e".encode()
            synced = [p.sync(marker) for p in self._pipes]  # both pipes drain at once
            for event in synced:
                event.wait(SYNC_TIMEOUT)
        for p in self._pipes:
            p.set_sink(None)
            logs.close_stream(p.stream)
