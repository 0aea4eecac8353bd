"""A slot's next datum set, taken from the board while the current one runs.

A slot (:func:`ray_worker.run_slot <loxo.execution.ray_worker.run_slot>`) holds at most
two sets: the one it runs and the next. Taking the next from the board only when the
current one ends put one round trip to the board between every two sets: 10-60 ms median,
up to 130 ms, with 16 slots on a 2-core machine, as the board and the CPUs are busiest
just then (sets end together). So a thread of the slot, :class:`NextSet`, takes it while
the current one runs, and the slot starts it without waiting (4-8 ms from one set's last
datum to the next set's first, median).

A set the slot holds has left the board; to give it to an idle slot, the driver asks the
slot's worker for it back (``("withdraw", key)`` on its control mailbox,
:meth:`NextSet.give_back`). The slot decides: a set it has not started is given back --
dropped, and ``(key, "withdrawn")`` posted to its run's mailbox, after which the driver
hands the set elsewhere -- and a set it started is not (no answer: the set's own reports
follow). A request that arrives before the board's answer does is remembered and granted
when the answer comes. If the slot's worker dies holding a set, the set never started:
the driver hands it to another slot, as it does a set still on the board.

The slot ends after ``idle`` seconds without a set, or once told ``("stop",)``: when a take
made while it was idle comes back empty (the thread makes no take after that one, so none
can take a set that the slot would not run), or when the board is gone.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from typing import Any

__all__ = ["NextSet"]


class NextSet:
    """One slot's next item from its mailbox, taken ahead (see the module documentation)."""

    def __init__(self, board: Any, slot: str, idle: float) -> None:
        self.board, self._slot, self._idle = board, slot, idle
        self._cv = threading.Condition()
        self._held: tuple[Any, ...] | None = None  # taken from the board, not started
        self._idle_since: float | None = time.monotonic()  # None: a set is running
        self._over = False  # no more takes: the slot ends
        self._asked_back: deque[str] = deque(maxlen=64)  # keys to give back on arrival
        threading.Thread(target=self._loop, name="loxo-ray-next-set", daemon=True).start()

    def take(self) -> tuple[Any, ...] | None:
        """The next item for the slot to run, now its own (no longer given back), waiting
        for it if need be; None when the slot is to end (idle too long, or no board)."""
        with self._cv:
            if self._idle_since is None:
                self._idle_since = time.monotonic()
            while self._held is None and not self._over:
                self._cv.wait()
            item, self._held = self._held, None
            if item is None or item[0] != "set":  # "stop", or nothing more
                self._over = True
                item = None
            else:
                self._idle_since = None
            self._cv.notify_all()  # the thread takes the one after
            return item

    def give_back(self, key: str) -> None:
        """The driver wants set ``key`` back: give it back if it is held, not started
        (or as soon as it arrives)."""
        with self._cv:
            item = self._held
            if item is None or item[0] != "set" or item[1] != key:
                self._asked_back.append(key)  # on its way (or started: then moot)
                return
            self._held = None
            self._cv.notify_all()
        self._withdrawn(item)

    def close(self) -> None:
        """The slot ends: make no more takes."""
        with self._cv:
            self._over = True
            self._cv.notify_all()

    def _withdrawn(self, item: tuple[Any, ...]) -> None:
        _, key, _ts, _resumes, reports, *_ = item
        with contextlib.suppress(Exception):  # the board is gone: the driver sees the slot end
            self.board.put_all.remote(reports, [(key, "withdrawn")])

    def _loop(self) -> None:
        try:
            self._take_ahead()
        finally:  # whatever happens here, the slot must not wait for this thread forever
            self.close()

    def _take_ahead(self) -> None:
        import ray

        while True:
            with self._cv:
                while self._held is not None and not self._over:
                    self._cv.wait()
                if self._over:
                    return
                since = self._idle_since
                wait = self._idle if since is None else since + self._idle - time.monotonic()
                if wait <= 0:  # idle too long, no take outstanding: the slot ends
                    self._over = True
                    self._cv.notify_all()
                    return
            try:
                items = ray.get(self.board.take.remote(self._slot, wait, 0.0, 1))
            except Exception:  # the board is gone: the driver runs unreported datums again
                items = None
            withdrawn = None
            with self._cv:
                if items is None or (not items and since is not None):
                    self._over = True  # no board, or a take made while idle came back empty
                elif items and items[0][0] == "set" and items[0][1] in self._asked_back:
                    self._asked_back.remove(items[0][1])
                    withdrawn = items[0]
                elif items:
                    self._held = items[0]
                self._cv.notify_all()
                if self._over:
                    return
            if withdrawn is not None:
                self._withdrawn(withdrawn)
