"""A Ray worker's reports on their way to the driver, results made durable in groups.

A Ray worker reports to the driver's mailbox (:mod:`~loxo.execution.ray_board`) through one
:class:`Outbox` per set, whose loop makes the Ray calls on a thread of the worker's, so
that the datums never wait for them (one thread per process serves the sets' outboxes one
after another: starting and joining a thread per set cost ~1 ms of the slot's time between
two sets on a loaded 2-core machine):

- **events** (an attempt starting, a Python call returning) are posted at once, in order,
  but no two posts of a set closer than its ``pace``: :data:`POST_SECONDS` for Python calls,
  whose attempts the driver must hear of soon (it enforces their timeouts),
  :data:`COMMAND_POST_SECONDS` for commands. A command's attempt report only tells the
  driver which datum runs (for a restart, and for the attempt a worker's death costs), and
  each post costs the worker an actor call (about 1 ms of CPU here), that is one per few
  datums of a small command at the shorter pace;
- **results** may reach the driver only once the objects of their outputs are durable.
  Rather than one object and one store sync per datum, the datums' small outputs go into
  one shared pack (:mod:`~loxo.execution.output_pack`) and finished results wait up to
  :data:`GROUP_SECONDS`; then the thread writes the pack, syncs the store once and posts
  the group in one ``("results", [...])`` report (as a local worker does,
  :mod:`~loxo.execution.worker`).

At the end of a set (:meth:`Outbox.close`) what is left is made durable without being
posted: those results reach the driver as the task's return value, and events still
queued are moot. If the worker dies first, the datums whose results were not posted simply
run again (results are keyed by datum; tasks are idempotent). A store that cannot take the
pack or sync fails the datums of the group that had output, saying why.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from loxo.errors import LoxoError

from .output_pack import PackGroup
from .runtime import store_for
from .task import DatumResult, DatumState, LogLine

__all__ = ["COMMAND_POST_SECONDS", "GROUP_SECONDS", "POST_SECONDS", "Outbox", "make_durable"]

GROUP_SECONDS = 0.02  # how long a finished result may wait for others to share its sync
POST_SECONDS = 0.01  # the shortest interval between two posts of a set of Python calls
COMMAND_POST_SECONDS = 0.05  # ... of a set of commands


class Post(Protocol):
    """Puts ``events`` in the driver's mailbox (without waiting for them to be there)."""

    def __call__(self, events: list[tuple[Any, ...]]) -> None: ...


class Outbox:
    """One set's reports: events posted at once, results grouped per store sync."""

    def __init__(self, store_url: str, post: Post, *, pace: float = POST_SECONDS) -> None:
        self._url, self._post, self._pace = store_url, post, pace
        self._lock = threading.Lock()  # one group at a time: results stay in order
        self._cv = threading.Condition()
        self._events: list[tuple[Any, ...]] = []
        self._results: list[DatumResult] = []
        self._due = 0.0  # when the oldest pending result must go
        self._posted = -pace  # when the last post went
        self._pack = PackGroup()
        self._closed = False
        self._done = _courier().run(self._loop)

    @property
    def pack(self) -> PackGroup:
        """Where small outputs go until the next flush."""
        return self._pack

    def event(self, event: tuple[Any, ...]) -> None:
        """Post ``event`` as soon as possible, after the events before it."""
        with self._cv:
            self._events.append(event)
            self._cv.notify()

    def add(self, result: DatumResult) -> None:
        """Post ``result`` once its output is durable (within :data:`GROUP_SECONDS`)."""
        with self._cv:
            if not self._results:
                self._due = time.monotonic() + GROUP_SECONDS
            self._results.append(result)
            self._cv.notify()

    def close(self, last: list[DatumResult]) -> None:
        """Make the pending results and ``last`` durable without posting them (the task
        returns them); drop the events not posted yet."""
        with self._cv:
            self._closed = True
            self._results += last
            self._cv.notify()
        self._done.wait()
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            with self._cv:
                group, self._results = self._results, []
            if group:
                make_durable(self._url, self._pack, group)

    def _loop(self) -> None:
        while True:
            with self._cv:
                while True:
                    if self._closed:
                        return  # close() flushes the rest
                    now = time.monotonic()
                    at = self._next_post()
                    if at is not None and now >= at:
                        break
                    self._cv.wait(None if at is None else at - now)
                events, self._events = self._events, []
                due = bool(self._results) and now >= max(self._due, self._posted + self._pace)
                self._posted = now
            if due:
                with self._lock:
                    with self._cv:
                        group, self._results = self._results, []
                    make_durable(self._url, self._pack, group)
                    self._send(events, [("results", group)])
            else:
                self._send(events, [])

    def _next_post(self) -> float | None:
        """When the thread must post next (None: nothing to post)."""
        at = []
        if self._events:
            at.append(self._posted + self._pace)
        if self._results:
            at.append(max(self._due, self._posted + self._pace))
        return min(at) if at else None

    def _send(self, events: list[tuple[Any, ...]], more: list[Any]) -> None:
        self._post(events + more)


class _Courier:
    """The process's thread that runs the outboxes' loops, one after another (a set's
    outbox lives as long as the set: a thread per set cost ~1 ms to start and join)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[Callable[[], None], threading.Event]] = (
            queue.SimpleQueue()
        )
        self._busy = False
        threading.Thread(target=self._serve, name="loxo-ray-outbox", daemon=True).start()

    def run(self, loop: Callable[[], None]) -> threading.Event:
        """Run ``loop`` on this thread if it is free (else on a thread of its own); the
        event is set when ``loop`` returned."""
        done = threading.Event()
        with self._lock:
            busy, self._busy = self._busy, True
        if busy:  # (sets of one process run one at a time: not expected)
            threading.Thread(target=_run, args=(loop, done), daemon=True).start()
        else:
            self._queue.put((loop, done))
        return done

    def _serve(self) -> None:
        while True:
            loop, done = self._queue.get()
            try:
                loop()
            finally:
                with self._lock:
                    self._busy = False  # (before the owner hears it is done)
                done.set()


def _run(loop: Callable[[], None], done: threading.Event) -> None:
    try:
        loop()
    finally:
        done.set()


_courier_lock = threading.Lock()
_the_courier: _Courier | None = None


def _courier() -> _Courier:
    global _the_courier
    with _courier_lock:
        if _the_courier is None:
            _the_courier = _Courier()
        return _the_courier


def make_durable(url: str, pack: PackGroup, group: list[DatumResult]) -> None:
    """Write ``pack`` (if anything is in it) and sync the store of ``url``; on failure the
    results of ``group`` with output fail, saying why."""
    why = ""
    try:
        taken = pack.take()
        if taken is not None:
            store_for(url).put(*taken)
        if taken is not None or any(r.output_root is not None for r in group):
            store_for(url).sync()
    except (LoxoError, OSError) as e:
        why = f"cannot make the datum's output durable: {e}"
    if not why:
        return
    for r in group:
        if r.output_root is not None:
            r.state, r.error, r.output_root = DatumState.FAILED, why, None
            r.logs.append(LogLine(time.time(), "system", why))
