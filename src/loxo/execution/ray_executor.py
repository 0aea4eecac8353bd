"""The Ray executor: datum sets run by long-lived Ray tasks (the ``loxo[ray]`` extra).

**Connecting.** ``RayExecutor(address)``, or ``LOXO_RAY_ADDRESS`` when no address is
given, is passed to ``ray.init(address=..., namespace="loxo", ignore_reinit_error=True)``
on the first ``run``: a cluster's GCS address (``10.0.0.5:6379``, ``auto``), a Ray Client
address (``ray://head:10001``), or nothing to start a private local Ray instance. A
process already connected to Ray keeps its connection. The executor shuts Ray down at
:meth:`close` only if it connected it.

**Sets on slots.** A datum set runs in a **slot**: a long-lived Ray task
(:func:`ray_worker.run_slot <loxo.execution.ray_worker.run_slot>`) that takes the sets
handed to it through its mailbox on the board, one after another, and reads its inputs
from and writes its outputs to the shared object store itself (``TaskSet.store_url``):
the driver and Ray move only set descriptions, small reports and results, never file
contents. A run has at most ``parallelism`` slots busy with its sets; each slot holds the
set it runs and the next one, which it takes from the board while the first runs
(:mod:`ray_next <loxo.execution.ray_next>`), so it goes from one set to the next with no
round trip at all, and once there is nothing left to hand out a set still queued behind
a running one is asked back for an idle slot (the policy is :mod:`ray_slots
<loxo.execution.ray_slots>`, the asking :mod:`ray_takeback
<loxo.execution.ray_takeback>`). Handing a set to a running slot costs a share of one
actor call (the sets placed together go in one, :mod:`ray_handout
<loxo.execution.ray_handout>`), where a Ray task per set waited for a worker lease
between sets (12-16 ms median, 35-45 ms at the 90th percentile with 16 in flight on a
2-core machine). Idle slots stay warm
for the next run for ``slot_idle`` seconds (a downstream pipeline's job starts without
new workers), then end. Each slot's worker
process keeps a Python transform's module imported, one scratch ``/pfs`` and one
long-lived sandbox for all the datums it runs (:mod:`ray_workspace
<loxo.execution.ray_workspace>`), as a local worker does. The pipeline's resources map
to the slot's Ray options (``cpu`` -> ``num_cpus``, ``memory``, ``gpu`` -> ``num_gpus``,
see :mod:`ray_resources <loxo.execution.ray_resources>`), and a set that no live node
can ever satisfy fails its datums at once with the reason instead of waiting forever
(unless ``autoscaling``, or ``LOXO_RAY_AUTOSCALING=1``, says nodes may yet come).

**Streaming.** Workers report to a mailbox actor (:mod:`ray_board
<loxo.execution.ray_board>`): each attempt as it starts (so the driver knows which datum
runs where, and when a Python call's ``datum_timeout`` expires) and each result as it is
final -- in groups that share one pack object and one store sync (:mod:`ray_outbox
<loxo.execution.ray_outbox>`) -- which ``run`` yields at once. At the end of a set its
slot reports all its results: the executor's complete record. The
bookkeeping of runs and sets in flight is :mod:`ray_sets <loxo.execution.ray_sets>`; the
process's connection to Ray and its mailbox actor, :mod:`ray_connection
<loxo.execution.ray_connection>`.

**Failures.** Slots are submitted with ``max_retries=0``; the executor resubmits sets
itself, so that it can count attempts as the local executor does (:mod:`ray_failures
<loxo.execution.ray_failures>`). When a slot's worker or node dies
(``WorkerCrashedError``, ``NodeDiedError``, out of memory, a forced cancel) the datum it
was running loses one attempt (a datum that always kills its worker ends FAILED after
``datum_tries``; a Python call that kills its worker before its report is out is known
from the attempt record the worker left on its node, :mod:`ray_attempts
<loxo.execution.ray_attempts>`), the datums it finished stay finished, and the rest of
the set -- and the set queued behind it, which lost nothing -- go to other slots, which
Ray places on any live node. A datum may thus run twice; its result is reported once,
and tasks are idempotent, so the job's output is exactly a clean run's. A task that dies
three times in a row before running any datum fails the rest of its set; an error of the
worker's environment (loxo missing, a bad ``runtime_env``) fails it at once.

**Control.** ``restart_datum`` kills the running command's process group through the
set's mailbox (the worker stays warm and the next attempt sees the same scratch space);
a running Python call, a Python call past its ``datum_timeout`` and ``cancel`` end the
task with ``ray.cancel(force=True)``, which kills its worker. After a worker dies, a small
task on its node (:func:`ray_worker.reap <loxo.execution.ray_worker.reap>`) kills the
command process group it left behind.

**Workers' environment.** Ray starts workers with its nodes' environment and the
driver's working directory. The executor also adds the driver's own code directories
(``sys.path`` entries outside the Python installation) that exist on a node to its
workers' ``sys.path``, so ``transform.python`` modules found by the driver are found
there on a shared filesystem; elsewhere ship them in the worker image or with a Ray
``runtime_env``. ``forward_env`` names variables whose values in this process at each
``run`` apply to that run's datums (e.g. ``LOXO_SANDBOX``, ``LOXO_SCRATCH``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import ray
from ray.exceptions import RayError

from . import ray_attempts, ray_worker
from .control import RESTARTED
from .executor import Executor, ExecutorClosed
from .ray_connection import ADDRESS_ENV, acquire, code_paths, release, shared_board
from .ray_failures import REPORT_LAG, SlotEnds
from .ray_handout import HandOut, force_cancel
from .ray_sets import InFlight, Run
from .ray_slots import QUEUE, SlotPool, stop_slot
from .ray_takeback import TakeBack
from .task import DatumResult, TaskSet

__all__ = ["ADDRESS_ENV", "AUTOSCALING_ENV", "RayExecutor"]

AUTOSCALING_ENV = "LOXO_RAY_AUTOSCALING"
WAIT = 1.0  # longest sleep of a run's loop (s): how often it looks at deadlines and close()
BOARD_WAIT = 10.0  # how long one long poll of the run's mailbox may wait (s)
LINGER = 0.005  # how long a poll that found reports waits for more (s): one wake-up a burst
GRACE = 3.0  # how long a worker has to obey a cancel or kill before Ray kills it (s)
UNSTARTED_GRACE = 0.5  # how long a cancelled set may take to report its start (s)
SLOT_IDLE = 10.0  # how long an idle slot waits for another set (of any run) before it ends


class RayExecutor(HandOut, SlotEnds, TakeBack, Executor):
    """Datum sets on Ray, in slots (see the module documentation).

    - ``address``: the cluster, for ``ray.init`` (default ``$LOXO_RAY_ADDRESS``; none: a
      private local Ray instance);
    - ``forward_env``: names of variables whose values in this process, read at each
      ``run``, are set (or unset) in the workers for that run's datums;
    - ``runtime_env``: a Ray runtime environment for the job, when this executor connects;
    - ``autoscaling``: whether the cluster may grow (default ``$LOXO_RAY_AUTOSCALING``):
      then a set that no live node can run waits for Ray instead of failing;
    - ``connect_timeout``: seconds to wait for the cluster's address to answer.
    """

    name = "ray"
    supported_fields = frozenset()  # nothing Kubernetes-specific: Ray schedules on resources

    def __init__(
        self,
        address: str | None = None,
        *,
        namespace: str = "loxo",
        forward_env: Iterable[str] = (),
        runtime_env: Mapping[str, Any] | None = None,
        autoscaling: bool | None = None,
        connect_timeout: float = 10.0,
        slot_idle: float = SLOT_IDLE,
    ) -> None:
        self.address = address if address is not None else os.environ.get(ADDRESS_ENV) or None
        self.namespace = namespace
        self.forward_env = tuple(forward_env)
        self.runtime_env = dict(runtime_env) if runtime_env is not None else None
        if autoscaling is None:
            autoscaling = os.environ.get(AUTOSCALING_ENV, "").lower() in ("1", "true", "yes")
        self.autoscaling = autoscaling
        self.connect_timeout = connect_timeout
        self._id = uuid.uuid4().hex[:12]
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._reported = threading.Condition(self._lock)  # notified as reports arrive
        self._runs: set[Run] = set()
        self._closed = False
        self._board: Any = None
        self._run_slot: Any = None
        self._slots = SlotPool(self._lock, self._id, slot_idle)  # warm across runs
        self._reap: Any = None
        self._read_record: Any = None
        self._init_handout()

    # --- API -----------------------------------------------------------------------------

    def run(self, sets: Iterable[TaskSet], *, parallelism: int = 1) -> Iterator[DatumResult]:
        if self._closed:
            raise ExecutorClosed("the Ray executor is closed")
        run = Run(
            f"loxo-{self._id}-{next(self._seq)}",
            {name: os.environ.get(name) for name in self.forward_env},
            code_paths(),
            parallelism=max(1, parallelism),
        )
        with self._lock:
            self._runs.add(run)
            wanted = sum(r.parallelism for r in self._runs)
        if self._board is not None:  # warm slots of earlier runs beyond what runs need
            self._slots.trim(self._board, keep=wanted)
        it = iter(sets)
        exhausted = False
        try:
            while True:
                if self._closed:
                    raise ExecutorClosed("the Ray executor was closed")
                results: list[DatumResult] = []
                while not exhausted and len(run.sets) < QUEUE * run.parallelism:
                    ts = next(it, None)
                    if ts is None:
                        exhausted = True
                    elif ts.datums and ts.job_id not in run.cancelled_jobs:
                        results += self._start(run, ts)
                self._send()
                if run.sets:
                    results += self._wait(run)
                    if exhausted:
                        self._rebalance(run)
                for r in results:
                    if r.job_id not in run.cancelled_jobs:  # may predate a cancel
                        yield r
                if exhausted and not run.sets:
                    return
        finally:
            self._end_run(run)

    def cancel(self, job_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            started, queued = [], []
            for run in self._runs:
                run.cancelled_jobs.add(job_id)
                for s in run.sets.values():
                    if s.ts.job_id == job_id and not s.cancelled:
                        s.cancelled = True
                        if s.pid:  # running: the worker stops it and stays warm
                            s.escalate_at = now + GRACE
                            started.append(s)
                        elif s.slot is not None and s.slot.sets[:1] != [s]:
                            queued.append(s)  # behind another set: see _take_back
                        else:  # told when it reports its start; else dropped from Ray's queue
                            s.escalate_at = now + UNSTARTED_GRACE
        for s in started:
            self._tell(s, ("cancel",))
        for s in queued:  # waiting behind another set: take it back (killing the slot
            self._take_back(s)  # would kill that set too)

    def restart_datum(self, job_id: str, datum_id: str) -> bool:
        deadline = time.monotonic() + REPORT_LAG
        with self._lock:
            while True:
                target = self._running(job_id, datum_id)
                left = deadline - time.monotonic()
                if target is not None or left <= 0 or not self._next_up(job_id, datum_id):
                    break
                self._reported.wait(left)  # its attempt may be on its way to us
            if target is None:
                return False
            if target.python:  # the worker will kill itself
                target.kill_reason = RESTARTED
                target.escalate_at = time.monotonic() + GRACE
        self._tell(target, ("restart", datum_id))
        return True

    def _running(self, job_id: str, datum_id: str) -> InFlight | None:
        """The set whose worker reported it runs ``datum_id`` (and may be told)."""
        for run in self._runs:
            for s in run.sets.values():
                mine = s.ts.job_id == job_id and s.datum == datum_id
                if mine and not (s.cancelled or s.kill_reason):
                    return s
        return None

    def _next_up(self, job_id: str, datum_id: str) -> bool:
        """Whether ``datum_id`` is the next datum of a set in flight (so it may be running
        without our having its report yet)."""
        for run in self._runs:
            for s in run.sets.values():
                if s.ts.job_id != job_id or s.cancelled or datum_id in s.done:
                    continue
                order = [t.datum_id for t in s.ts.datums]
                if datum_id in order:
                    current = order.index(s.datum) if s.datum in order else -1
                    return order.index(datum_id) == current + 1
        return False

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for run in self._runs:
                for s in run.sets.values():
                    s.cancelled = True
            busy = bool(self._runs)
        running, idle = self._slots.split()
        for slot in running:
            force_cancel(slot.ref)
        if self._board is not None:
            for slot in idle:
                stop_slot(self._board, slot)
            release(self, shutdown=not busy)

    def _tell(self, s: InFlight, message: tuple[Any, ...]) -> None:
        """Send ``message`` to the worker running ``s``'s current task (once it reported)."""
        kind, *rest = message
        with contextlib.suppress(Exception):
            self._board.put.remote(ray_worker.control_key(s.node, s.pid), (kind, s.key, *rest))

    def node_ids(self) -> list[str]:
        """The IDs of the live nodes of the cluster (connecting if needed)."""
        self._connect()
        return [n["NodeID"] for n in ray.nodes() if n.get("Alive")]

    # --- starting sets -------------------------------------------------------------------

    def _connect(self) -> None:
        with self._lock:
            if self._closed:
                raise ExecutorClosed("the Ray executor is closed")
            if self._board is not None:
                return
            acquire(self)
            self._run_slot = ray.remote(ray_worker.run_slot)
            self._reap = ray.remote(ray_worker.reap)
            self._read_record = ray.remote(ray_attempts.read_record)
            self._board = shared_board()

    # --- waiting -------------------------------------------------------------------------

    def _wait(self, run: Run) -> list[DatumResult]:
        """Wait for reports or ended tasks (at most :data:`WAIT`); the results they bring."""
        if run.poll is None:
            run.poll = self._board.take.remote(run.key, BOARD_WAIT, LINGER)
        with self._lock:
            slots = {s.slot.ref: s.slot for s in run.sets.values() if s.slot is not None}
        waitables = [run.poll, *slots]
        ready, _ = ray.wait(waitables, num_returns=1, timeout=self._wait_time(run))
        if ready:
            ready, _ = ray.wait(waitables, num_returns=len(waitables), timeout=0)
        results: list[DatumResult] = []
        if run.poll in ready:
            results += self._on_reports(run, self._take_reports(run))
        for ref in ready:
            slot = slots.get(ref)
            if slot is not None:
                results += self._on_slot_end(run, slot)
        self._enforce_deadlines(run)
        self._send()  # the sets it handed out meanwhile
        return results

    def _wait_time(self, run: Run) -> float:
        deadlines = [
            t for s in run.sets.values() for t in (s.deadline, s.escalate_at) if t is not None
        ]
        if not deadlines:
            return WAIT
        return max(0.0, min(WAIT, min(deadlines) - time.monotonic()))

    def _take_reports(self, run: Run) -> list[tuple[Any, ...]]:
        poll, run.poll = run.poll, None
        try:
            return list(ray.get(poll))
        except RayError:
            if self._closed:
                raise ExecutorClosed("the Ray executor was closed") from None
            # the board died with its node: carry on with a new one; the slots reading the
            # old one end, and the datums of theirs not reported run again
            with self._lock:
                self._board = shared_board(dead=self._board)
            return []

    def _on_reports(self, run: Run, reports: list[tuple[Any, ...]]) -> list[DatumResult]:
        results: list[DatumResult] = []
        tell: list[InFlight] = []
        finished: list[InFlight] = []
        withdrawn: list[InFlight] = []
        now = time.monotonic()
        with self._lock:
            for key, kind, *rest in reports:
                s = run.sets.get(key)
                if s is None:  # from a task that has ended: its return value counted
                    continue
                if kind == "slot":  # where the slot's worker runs (before its first set)
                    if s.slot is not None and s.slot.key == rest[0]:
                        s.slot.node, s.slot.pid = rest[1], rest[2]
                elif kind == "attempt":
                    if s.cancelled and not s.pid:  # cancelled before it reported its start
                        s.escalate_at = now + GRACE
                        tell.append(s)
                    s.datum, s.attempt, s.node, s.pid, s.python, timeout, s.logs = rest
                    s.progressed, s.withdrawing = True, False  # (it started: not given back)
                    s.timeout = timeout or 0.0
                    s.deadline = now + timeout if s.python and timeout is not None else None
                elif kind == "withdrawn":  # its slot gave it back unstarted (_rebalance)
                    withdrawn.append(s)
                elif kind == "attempt_end":
                    s.python, s.deadline = False, None
                    s.clear_kill()  # the call returned before the worker got the kill
                elif kind in ("results", "set_done"):
                    s.progressed = True
                    for r in rest[0]:
                        if s.datum == r.datum_id:
                            s.datum, s.python, s.deadline = None, False, None
                            s.clear_kill()
                        if r.datum_id not in s.done and not s.cancelled:
                            s.done.add(r.datum_id)
                            results.append(r)
                    if kind == "set_done":  # the slot goes on with its next set, if any
                        run.sets.pop(key, None)
                        if s.slot is not None and s in s.slot.sets:
                            s.slot.sets.remove(s)
                        finished.append(s)
            self._reported.notify_all()
        for s in tell:
            self._tell(s, ("cancel",))
        for s in withdrawn:
            results += self._on_withdrawn(s)
        for s in finished:
            if not s.cancelled and s.remaining():  # only if the worker was interrupted
                results += self._resubmit(s, "the Ray task ended early")
        return results

    def _enforce_deadlines(self, run: Run) -> None:
        """Python calls past their timeout: the worker kills itself (or Ray kills it, if it
        does not within :data:`GRACE`)."""
        now = time.monotonic()
        expired, stuck = [], []
        with self._lock:
            for s in run.sets.values():
                if s.deadline is not None and now >= s.deadline and not s.kill_reason:
                    s.kill_reason, s.deadline = f"timed out after {s.timeout:g}s", None
                    s.escalate_at = now + GRACE
                    expired.append((s, s.datum))
                elif s.escalate_at is not None and now >= s.escalate_at:
                    s.escalate_at = None
                    stuck.append(s.ref)
        for s, datum in expired:
            self._tell(s, ("kill", datum))
        for ref in stuck:
            force_cancel(ref)

    def _end_run(self, run: Run) -> None:
        with self._lock:
            self._runs.discard(run)
            busy = list({s.slot.key: s.slot.ref for s in run.sets.values() if s.slot}.values())
            for s in run.sets.values():
                s.cancelled = True
            closed = self._closed
        for ref in busy:  # the consumer stopped early: stop what is still running
            force_cancel(ref)
        if closed or self._board is None:
            return
        # idle slots stay warm for the next run, for ``slot_idle`` seconds at most
        with contextlib.suppress(Exception):
            self._board.drop.remote(run.key)
