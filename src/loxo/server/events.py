"""One bus for live events: publishers on any thread, subscribers on the event loop.

An event is ``(kind, data)``: ``("job", JobProgress dict)``, ``("commit", {...})``,
``("pipeline", {...})``. A subscriber that falls :data:`BACKLOG` events behind loses the
oldest ones (a live display only needs the latest state; the API has the full record).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

Event = tuple[str, dict[str, Any]]
BACKLOG = 1000


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = set()

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Send an event to every subscriber; safe from any thread, never blocks."""
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(_offer, queue, (kind, data))
            except RuntimeError:  # the subscriber's loop has closed
                with self._lock:
                    self._subscribers.discard((loop, queue))

    @contextlib.contextmanager
    def subscription(self) -> Iterator[asyncio.Queue[Event]]:
        """A queue of every event published from now on, until the block ends. Enter it on
        the subscriber's event loop; the subscription exists as soon as the block starts
        (waiting on the queue with a timeout never ends it)."""
        entry = (asyncio.get_running_loop(), asyncio.Queue[Event](BACKLOG))
        with self._lock:
            self._subscribers.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._subscribers.discard(entry)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(event)
