"""The Ray executor's slots: long-lived Ray tasks that run datum sets one after another.

A **slot** is a Ray task (:func:`ray_worker.run_slot <loxo.execution.ray_worker.run_slot>`)
started with a pipeline's Ray options, that takes the sets handed to it from its own
mailbox on the board. The :class:`SlotPool` is the executor's record of its slots and the
policy of where a set goes:

- to an **idle** slot with the same options (checked to be alive: an idle slot ends by
  itself after ``slot_idle`` seconds), whatever run it served before -- slots stay warm
  from one run (one job) to the next;
- else to a **new** slot while the set's run has fewer than ``parallelism`` slots busy
  with its sets (idle slots with other options are stopped first: they hold resources);
- else into the **queue** of one of the run's slots (the shortest, at most :data:`QUEUE`
  sets: the running one and the next), so that a slot goes from one set to the next
  without waiting for the driver.

The pool only keeps the books; the executor moves the sets (and takes queued ones back).
Not thread-safe by itself: every method takes the executor's lock.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any

import ray

from .ray_sets import InFlight, Run, Slot

__all__ = ["QUEUE", "SlotPool"]

QUEUE = 2  # sets a slot may hold: the running one and the next, so it never waits for us


class SlotPool:
    """The executor's slots (see the module documentation)."""

    def __init__(self, lock: threading.Lock, name: str, idle_seconds: float) -> None:
        self._lock, self._name, self.idle_seconds = lock, name, idle_seconds
        self._seq = itertools.count()
        self._slots: dict[str, Slot] = {}

    def place(self, s: InFlight, run_slot: Any, board: Any) -> Slot:
        """The slot that will run ``s`` (now holding it): idle, else new, else queued."""
        return self.claim_idle(s) or self._queue(s) or self._start(s, run_slot, board)

    def queued(self, run: Run) -> list[InFlight]:
        """The sets of ``run`` waiting behind another in a slot."""
        with self._lock:
            return [
                q for x in self._slots.values() if x.sets and x.sets[0].run is run
                for q in x.sets[1:]
            ]  # fmt: skip

    def forget(self, slot: Slot) -> None:
        """``slot`` has ended."""
        with self._lock:
            self._slots.pop(slot.key, None)

    def split(self) -> tuple[list[Slot], list[Slot]]:
        """(busy, idle) slots."""
        with self._lock:
            slots = list(self._slots.values())
        return [x for x in slots if x.sets], [x for x in slots if not x.sets]

    def trim(self, board: Any, keep: int, unless: dict[str, Any] | None = None) -> None:
        """Stop idle slots beyond ``keep`` slots in all (sparing those with options
        ``unless``)."""
        with self._lock:
            idle = [x for x in self._slots.values() if not x.sets and x.options != unless]
            stop = idle[: max(0, len(self._slots) - keep)]
            for x in stop:
                del self._slots[x.key]
        for x in stop:
            stop_slot(board, x)

    def count_idle(self, options: dict[str, Any]) -> int:
        """How many idle slots with ``options`` are on the books."""
        with self._lock:
            return sum(1 for x in self._slots.values() if not x.sets and x.options == options)

    def claim_idle(self, s: InFlight) -> Slot | None:
        """An idle, live slot with ``s``'s options, now holding ``s`` (or None)."""
        while True:
            with self._lock:
                idle = (x for x in self._slots.values() if not x.sets)
                slot = next((x for x in idle if x.options == s.options), None)
                if slot is None:
                    return None
                slot.sets.append(s)
            ended, _ = ray.wait([slot.ref], timeout=0)
            if not ended:
                return slot
            with self._lock:  # it ended by itself (idle too long): forget it
                self._slots.pop(slot.key, None)

    def _queue(self, s: InFlight) -> Slot | None:
        """Once the run has ``parallelism`` busy slots: the one of them with the shortest
        queue (below :data:`QUEUE`) and the same options."""
        with self._lock:
            mine = [x for x in self._slots.values() if x.sets and x.sets[0].run is s.run]
            if len(mine) < s.run.parallelism:
                return None
            open_ = [x for x in mine if len(x.sets) < QUEUE and x.options == s.options]
            if not open_:
                return None
            slot = min(open_, key=lambda x: len(x.sets))
            slot.sets.append(s)
            return slot

    def _start(self, s: InFlight, run_slot: Any, board: Any) -> Slot:
        self.trim(board, keep=0, unless=s.options)
        key = f"{self._name}-slot-{next(self._seq)}"
        ref = run_slot.options(
            **s.options,
            max_retries=0,
            retry_exceptions=False,
            name=f"loxo {s.ts.pipeline} {s.ts.job_id[:12]}",
        ).remote(board, key, self.idle_seconds)
        slot = Slot(key, ref, s.options, sets=[s])
        with self._lock:
            self._slots[key] = slot
        return slot


def stop_slot(board: Any, slot: Slot) -> None:
    """Let an idle slot end (it takes "stop" from its mailbox)."""
    with contextlib.suppress(Exception):
        board.put.remote(slot.key, ("stop",))
