"""How the local executor's workers end: killed, dead, stopped, retired.

Mixed into :class:`~loxo.execution.local.LocalExecutor` (:class:`WorkerEnds`), whose
dispatcher-owned state it shares (and which runs it on the dispatcher thread only):

- a worker that dies (killed for a timeout, a restart or a cancel; crashed; out of
  memory) is forgotten and its command's process group killed; the datum it was running
  counts one failed attempt (:func:`~loxo.execution.pool.lose_attempt`), and the unfinished
  datums of its set go back to the front of the queue. A worker that dies before it was
  ready fails every waiting set with :class:`~loxo.execution.pool.WorkerStartError`
  instead, so a broken setup is not restarted forever;
- at ``close()`` busy workers are killed and idle ones told to stop, then reaped (killed
  after :data:`STOP_GRACE` seconds); an idle worker of the other kind is retired the same
  way to make room in a full pool.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import deque
from dataclasses import replace

from .control import kill_group
from .executor import ExecutorClosed
from .pool import RunState, SetJob, WorkerHandle, WorkerStartError, lose_attempt
from .runcmd import describe_exit

__all__ = ["STOP_GRACE", "WorkerEnds"]

STOP_GRACE = 3.0  # seconds an idle worker gets to exit at close() before it is killed


class WorkerEnds:
    """The local executor's handling of ending workers (see the module documentation)."""

    # the executor's dispatcher-owned state this relies on
    _workers: list[WorkerHandle]
    _queue: deque[SetJob]
    _runs: set[RunState]
    _stopping: bool

    def _drain(self, w: WorkerHandle) -> bool:
        raise NotImplementedError

    def _kill(self, w: WorkerHandle, reason: str | None = None) -> None:
        """SIGKILL a worker and its command's process group; handle it as dead."""
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.kill(w.proc.pid or 0, signal.SIGKILL)
        w.proc.join(5)
        self._drain(w)
        self._on_death(w, reason)

    def _on_death(self, w: WorkerHandle, reason: str | None) -> None:
        """Replace a dead worker: requeue its set's unfinished datums."""
        if w not in self._workers:
            return
        self._workers.remove(w)
        pgid = w.slot.pgid()
        if pgid is not None:
            kill_group(pgid)
        w.proc.join(5)
        code = w.proc.exitcode
        for c in (w.conn, w.ctrl):
            c.close()
        with contextlib.suppress(ValueError):
            w.proc.close()
        sj = w.sj
        if not w.ready and reason is None:
            self._fail_queued(WorkerStartError(describe_exit(code or 0) or "it exited"), sj)
            return
        if sj is not None and not sj.cancelled:
            datum = w.datum()
            if datum is not None:
                why = reason or f"worker process died ({describe_exit(code or 0) or 'exited'})"
                final = lose_attempt(sj, w, datum, why)
                if final is not None:
                    sj.run.results.put(final)
        # the running set last, so that the oldest goes to the front of the queue
        for lost in reversed([*w.closing, *([sj] if sj is not None else [])]):
            self._requeue(lost)
        w.closing.clear()

    def _requeue(self, sj: SetJob) -> None:
        """What of ``sj`` has no result yet (its worker died) goes to the front of the queue."""
        remaining = tuple(t for t in sj.ts.datums if t.datum_id not in sj.done)
        if sj.cancelled or not remaining:
            sj.finish()
        else:
            sj.ts = replace(sj.ts, datums=remaining)
            self._queue.appendleft(sj)

    def _fail_queued(self, error: Exception, running: SetJob | None) -> None:
        """A worker could not start: fail every set waiting for one, with ``error``."""
        for sj in [*([running] if running is not None else []), *self._queue]:
            if not sj.cancelled:
                sj.run.results.put(error)
            sj.finish()
        self._queue.clear()

    def _begin_stop(self) -> None:
        self._stopping = True
        for run in self._runs:  # before any "set done": runs in progress must not look complete
            run.results.put(ExecutorClosed("the local executor was closed"))
        self._runs.clear()
        self._queue.clear()
        for w in list(self._workers):
            if w.sj is not None:
                w.sj.cancelled = True
                self._kill(w)
            else:
                with contextlib.suppress(OSError):
                    w.conn.send(("stop",))

    def _stop_workers(self) -> None:
        """While stopping: reap idle workers as they exit, kill stragglers."""
        end = time.monotonic() + STOP_GRACE
        for w in list(self._workers):
            self._reap(w, end)

    def _retire(self, w: WorkerHandle) -> None:
        """Stop idle worker ``w`` (to start one of the other kind in its place)."""
        with contextlib.suppress(OSError):
            w.conn.send(("stop",))
        self._reap(w, time.monotonic() + STOP_GRACE)

    def _reap(self, w: WorkerHandle, end: float) -> None:
        """Wait until ``end`` for ``w``, told to stop, to exit (else kill it); forget it."""
        w.proc.join(max(0.0, end - time.monotonic()))
        if w.proc.exitcode is None:
            self._kill(w)
        else:
            self._drain(w)  # the results it sent before it exited
            self._on_death(w, None)
