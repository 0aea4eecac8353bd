"""Per-datum log capture: byte streams in, timestamped :class:`LogLine` values out.

A :class:`LogCollector` receives raw output of user code (``feed`` bytes as they arrive
from a pipe, or whole ``line`` strings), splits it into lines stamped with the time they
were read, and keeps at most ``limit`` bytes per datum: past that it records one
``[log truncated]`` system line and drops the rest, so a chatty datum cannot exhaust the
worker's memory. Overlong lines without a newline are cut every ``MAX_LINE`` bytes.
Safe to use from several threads (one pipe reader per stream).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from .task import LogLine

DEFAULT_LIMIT = 4 * 1024 * 1024
MAX_LINE = 64 * 1024
TRUNCATED = "[log truncated]"


class LogCollector:
    """The log lines of one datum (all its attempts), capped at ``limit`` bytes."""

    def __init__(self, limit: int = DEFAULT_LIMIT, prior: Iterable[LogLine] = ()) -> None:
        self.limit = limit
        self.lines: list[LogLine] = list(prior)
        self._bytes = sum(len(x.line) for x in self.lines)
        self._truncated = False
        self._partial: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def line(self, stream: str, text: str, when: float | None = None) -> None:
        """Record one complete line (without its newline)."""
        with self._lock:
            self._add(stream, text, time.time() if when is None else when)

    def system(self, text: str) -> None:
        """A line written by loxo itself (attempt boundaries, failures)."""
        with self._lock:
            self.lines.append(LogLine(time.time(), "system", text))

    def feed(self, stream: str, data: bytes) -> None:
        """Raw bytes from ``stream``; complete lines are recorded, the rest is kept."""
        now = time.time()
        with self._lock:
            buf = self._partial.get(stream, b"") + data
            *complete, rest = buf.split(b"\n")
            for raw in complete:
                self._add(stream, _decode(raw), now)
            while len(rest) > MAX_LINE:
                self._add(stream, _decode(rest[:MAX_LINE]), now)
                rest = rest[MAX_LINE:]
            self._partial[stream] = rest

    def close_stream(self, stream: str) -> None:
        """The stream ended: record its unterminated last line, if any."""
        with self._lock:
            rest = self._partial.pop(stream, b"")
            if rest:
                self._add(stream, _decode(rest), time.time())

    def snapshot(self) -> list[LogLine]:
        with self._lock:
            return list(self.lines)

    def _add(self, stream: str, text: str, when: float) -> None:
        if self._truncated:
            return
        if self._bytes + len(text) > self.limit:
            self._truncated = True
            self.lines.append(LogLine(when, "system", TRUNCATED))
            return
        self._bytes += len(text)
        self.lines.append(LogLine(when, stream, text))


def _decode(raw: bytes) -> str:
    return raw.rstrip(b"\r").decode("utf-8", errors="replace")
