"""A Ray worker's results on their way to the driver: made durable in groups, then posted.

A datum's result may reach the driver only once the objects of its output are durable.
Rather than one object and one store sync per datum, a Ray worker, like a local one
(:mod:`~loxo.execution.worker`), writes the datums' small outputs into one shared pack
(:mod:`~loxo.execution.output_pack`) and holds finished results for up to
:data:`GROUP_SECONDS`; then a flusher thread writes the pack, syncs the store once and
posts the group to the driver's mailbox in one ``("results", [...])`` report.

At the end of a set the task flushes what is left without posting it: those results reach
the driver as the task's return value. If the worker dies first, the datums whose results
were not posted simply run again (results are keyed by datum; tasks are idempotent).
A store that cannot take the pack or sync fails the datums of the group that had output,
saying why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from loxo.errors import LoxoError

from .output_pack import PackGroup
from .runtime import store_for
from .task import DatumResult, DatumState, LogLine

__all__ = ["GROUP_SECONDS", "Outbox"]

GROUP_SECONDS = 0.02  # how long a finished result may wait for others to share its sync

Post = Callable[[tuple[Any, ...]], None]


class Outbox:
    """One set's results: grouped per store sync, posted by a flusher thread."""

    def __init__(self, store_url: str, post: Post) -> None:
        self._url, self._post = store_url, post
        self._lock = threading.Lock()  # one group at a time: results stay in order
        self._cv = threading.Condition()
        self._pending: list[DatumResult] = []
        self._pack = PackGroup()
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def pack(self) -> PackGroup:
        """Where small outputs go until the next flush."""
        return self._pack

    def add(self, result: DatumResult) -> None:
        """Post ``result`` once its output is durable (within :data:`GROUP_SECONDS`)."""
        with self._cv:
            self._pending.append(result)
            self._cv.notify()
            if self._thread is None:  # started by the set's first posted result
                self._thread = threading.Thread(
                    target=self._flusher, name="loxo-ray-outbox", daemon=True
                )
                self._thread.start()

    def close(self, last: list[DatumResult]) -> None:
        """Make the pending results and ``last`` durable without posting them (the task
        returns them)."""
        with self._cv:
            self._closed = True
            self._pending += last
            self._cv.notify()
        self._flush(post=False)
        if self._thread is not None:
            self._thread.join()

    def _flush(self, *, post: bool) -> None:
        with self._lock:
            with self._cv:
                group, self._pending = self._pending, []
            if not group:
                return
            make_durable(self._url, self._pack, group)
            if post:
                self._post(("results", group))

    def _flusher(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._closed:
                    self._cv.wait()
                deadline = time.monotonic() + GROUP_SECONDS
                while not self._closed and (left := deadline - time.monotonic()) > 0:
                    self._cv.wait(left)
                if self._closed:
                    return  # close() flushes the rest
            self._flush(post=True)


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
