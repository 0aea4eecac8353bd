"""How the Ray executor hands datum sets to its slots: checked, placed, and sent in batches.

Mixed into :class:`~loxo.execution.ray_executor.RayExecutor` (:class:`HandOut`), whose
state it shares. A new set is first checked (an in-process store no worker can reach is
refused; a set that no live node can ever run fails its datums at once, saying why,
unless the cluster may grow), then placed on a slot by the
:class:`~loxo.execution.ray_slots.SlotPool` (idle, new, or queued behind a running set),
which then holds it.

The sets placed are not put in their slots' mailboxes one board call each: they wait in
the executor's **outgoing** list, which goes to the board in one ``put_many`` call
(:meth:`HandOut._send`) -- once the list holds ``parallelism`` sets or its oldest set has
waited :data:`BATCH_SECONDS`, and whenever the run's loop is about to wait or to return
results. Every board call costs the board actor about 1 ms of CPU on a 2-core machine, and
a run starts by handing out ``2 x parallelism`` sets at once: two calls instead of 32 at
parallelism 16 leave the board free to answer the slots waiting for their first sets.
The order the driver handed the sets to a slot in is kept (the board sorts by it). A set
cancelled while in the outgoing list is simply taken off it (:meth:`HandOut._unsend`).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from typing import Any

import ray

from loxo.errors import InvalidArgumentError

from .ray_connection import first_line
from .ray_resources import demand, task_options, unsatisfiable
from .ray_sets import InFlight, Run, Slot, failed_result
from .ray_slots import SlotPool
from .task import DatumResult, TaskSet

__all__ = ["BATCH_SECONDS", "NODES_TTL", "HandOut", "force_cancel"]

BATCH_SECONDS = 0.005  # how long a placed set may wait for others to share its board call
NODES_TTL = 10.0  # how long the list of nodes is trusted by the feasibility check (s)


class HandOut:
    """The Ray executor's handing out of sets (see the module documentation)."""

    # the executor's state and steps this relies on
    _lock: threading.Lock
    _seq: itertools.count[int]
    _board: Any
    _run_slot: Any
    _slots: SlotPool
    autoscaling: bool

    def _connect(self) -> None:
        raise NotImplementedError

    # ---

    def _init_handout(self) -> None:
        self._nodes: list[dict[str, Any]] = []
        self._nodes_at = -NODES_TTL
        self._outgoing: list[tuple[str, tuple[Any, ...], int]] = []  # (mailbox, item, order)
        self._outgoing_since = 0.0  # when the oldest of them was placed

    def _start(self, run: Run, ts: TaskSet) -> list[DatumResult]:
        """Place a new set; the FAILED results of its datums if it can never run."""
        if ts.store_url.startswith("memory://"):
            raise InvalidArgumentError(
                f"Ray workers cannot reach the in-process store {ts.store_url!r}; use an S3 "
                "store (or a directory every Ray node mounts at the same path)"
            )
        self._connect()
        options = task_options(ts.resources)
        why = self._unsatisfiable(options)
        if why is None:
            s = InFlight(run, ts, options)
            try:
                self._submit(s)
            except (ValueError, TypeError) as e:  # Ray refused the options
                why = f"Ray refused the resources {dict(ts.resources)}: {first_line(e)}"
            else:
                return []
        return [failed_result(ts, t.datum_id, why, None) for t in ts.datums]

    def _submit(self, s: InFlight) -> None:
        """Hand ``s`` to the slot :class:`~loxo.execution.ray_slots.SlotPool` picks."""
        self._assign(s, self._slots.place(s, self._run_slot, self._board))

    def _assign(self, s: InFlight, slot: Slot) -> None:
        """Queue ``s`` (already in ``slot.sets``) for the slot's mailbox; send the outgoing
        sets if ``parallelism`` of them wait, or the oldest for :data:`BATCH_SECONDS`."""
        run = s.run
        order = next(self._seq)
        key = f"{run.key}-{order}"
        item = ("set", key, s.ts, s.resumes, run.key, run.env, run.code_paths)
        with self._lock:
            s.begin_task(key, slot)
            run.sets[key] = s
            late = s.ts.job_id in run.cancelled_jobs and not s.cancelled  # cancel() raced us
            s.cancelled = s.cancelled or late
            if not self._outgoing:
                self._outgoing_since = time.monotonic()
            self._outgoing.append((slot.key, item, order))
            full = len(self._outgoing) >= run.parallelism
            due = full or time.monotonic() - self._outgoing_since >= BATCH_SECONDS
        if due:
            self._send()
        if late:
            force_cancel(slot.ref)

    def _send(self) -> None:
        """Put the outgoing sets in their slots' mailboxes, in one board call."""
        with self._lock:
            items, self._outgoing = self._outgoing, []
        if items:
            self._board.put_many.remote(items)

    def _unsend(self, s: InFlight) -> bool:
        """Take ``s`` off the outgoing list (and the books) if it is still there."""
        with self._lock:
            for i, (_, item, _) in enumerate(self._outgoing):
                if item[1] == s.key:
                    del self._outgoing[i]
                    if s.slot is not None and s in s.slot.sets:
                        s.slot.sets.remove(s)
                    s.run.sets.pop(s.key, None)
                    return True
        return False

    def _unsatisfiable(self, options: dict[str, Any]) -> str | None:
        if self.autoscaling:
            return None
        need = demand(options)
        for refresh in (False, True):  # a cached answer is checked again before failing
            if refresh or time.monotonic() - self._nodes_at > NODES_TTL:
                self._nodes, self._nodes_at = ray.nodes(), time.monotonic()
            why = unsatisfiable(need, self._nodes)
            if why is None:
                return None
        return why


def force_cancel(ref: Any) -> None:
    """End a slot's task (killing its worker), if it still runs and Ray is still there."""
    with contextlib.suppress(Exception):  # already finished, or Ray is gone
        ray.cancel(ref, force=True)
