"""Streaming bodies: a response fed by a function that writes to a file object (a tar of a
tree), with back-pressure, and the OpenAPI description of raw request bodies."""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, BinaryIO, cast

import anyio.to_thread

PIPE_DEPTH = 16  # chunks in flight between the writing thread and the response
RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_END = object()


class _QueueWriter:
    def __init__(self, q: queue.Queue[object]) -> None:
        self._q = q
        self.closed = False

    def write(self, data: bytes) -> int:
        if data:
            self._q.put(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


async def from_writer(write: Callable[[BinaryIO], object]) -> AsyncIterator[bytes]:
    """The bytes ``write(out)`` writes to ``out``, as they come. A failure in the middle
    ends the stream early (the client sees a truncated body, never a wrong one)."""
    q: queue.Queue[object] = queue.Queue(PIPE_DEPTH)

    def run() -> None:
        try:
            write(cast(BinaryIO, _QueueWriter(q)))
        except BaseException as err:  # reported to the reader below
            q.put(err)
        finally:
            q.put(_END)

    threading.Thread(target=run, name="loxo-stream", daemon=True).start()
    while True:
        item = await anyio.to_thread.run_sync(q.get)
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
        yield cast(bytes, item)
