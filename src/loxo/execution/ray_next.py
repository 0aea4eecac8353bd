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

**Reports ride with the take.** Every board call costs its actor about 1 ms of CPU on a
2-core machine, and the calls come in bursts, as sets start and end together. So once the
slot starts a set of commands, the thread's next take waits for the set's first report
(its first attempt, :meth:`NextSet.carry`) and takes the previous set's end along
(``set_done``, handed to :meth:`NextSet.take`): one board call where there were three. It
waits :data:`GATE` seconds at most, so a set whose first datum takes long to materialise
holds back neither. A report with no take to ride goes at once, and so do those around a
set of Python calls: a Python call may end its worker before the thread is scheduled,
and the previous set's end must not be lost with it (a command runs in a process of its
own). A worker killed from outside in the few milliseconds between a set's end and the
next set's first report loses that set's end too: the driver then runs the set's last
datum again (charging it the attempt), as it does for a worker killed while that datum ran.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from typing import Any

__all__ = ["GATE", "NextSet"]

GATE = 0.02  # how long the take after a set's start waits for the set's first report (s)

Report = tuple[str, list[Any]]  # a mailbox, and the items to put in it


def _runs_commands(item: tuple[Any, ...]) -> bool:
    """Whether the set ``item`` hands over runs commands (not Python calls)."""
    ts = item[2]
    return ts is not None and not ts.transform.python


class NextSet:
    """One slot's next item from its mailbox, taken ahead (see the module documentation)."""

    def __init__(self, board: Any, slot: str, idle: float) -> None:
        self.board, self._slot, self._idle = board, slot, idle
        self._cv = threading.Condition()
        self._held: tuple[Any, ...] | None = None  # taken from the board, not started
        self._idle_since: float | None = time.monotonic()  # None: a set is running
        self._over = False  # no more takes: the slot ends
        self._asked_back: deque[str] = deque(maxlen=64)  # keys to give back on arrival
        self._gate: float | None = None  # a set started: the next take waits until then
        self._riders: list[Report] = []  # reports to post with the next take
        threading.Thread(target=self._loop, name="loxo-ray-next-set", daemon=True).start()

    def take(self, report: Report | None = None) -> tuple[Any, ...] | None:
        """The next item for the slot to run, now its own (no longer given back), waiting
        for it if need be; None when the slot is to end (idle too long, or no board).
        ``report`` (the end of the set the slot ran) goes with the thread's next take if
        that take is to follow soon, else at once."""
        with self._cv:
            if self._idle_since is None:
                self._idle_since = time.monotonic()
            if report is not None and self._held is None:  # no take follows a set start
                if self._gate is not None and not self._over:  # a take waits: now, with it
                    self._riders.append(report)
                    self._gate = None
                    self._cv.notify_all()
                else:
                    self._post([report])
                report = None
            while self._held is None and not self._over:
                self._cv.wait()
            item, self._held = self._held, None
            if item is None or item[0] != "set":  # "stop", or nothing more
                self._over = True
                item = None
            else:
                self._idle_since = None
                self._gate = None
                if _runs_commands(item):  # (a Python call may end the worker at once)
                    self._gate = time.monotonic() + GATE
                    if report is not None:
                        self._riders.append(report)
                        report = None
            self._cv.notify_all()  # the thread takes the one after
        if report is not None:
            self._post([report])
        return item

    def carry(self, report: Report) -> bool:
        """Post the running set's first ``report`` with the thread's next take, if that
        take waits for it (True); False: the caller posts it."""
        with self._cv:
            if self._gate is None or self._over:
                return False
            self._riders.append(report)
            self._gate = None
            self._cv.notify_all()
            return True

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
        """The slot ends: make no more takes (the reports left to ride go at once)."""
        with self._cv:
            self._over = True
            self._cv.notify_all()
            riders, self._riders = self._riders, []
        self._post(riders)

    def _post(self, reports: list[Report]) -> None:
        for key, items in reports:
            with contextlib.suppress(Exception):  # the board is gone: the slot ends
                self.board.put_all.remote(key, items)

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
                while not self._over:
                    if self._held is not None:
                        self._cv.wait()
                    elif self._gate is not None and time.monotonic() < self._gate:
                        self._cv.wait(self._gate - time.monotonic())
                    else:
                        break
                if self._over:
                    return
                since = self._idle_since
                wait = self._idle if since is None else since + self._idle - time.monotonic()
                if wait <= 0:  # idle too long, no take outstanding: the slot ends
                    self._over = True
                    self._cv.notify_all()
                    return
                self._gate, riders, self._riders = None, self._riders, []
            try:
                items = ray.get(self.board.take.remote(self._slot, wait, 0.0, 1, riders))
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
