"""What the Ray executor does when a slot's task ends: by itself, or with its worker.

Mixed into :class:`~loxo.execution.ray_executor.RayExecutor` (:class:`SlotEnds`), whose
state it shares. When a slot's task ends, the reports it sent before it ended are taken
into account first (which datum ran, in which process group to reap, which sets it
finished); then, for the set it was running:

- its worker could not run loxo (``RayTaskError``, a bad ``runtime_env``): the rest of
  each set it held fails at once, saying why;
- its worker or node died: the running datum loses one attempt (a datum that always
  kills its worker ends FAILED after ``datum_tries``), and the rest of the set -- and the
  set queued behind it, which lost nothing -- go to other slots. For a Python transform,
  which may have killed its worker before its ``attempt`` report was out, the running
  datum is what the worker's attempt record on its node says when that is newer than
  the reports (:mod:`~loxo.execution.ray_attempts`; read by a small task on that node,
  :data:`LOOKUP_TIMEOUT` at most; not when the executor killed the worker itself, for a
  timeout or a restart: then it knows). A node's death loses the record: the reports are all
  there is, and a set whose task dies :data:`FRUITLESS` times in a row before any datum
  of it ran fails the rest of its datums. After a command's worker dies, a small task
  on its node (:func:`ray_worker.reap <loxo.execution.ray_worker.reap>`) kills the
  process group it left behind;
- it ended by itself (the board is gone, or the worker was interrupted): the rest runs
  again.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import replace
from typing import Any

import ray
from ray.exceptions import NodeDiedError, RayError, RayTaskError, RuntimeEnvSetupError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from . import ray_worker
from .ray_attempts import Record
from .ray_connection import first_line
from .ray_sets import InFlight, Run, Slot, failed_result, lose_attempt
from .ray_slots import SlotPool
from .task import DatumResult

__all__ = ["FRUITLESS", "LOOKUP_TIMEOUT", "SlotEnds"]

FRUITLESS = 3  # a set's slot dying this many times in a row before it runs a datum fails it
LOOKUP_TIMEOUT = 10.0  # how long the driver waits for a dead worker's attempt record (s)
REPORT_LAG = 0.25  # how long to wait for reports on their way (s): at a slot's end, for
# the outstanding poll's answer; in restart_datum, for the attempt of a datum next in line


class SlotEnds:
    """The Ray executor's handling of ended slots (see the module documentation)."""

    # the executor's state and steps this relies on
    _lock: threading.Lock
    _board: Any
    _closed: bool
    _slots: SlotPool
    _reap: Any
    _read_record: Any

    def _submit(self, s: InFlight) -> None:
        raise NotImplementedError

    def _on_reports(self, run: Run, reports: list[tuple[Any, ...]]) -> list[DatumResult]:
        raise NotImplementedError

    def _take_reports(self, run: Run) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    # ---

    def _on_slot_end(self, run: Run, slot: Slot) -> list[DatumResult]:
        """A slot's task ended: by itself (idle, or the board gone) or with its worker. Its
        first set lost its worker; the sets queued behind it never started."""
        self._slots.forget(slot)
        results = self._reports_so_far(run) if slot.sets else []
        try:
            ray.get(slot.ref)
        except (RayTaskError, RuntimeEnvSetupError) as e:  # the worker cannot run loxo here
            why = f"the Ray worker could not run the datum set: {first_line(e)}"
            for s in self._orphans(run, slot):
                if not s.cancelled:
                    results += self._fail_rest(s, why)
            return results
        except RayError as e:
            orphans = self._orphans(run, slot)
            for i, s in enumerate(orphans):
                if i == 0:
                    results += self._on_death(s, slot, e)
                elif not s.cancelled:
                    results += self._resubmit(s, "its Ray worker died", blame=False)
            return results
        for i, s in enumerate(self._orphans(run, slot)):
            if not s.cancelled:
                results += self._resubmit(s, "the Ray task ended early", blame=i == 0)
        return results

    def _reports_so_far(self, run: Run) -> list[DatumResult]:
        """Handle the reports already sent to ``run``: the outstanding poll's if its answer
        is on its way, and what waits in the mailbox."""
        results: list[DatumResult] = []
        if run.poll is not None and ray.wait([run.poll], timeout=REPORT_LAG)[0]:
            results += self._on_reports(run, self._take_reports(run))
        with contextlib.suppress(RayError):
            results += self._on_reports(run, ray.get(self._board.take.remote(run.key, 0)))
        return results

    def _orphans(self, run: Run, slot: Slot) -> list[InFlight]:
        """The sets ``slot`` held when it ended (now off the run's books)."""
        with self._lock:
            orphans, slot.sets = slot.sets, []
            for s in orphans:
                run.sets.pop(s.key, None)
            return orphans

    def _on_death(self, s: InFlight, slot: Slot, error: RayError) -> list[DatumResult]:
        """The worker (or node) of ``slot``, running ``s``, died: count the lost attempt,
        run the rest again."""
        node, pid = slot.node or s.node, slot.pid or s.pid
        node_lost = isinstance(error, NodeDiedError)
        if pid:
            with contextlib.suppress(Exception):  # the dead worker's control mailbox
                self._board.drop.remote(ray_worker.control_key(node, pid))
            if not s.ts.transform.python and not node_lost:
                self._reap_on(node, pid)
        if s.cancelled:
            return []
        if s.ts.transform.python and pid and not node_lost and not s.kill_reason:
            s.adopt(self._attempt_record(node, pid))  # (we killed it: we know what ran)
        why = s.kill_reason or f"the Ray worker died ({type(error).__name__})"
        results = []
        if s.datum is not None and s.datum not in s.done:
            final = lose_attempt(s, why)
            if final is not None:
                results.append(final)
        return results + self._resubmit(s, why)

    def _resubmit(self, s: InFlight, why: str, *, blame: bool = True) -> list[DatumResult]:
        """Submit the rest of ``s`` again; unless ``blame`` is off (it never started), a
        task that ended without progress counts towards :data:`FRUITLESS`."""
        remaining = s.remaining()
        if not remaining or self._closed:
            return []
        if blame:
            s.fruitless = 0 if s.progressed else s.fruitless + 1
        if s.fruitless >= FRUITLESS:
            return self._fail_rest(
                s, f"the Ray task of this datum set failed {s.fruitless} times in a row: {why}"
            )
        s.ts = replace(s.ts, datums=remaining)
        try:
            self._submit(s)
        except (ValueError, TypeError, RayError) as e:
            return self._fail_rest(s, f"cannot submit the datum set to Ray again: {e}")
        return []

    def _fail_rest(self, s: InFlight, why: str) -> list[DatumResult]:
        results = [
            failed_result(s.ts, t.datum_id, why, s.resumes.get(t.datum_id)) for t in s.remaining()
        ]
        s.done |= {r.datum_id for r in results}
        return results

    def _reap_on(self, node: str, pid: int) -> None:
        """Kill, on ``node``, the command process group dead worker ``pid`` left."""
        with contextlib.suppress(RayError):
            self._reap.options(**_on_node(node)).remote(pid)

    def _attempt_record(self, node: str, pid: int) -> Record | None:
        """The attempt record dead worker ``pid`` left on ``node`` (None: none, or no
        answer within :data:`LOOKUP_TIMEOUT`)."""
        ref = None
        try:
            ref = self._read_record.options(**_on_node(node)).remote(pid)
            record = ray.get(ref, timeout=LOOKUP_TIMEOUT)
        except (RayError, ValueError, TypeError):
            if ref is not None:
                with contextlib.suppress(Exception):  # e.g. still waiting for its node
                    ray.cancel(ref, force=True)
            return None
        return record if isinstance(record, Record) else None


def _on_node(node: str) -> dict[str, Any]:
    """Ray options of a small task that must run on ``node``."""
    where = NodeAffinitySchedulingStrategy(node, soft=False)
    return {"num_cpus": 0, "max_retries": 0, "scheduling_strategy": where}
