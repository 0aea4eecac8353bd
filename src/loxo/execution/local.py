"""The local executor: a pool of warm worker processes on this machine.

Workers (:mod:`~loxo.execution.worker`) start on demand, up to ``workers`` when given;
by default up to the CPU count or the largest ``parallelism`` of the ``run`` calls in
progress, whichever is more (a pipeline's parallelism is a number of workers, as in
Pachyderm: datums that sleep or wait on I/O gain from more workers than cores), from a
``forkserver`` (``spawn`` where there is none; never ``fork``, since the
parent may hold SQLite connections and threads), and live until :meth:`close`, reused
across sets, jobs and ``run`` calls. Sets of commands go to workers that run inside
their own bubblewrap sandbox where the sandbox is used (:mod:`~loxo.execution.
sandbox_worker`), Python sets to workers outside; when the pool is full, an idle worker
of the other kind makes room.

One dispatcher thread owns the pool and all its state. API calls hand it closures to run
(:meth:`LocalExecutor._call`); it waits on the workers' pipes, their process sentinels and
a wake-up pipe at once, so it reacts at the moment a worker reports or dies:

- ``run`` keeps ``parallelism`` sets running and :data:`AHEAD` more queued (so a worker
  that finishes a set starts the next at once, without a round trip to the caller) and
  yields each ``DatumResult`` as its worker reports it. A worker is free for its next
  set once every datum of its set has run ("idle"), while the set's outputs are still
  being made durable; the set counts as running for ``run`` until its results are in
  ("done"). At a run's tail (every set submitted, one left in the queue) a free worker
  takes a ``1 / parallelism`` share of that last set and leaves the rest queued, so the
  run's workers end together rather than one set apart;
- a worker that dies mid-set (killed, crashed, out of memory) is replaced
  (:mod:`~loxo.execution.local_ends`); the process group of its running command is
  killed, the datum it was running counts one failed attempt (so a datum that always
  kills its worker ends FAILED), and the set's unfinished datums go back to the front of
  the queue. A datum may thus run twice; its
  result is keyed by ``(job_id, datum_id)``;
- Python calls run inside the worker, so their ``datum_timeout``, ``restart_datum`` and
  ``cancel`` kill the worker (then handled as above); commands are killed by the worker's
  control thread and the worker stays warm;
- ``cancel(job_id)`` drops the job's queued sets and stops its running ones in every
  ``run`` in progress; nothing of the job is yielded after it returns.

``close()`` stops every worker (killing the busy ones and their process groups) and ends
the dispatcher; no process is left behind. Executors still open at interpreter exit are
closed then.

As with any ``spawn``/``forkserver`` pool, each worker imports the program's main module
(as ``__mp_main__``) before it starts: a script that runs pipelines must keep that code
under ``if __name__ == "__main__":``. A worker that dies before it is ready fails the
waiting sets with :class:`WorkerStartError` instead of being restarted forever.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import os
import queue
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

from loxo.errors import InvalidArgumentError

from . import sandbox_worker
from .control import CANCELLED, RESTARTED
from .executor import Executor, ExecutorClosed
from .local_ends import WorkerEnds
from .pool import (
    SET_DONE,
    RunState,
    SetJob,
    WorkerHandle,
    WorkerStartError,
    check_store,
    mp_context,
    start_worker,
)
from .task import DatumResult, TaskSet

__all__ = ["LocalExecutor", "WorkerStartError"]

T = TypeVar("T")
AHEAD = 2  # sets a run keeps queued beyond the ``parallelism`` it runs


class LocalExecutor(WorkerEnds, Executor):
    name = "local"

    def __init__(self, workers: int | None = None, *, start_method: str | None = None) -> None:
        if workers is not None and workers < 1:
            raise InvalidArgumentError(f"workers must be at least 1, not {workers}")
        self.max_workers = workers or os.cpu_count() or 1
        self._fixed = workers is not None  # else a run's parallelism may raise the limit
        self._ctx = mp_context(start_method)
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = (
            queue.SimpleQueue()
        )
        self._wake_r, self._wake_w = os.pipe()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = False
        # dispatcher-owned state
        self._workers: list[WorkerHandle] = []
        self._queue: deque[SetJob] = deque()
        self._runs: set[RunState] = set()
        self._seq = itertools.count()
        _open_executors.add(self)

    # --- API (any thread) ----------------------------------------------------------------

    def run(self, sets: Iterable[TaskSet], *, parallelism: int = 1) -> Iterator[DatumResult]:
        run = RunState(parallelism=max(1, parallelism))
        self._call(functools.partial(self._runs.add, run))
        it = iter(sets)
        outstanding, exhausted = 0, False
        try:
            while True:
                while not exhausted and outstanding < run.parallelism + AHEAD:
                    ts = next(it, None)
                    if ts is None:
                        exhausted = run.exhausted = True  # (the dispatcher reads it)
                    elif ts.datums and ts.job_id not in run.cancelled_jobs:
                        check_store(ts.store_url)
                        self._call(functools.partial(self._submit, SetJob(run, ts)))
                        outstanding += 1
                if outstanding == 0:
                    return
                item = run.results.get()
                if item is SET_DONE:
                    outstanding -= 1
                elif isinstance(item, BaseException):
                    raise item
                elif isinstance(item, list):
                    for r in item:
                        if r.job_id not in run.cancelled_jobs:  # may predate a cancel
                            yield r
                elif item.job_id not in run.cancelled_jobs:
                    yield item
        finally:
            with contextlib.suppress(ExecutorClosed):
                self._call(functools.partial(self._end_run, run))

    def cancel(self, job_id: str) -> None:
        if self._thread is None:
            return
        with contextlib.suppress(ExecutorClosed):
            self._call(functools.partial(self._cancel_job, job_id))

    def restart_datum(self, job_id: str, datum_id: str) -> bool:
        if self._thread is None:
            return False
        try:
            return self._call(functools.partial(self._restart, job_id, datum_id))
        except ExecutorClosed:
            return False

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._commands.put((self._begin_stop, Future()))
            self._wake()
            thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def worker_pids(self) -> list[int]:
        """The pids of the live workers (for tests and diagnostics)."""
        if self._thread is None:
            return []
        return self._call(lambda: [w.proc.pid for w in self._workers if w.proc.pid])

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the dispatcher thread (started on first use); return its result."""
        with self._lock:
            if self._closed:
                raise ExecutorClosed("the local executor is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._dispatch, name="loxo-local-executor", daemon=True
                )
                self._thread.start()
            fut: Future[T] = Future()
            self._commands.put((fn, fut))
        self._wake()
        return fut.result()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")

    # --- dispatcher thread ---------------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            while not (self._stopping and not self._workers):
                self._run_commands()
                if self._stopping:
                    self._stop_workers()
                    continue
                self._assign()
                self._poll(self._next_deadline())
                self._enforce_deadlines()
        except BaseException as e:  # a bug here must not leave runs waiting forever
            for run in self._runs:
                run.results.put(e)
            for w in list(self._workers):
                self._kill(w)
            raise
        finally:
            self._fail_commands()
            for run in self._runs:
                run.results.put(ExecutorClosed("the local executor was closed"))

    def _run_commands(self) -> None:
        while True:
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                fut.set_result(fn())
            except Exception as e:
                fut.set_exception(e)

    def _fail_commands(self) -> None:
        while True:
            try:
                _, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            fut.set_exception(ExecutorClosed("the local executor is closed"))

    def _poll(self, timeout: float | None) -> None:
        by_conn = {w.conn: w for w in self._workers}
        by_sentinel = {w.proc.sentinel: w for w in self._workers}
        ready = wait([self._wake_r, *by_conn, *by_sentinel], timeout)
        if self._wake_r in ready:
            os.read(self._wake_r, 65536)
        for obj in ready:
            if isinstance(obj, Connection) and obj in by_conn:
                w = by_conn[obj]
                if w in self._workers and not self._drain(w):
                    self._on_death(w, None)
        for obj in ready:
            w2 = by_sentinel.get(obj) if isinstance(obj, int) else None
            if w2 is not None and w2 in self._workers:
                self._drain(w2)
                self._on_death(w2, None)

    def _drain(self, w: WorkerHandle) -> bool:
        """Handle every message waiting from ``w``; False once its pipe is closed."""
        try:
            while w.conn.poll():
                self._on_message(w, w.conn.recv())
        except (EOFError, OSError):
            return False
        return True

    def _on_message(self, w: WorkerHandle, msg: tuple[Any, ...]) -> None:
        kind, sj = msg[0], w.sj
        if kind == "ready":
            w.ready = True
        elif kind == "results":  # in order: those of the oldest set not done yet
            sj = w.closing[0] if w.closing else w.sj
        elif kind == "done":
            if w.closing:
                w.closing.popleft().finish()
            return
        if sj is None:
            return
        if kind == "attempt":
            _, w.attempt_of, w.attempt, python, timeout, w.logs = msg
            w.returned = None
            if python and timeout is not None:
                w.timeout, w.deadline = timeout, time.monotonic() + timeout
        elif kind == "attempt_end":
            w.returned, w.deadline = msg[1], None
        elif kind == "results":
            results: list[DatumResult] = msg[1]
            for result in results:
                sj.done.add(result.datum_id)
            if not sj.cancelled:
                sj.run.results.put(results)
        elif kind == "idle":  # every datum ran: free for the next set, results to come
            w.closing.append(sj)
            w.assign(None)

    def _submit(self, sj: SetJob) -> None:
        if sj.ts.job_id in sj.run.cancelled_jobs:
            sj.finish()
        else:
            self._queue.append(sj)

    def _assign(self) -> None:
        while (sj := self._eligible()) is not None:
            kind = sandbox_worker.kind(sj.ts)
            idle = [w for w in self._workers if w.sj is None]
            w = next((w for w in idle if w.kind == kind), None)
            if w is None:
                if len(self._workers) >= self._worker_limit():
                    if not idle:
                        return
                    # of the other kind: make room for one of this (one with no results
                    # on the way, if there is one)
                    self._retire(min(idle, key=lambda w: len(w.closing)))
                try:
                    w = start_worker(self._ctx, kind)
                except Exception as e:
                    self._queue.remove(sj)
                    sj.run.results.put(e)
                    sj.finish()
                    continue
                self._workers.append(w)
            share = self._share_of(sj)
            if share is sj:
                self._queue.remove(sj)
            sj = share
            w.assign(sj, next(self._seq))
            try:
                w.conn.send(("set", w.seq, sj.ts, sj.resumes))
            except OSError:
                self._on_death(w, None)

    def _share_of(self, sj: SetJob) -> SetJob:
        """What of ``sj`` a worker takes: at the tail of a run (every set submitted, this
        the last one queued) a ``1 / parallelism`` share, the rest staying queued for the
        next worker free, so that the run's workers end together, not one set apart."""
        run, n = sj.run, len(sj.ts.datums)
        share = -(-n // run.parallelism)
        if not run.exhausted or share >= n or any(q.run is run for q in self._queue if q is not sj):
            return sj
        return sj.split(share)

    def _eligible(self) -> SetJob | None:
        """The first queued set whose run has fewer than ``parallelism`` sets running."""
        running = Counter(w.sj.run for w in self._workers if w.sj is not None)
        return next((sj for sj in self._queue if running[sj.run] < sj.run.parallelism), None)

    def _worker_limit(self) -> int:
        if self._fixed:
            return self.max_workers
        return max([self.max_workers, *(run.parallelism for run in self._runs)])

    def _next_deadline(self) -> float | None:
        deadlines = [w.deadline for w in self._workers if w.deadline is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            expired = w.deadline is not None and now >= w.deadline and w in self._workers
            # messages already sent (the call returned in time) win over the deadline
            if expired and self._drain(w) and w.deadline is not None:
                self._kill(w, f"timed out after {w.timeout:g}s")

    def _restart(self, job_id: str, datum_id: str) -> bool:
        for w in self._workers:
            if w.sj is not None and w.sj.ts.job_id == job_id and w.datum() == datum_id:
                if w.python():
                    self._kill(w, RESTARTED)
                else:
                    with contextlib.suppress(OSError):
                        w.ctrl.send(("restart", w.seq, datum_id))
                return True
        return False

    def _cancel_job(self, job_id: str) -> None:
        for run in self._runs:
            run.cancelled_jobs.add(job_id)
        self._cancel_where(lambda sj: sj.ts.job_id == job_id)

    def _end_run(self, run: RunState) -> None:
        self._runs.discard(run)
        self._cancel_where(lambda sj: sj.run is run)

    def _cancel_where(self, match: Callable[[SetJob], bool]) -> None:
        for queued in [sj for sj in self._queue if match(sj)]:
            self._queue.remove(queued)
            queued.cancelled = True
            queued.finish()
        for w in list(self._workers):
            for closing in w.closing:  # all ran: nothing to stop, nothing more to report
                if match(closing) and not closing.cancelled:
                    closing.cancelled = True
                    closing.finish()
            sj = w.sj
            if sj is None or sj.cancelled or not match(sj):
                continue
            sj.cancelled = True
            sj.finish()
            if w.python():
                self._kill(w, CANCELLED)
            else:
                with contextlib.suppress(OSError):
                    w.ctrl.send(("cancel", w.seq))


_open_executors: weakref.WeakSet[LocalExecutor] = weakref.WeakSet()


@atexit.register
def _close_forgotten() -> None:
    """At interpreter exit, stop the workers (and their commands) of unclosed executors."""
    for executor in list(_open_executors):
        executor.close()
