"""How the Ray executor takes a datum set back from the slot it was handed to.

Mixed into :class:`~loxo.execution.ray_executor.RayExecutor` (:class:`TakeBack`), whose
state it shares. A set queued behind another in a slot (:mod:`~loxo.execution.ray_slots`)
is either still in the slot's mailbox on the board or already held by the slot, which
takes its next set while the current one runs (:mod:`~loxo.execution.ray_next`). It is
taken back in two cases:

- **cancelled** (:meth:`TakeBack._take_back`): withdrawn from the mailbox if it is still
  there (``retract``, one round trip); else the slot's worker is told to skip it (killing
  the slot would kill the set it runs), and told again when it reports the set's start;
- **stuck behind a slow set** while another slot is idle, once the run has nothing left to
  hand out (:meth:`TakeBack._rebalance`): the slot's worker is asked to give it back
  (``withdraw``); a slot gives back a set it has not started, and says so in a
  ``withdrawn`` report, on which the set goes to the slot the pool picks
  (:meth:`TakeBack._on_withdrawn`); a set that the slot started meanwhile stays there.
  The request goes to the worker, not the board, as the set has most likely left the
  board already; the executor does not wait for the answer.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import ray
from ray.exceptions import RayError

from . import ray_worker
from .ray_sets import InFlight, Run, Slot
from .ray_slots import SlotPool
from .task import DatumResult

__all__ = ["TakeBack"]


class TakeBack:
    """The Ray executor's taking back of queued sets (see the module documentation)."""

    # the executor's state and steps this relies on
    _lock: threading.Lock
    _board: Any
    _slots: SlotPool

    def _assign(self, s: InFlight, slot: Slot) -> None:
        raise NotImplementedError

    def _resubmit(self, s: InFlight, why: str, *, blame: bool = True) -> list[DatumResult]:
        raise NotImplementedError

    def _unsend(self, s: InFlight) -> bool:
        raise NotImplementedError

    # ---

    def _take_back(self, s: InFlight) -> None:
        """Withdraw the cancelled set ``s`` from its slot's mailbox if it is still there;
        else its slot's worker, which has it already, is told to skip it (and told again
        when it reports the set's start; killing the slot would kill the set it runs)."""
        slot = s.slot
        if slot is None or self._retract(s):
            return
        with self._lock:  # the slot has it already: its worker skips it when it comes
            running = slot.sets[0] if slot.sets else None
        node, pid = slot.node, slot.pid  # where the slot runs, once it said so
        if not pid and running is not None:
            node, pid = running.node, running.pid
        if pid:
            with contextlib.suppress(Exception):
                self._board.put.remote(ray_worker.control_key(node, pid), ("cancel", s.key))

    def _retract(self, s: InFlight) -> bool:
        """Take the queued set ``s`` back from its slot's mailbox (and off the books);
        False if the slot has taken it already."""
        if self._unsend(s):  # not even sent to the board yet
            return True
        slot = s.slot
        try:
            withdrawn = slot is not None and ray.get(self._board.retract.remote(slot.key, s.key))
        except RayError:
            return False
        if withdrawn and slot is not None:
            with self._lock:
                if s in slot.sets:
                    slot.sets.remove(s)
                s.run.sets.pop(s.key, None)
        return withdrawn

    def _rebalance(self, run: Run) -> None:
        """With nothing left to hand out and a slot idle: ask for the sets queued behind a
        running one back (the answer, if the slot had not started the set, is a
        ``withdrawn`` report)."""
        with self._lock:
            asked = sum(1 for s in run.sets.values() if s.withdrawing)
        for s in self._slots.queued(run):
            slot = s.slot
            if s.withdrawing or slot is None or not slot.pid:  # (pid: once it said where)
                continue
            if asked >= self._slots.count_idle(s.options):  # one set asked back per idle slot
                continue
            s.withdrawing, asked = True, asked + 1
            with contextlib.suppress(Exception):
                key = ray_worker.control_key(slot.node, slot.pid)
                self._board.put.remote(key, ("withdraw", s.key))

    def _on_withdrawn(self, s: InFlight) -> list[DatumResult]:
        """The slot of ``s`` gave it back, unstarted: hand it to another."""
        with self._lock:
            slot = s.slot
            if slot is not None and s in slot.sets:
                slot.sets.remove(s)
            s.run.sets.pop(s.key, None)
            s.withdrawing = False
        if s.cancelled:
            return []
        return self._resubmit(s, "given back by its slot", blame=False)
