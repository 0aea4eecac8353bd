"""The local executor's bookkeeping: worker handles, sets in flight, lost attempts.

Plain state owned by the :class:`~loxo.execution.local.LocalExecutor` dispatcher thread
(nothing here is thread-safe), plus the two decisions that do not depend on the
dispatcher: how a worker process is started (:func:`start_worker`: never with ``fork``, and
for sets of commands inside its own sandbox where it can) and
what becomes of a datum whose worker died under it (:func:`lose_attempt`).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import time
from collections import deque
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from loxo.errors import InvalidArgumentError, PreconditionError

from . import sandbox_worker
from . import worker as worker_module
from .lifeline import this_process
from .runtime import Resume
from .sandbox_worker import SandboxedProcess
from .task import DatumResult, DatumState, DatumTask, LogLine, TaskSet
from .worker_slot import WorkerSlot

SET_DONE = object()  # in a run's queue: one of its sets is finished


class WorkerStartError(PreconditionError):
    def __init__(self, why: str) -> None:
        super().__init__(
            f"a local worker process failed to start ({why}); see its traceback above. If "
            "your program's main module starts loxo work when imported, guard that code "
            "with `if __name__ == '__main__':` (workers import the main module)"
        )


@dataclass(eq=False)
class RunState:
    """One ``run()`` call: where its results go, which of its jobs were cancelled, and how
    many of its sets may run at once."""

    results: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    cancelled_jobs: set[str] = field(default_factory=set)
    parallelism: int = 1
    exhausted: bool = False  # every set of the run has been submitted


@dataclass(eq=False)
class SetJob:
    """A set queued or running; ``ts.datums`` shrinks to the unfinished ones on requeue.
    A set may be cut into pieces (:meth:`split`), which the run counts as one set."""

    run: RunState
    ts: TaskSet
    resumes: dict[str, Resume] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    deaths: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False
    finished: bool = False
    pieces: list[int] | None = None  # shared by the pieces of one set: how many are not over

    def finish(self) -> None:
        """Tell the run this set is over (once; of a set in pieces, when the last is)."""
        if self.finished:
            return
        self.finished = True
        if self.pieces is not None:
            self.pieces[0] -= 1
            if self.pieces[0]:
                return
        self.run.results.put(SET_DONE)

    def split(self, take: int) -> SetJob:
        """The first ``take`` datums, as a piece of this set; this one keeps the rest."""
        if self.pieces is None:
            self.pieces = [1]
        self.pieces[0] += 1
        head, rest = self.ts.datums[:take], self.ts.datums[take:]
        self.ts = replace(self.ts, datums=rest)
        return SetJob(
            self.run, replace(self.ts, datums=head), self.resumes, self.done, self.deaths,
            pieces=self.pieces,
        )  # fmt: skip


@dataclass(eq=False)
class WorkerHandle:
    """A worker process as the dispatcher sees it: its set, and what it said of attempts.

    Which datum it runs is in its :class:`~loxo.execution.worker_slot.WorkerSlot`, read at
    need (:meth:`datum`); it sends messages only about attempts the parent cannot infer
    (a datum's first attempt here is the one after its resume's, with the resume's logs)."""

    proc: BaseProcess | SandboxedProcess
    conn: Connection
    ctrl: Connection
    slot: WorkerSlot
    sj: SetJob | None = None  # the set it runs
    seq: int = -1
    # sets whose datums have all run ("idle"), oldest first, until their results are in
    # ("done"): a worker runs its next set while the last one's outputs are made durable
    closing: deque[SetJob] = field(default_factory=deque)
    sent: tuple[DatumTask, ...] = ()  # the datums of the set as sent (the slot indexes them)
    attempt_of: str | None = None  # the datum the last "attempt" message was about
    attempt: int = 0
    logs: list[LogLine] = field(default_factory=list)
    returned: str | None = None  # the datum whose Python call has returned ("attempt_end")
    deadline: float | None = None
    timeout: float = 0.0
    ready: bool = False
    kind: sandbox_worker.Kind | None = None  # inside its own sandbox: what for (see kind)

    def assign(self, sj: SetJob | None, seq: int = -1) -> None:
        """``sj`` is sent to this worker as set ``seq`` (None: the worker is idle)."""
        self.sj, self.seq = sj, seq
        self.sent = sj.ts.datums if sj is not None else ()
        self.attempt_of = self.returned = None
        self.deadline = None

    @property
    def sandboxed(self) -> bool:
        """Whether it runs inside its own sandbox."""
        return isinstance(self.proc, SandboxedProcess)

    def datum(self) -> str | None:
        """The datum of its set that it runs now, as far as the parent knows (None once
        that datum's result has arrived)."""
        if self.sj is None:
            return None
        index = self.slot.datum_index(self.seq)
        if index is None or index >= len(self.sent):
            return None
        datum_id = self.sent[index].datum_id
        return None if datum_id in self.sj.done else datum_id

    def python(self) -> bool:
        """Whether a Python call may be running (only killing the worker stops it): from
        the start of each datum of a Python set until its call returned."""
        if self.sj is None or not self.sj.ts.transform.python:
            return False
        datum = self.datum()
        return datum is not None and datum != self.returned

    def attempt_logs(self, datum_id: str) -> tuple[int, list[LogLine]]:
        """The attempt ``datum_id`` is at here, and its logs before that attempt."""
        if datum_id == self.attempt_of:
            return self.attempt, self.logs
        assert self.sj is not None
        resume = self.sj.resumes.get(datum_id)
        return (resume.attempts + 1, list(resume.logs)) if resume else (1, [])


def mp_context(start_method: str | None) -> Any:
    """The multiprocessing context for workers: forkserver, else spawn; never fork."""
    methods = multiprocessing.get_all_start_methods()
    method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
    if method == "fork":
        raise InvalidArgumentError(
            "the local executor does not use 'fork' (the parent holds threads and database "
            "connections); use 'forkserver' or 'spawn'"
        )
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload([worker_module.__name__])
    return ctx


def start_worker(ctx: Any, kind: sandbox_worker.Kind | None = None) -> WorkerHandle:
    """Start one worker with this process's environment, ``sys.path`` and cwd: from
    ``ctx``, or under bubblewrap for sets of ``kind`` (:mod:`~loxo.execution.
    sandbox_worker`)."""
    setup = worker_module.WorkerSetup(dict(os.environ), list(sys.path), os.getcwd())
    if kind is not None:
        sproc, sconn, sctrl, sslot = sandbox_worker.start(setup, kind)
        return WorkerHandle(sproc, sconn, sctrl, sslot, kind=kind)
    conn, child_conn = ctx.Pipe(duplex=True)
    ctrl_r, ctrl_w = ctx.Pipe(duplex=False)
    slot = WorkerSlot(ctx)
    proc = ctx.Process(
        target=worker_module.main,
        args=(child_conn, ctrl_r, slot, replace(setup, owner=this_process())),
        name="loxo-worker",
        daemon=True,
    )
    proc.start()
    child_conn.close()
    ctrl_r.close()
    return WorkerHandle(proc, conn, ctrl_w, slot)


def lose_attempt(sj: SetJob, w: WorkerHandle, datum_id: str, why: str) -> DatumResult | None:
    """The running attempt of ``datum_id`` died with its worker ``w``: it counts as failed.

    Returns the datum's final FAILED result when no attempt is left (nor an ``err_cmd``
    worth another try); otherwise records where it stands in ``sj.resumes``.
    """
    tries = max(1, sj.ts.datum_tries)
    prior = sj.resumes[datum_id].attempts if datum_id in sj.resumes else 0
    attempt, prior_logs = w.attempt_logs(datum_id)
    attempts = max(attempt, prior + 1)
    deaths = sj.deaths[datum_id] = sj.deaths.get(datum_id, 0) + 1
    logs = [
        *prior_logs,
        LogLine(time.time(), "system", f"attempt {attempts} of {tries} failed: {why}"),
    ]
    if attempts < tries or (sj.ts.transform.err_cmd and deaths <= tries):
        sj.resumes[datum_id] = Resume(attempts, why, tuple(logs))
        return None
    now = time.time()
    sj.done.add(datum_id)
    return DatumResult(
        sj.ts.job_id,
        datum_id,
        DatumState.FAILED,
        attempts=attempts,
        started=now,
        finished=now,
        error=why,
        logs=logs,
    )


def check_store(url: str) -> None:
    if url.startswith("memory://"):
        raise InvalidArgumentError(
            f"the local executor's workers cannot share the in-process store {url!r}; "
            "use a directory or S3 store (or the inline executor)"
        )
