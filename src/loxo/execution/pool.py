"""The local executor's bookkeeping: worker handles, sets in flight, lost attempts.

Plain state owned by the :class:`~loxo.execution.local.LocalExecutor` dispatcher thread
(nothing here is thread-safe), plus the two decisions that do not depend on the
dispatcher: how a worker process is started (:func:`start_worker`, never with ``fork``) and
what becomes of a datum whose worker died under it (:func:`lose_attempt`).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from loxo.errors import InvalidArgumentError, PreconditionError

from . import worker as worker_module
from .runtime import Resume
from .task import DatumResult, DatumState, LogLine, TaskSet

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


@dataclass(eq=False)
class SetJob:
    """A set queued or running; ``ts.datums`` shrinks to the unfinished ones on requeue."""

    run: RunState
    ts: TaskSet
    resumes: dict[str, Resume] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    deaths: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False
    finished: bool = False

    def finish(self) -> None:
        """Tell the run this set is over (once)."""
        if not self.finished:
            self.finished = True
            self.run.results.put(SET_DONE)


@dataclass(eq=False)
class WorkerHandle:
    """A worker process as the dispatcher sees it, with what it last reported."""

    proc: BaseProcess
    conn: Connection
    ctrl: Connection
    sj: SetJob | None = None
    seq: int = -1
    datum: str | None = None
    attempt: int = 0
    python: bool = False  # a Python call may be running (only killing the worker stops it)
    deadline: float | None = None
    timeout: float = 0.0
    pgid: int | None = None
    logs: list[LogLine] = field(default_factory=list)
    ready: bool = False

    def start_datum(self, datum_id: str | None, resume: Resume | None) -> None:
        """``datum_id`` starts (None: none runs); until the worker says otherwise, it is at
        its first attempt here, with the logs it was resumed with."""
        self.datum, self.python, self.deadline, self.pgid = datum_id, False, None, None
        self.attempt = resume.attempts + 1 if resume else 1
        self.logs = list(resume.logs) if resume else []


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


def start_worker(ctx: Any) -> WorkerHandle:
    """Start one worker with this process's environment, ``sys.path`` and cwd."""
    conn, child_conn = ctx.Pipe(duplex=True)
    ctrl_r, ctrl_w = ctx.Pipe(duplex=False)
    setup = worker_module.WorkerSetup(dict(os.environ), list(sys.path), os.getcwd())
    proc = ctx.Process(
        target=worker_module.main,
        args=(child_conn, ctrl_r, setup),
        name="loxo-worker",
        daemon=True,
    )
    proc.start()
    child_conn.close()
    ctrl_r.close()
    return WorkerHandle(proc, conn, ctrl_w)


def lose_attempt(sj: SetJob, w: WorkerHandle, why: str) -> DatumResult | None:
    """The running attempt of ``w.datum`` died with its worker: it counts as failed.

    Returns the datum's final FAILED result when no attempt is left (nor an ``err_cmd``
    worth another try); otherwise records where it stands in ``sj.resumes``.
    """
    assert w.datum is not None
    tries = max(1, sj.ts.datum_tries)
    prior = sj.resumes[w.datum].attempts if w.datum in sj.resumes else 0
    attempts = max(w.attempt, prior + 1)
    deaths = sj.deaths[w.datum] = sj.deaths.get(w.datum, 0) + 1
    logs = [
        *w.logs,
        LogLine(time.time(), "system", f"attempt {attempts} of {tries} failed: {why}"),
    ]
    if attempts < tries or (sj.ts.transform.err_cmd and deaths <= tries):
        sj.resumes[w.datum] = Resume(attempts, why, tuple(logs))
        return None
    now = time.time()
    sj.done.add(w.datum)
    return DatumResult(
        sj.ts.job_id,
        w.datum,
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
