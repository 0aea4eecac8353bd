"""The inline executor: every datum in this process, one after another (tests, debugging).

Commands run as subprocesses exactly as in a local worker (own process group, sandbox,
timeout). Python functions are called in a helper thread of this process, so a
``datum_timeout``, ``restart_datum`` or ``cancel`` can stop *waiting* for them: the attempt
fails at once, but the abandoned call keeps running in the background until it returns
(a thread cannot be killed). Their output is captured through ``sys.stdout`` and
``sys.stderr`` only. ``parallelism`` is accepted and ignored.

``cancel(job_id)`` stops the job's sets in every ``run`` in progress (the running datum is
killed, no further datum of the job starts, and no result of the job is yielded after the
call returns); it does not affect later ``run`` calls.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from .control import DatumControl
from .executor import Executor
from .pyfunc import SysCapture
from .runtime import run_datum
from .task import DatumResult, TaskSet


class InlineExecutor(Executor):
    name = "inline"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], DatumControl] = {}
        self._runs: dict[int, set[str]] = {}  # run -> its cancelled job IDs
        self._capture = SysCapture()

    def run(self, sets: Iterable[TaskSet], *, parallelism: int = 1) -> Iterator[DatumResult]:
        cancelled: set[str] = set()
        with self._lock:
            self._runs[id(cancelled)] = cancelled
        try:
            for ts in sets:
                for task in ts.datums:
                    if ts.job_id in cancelled:
                        break
                    key = (ts.job_id, task.datum_id)
                    control = DatumControl(task.datum_id)
                    with self._lock:
                        self._running[key] = control
                    try:
                        result = run_datum(ts, task, control=control, capture=self._capture)
                    finally:
                        with self._lock:
                            self._running.pop(key, None)
                    if ts.job_id not in cancelled:
                        yield result
        finally:
            with self._lock:
                del self._runs[id(cancelled)]

    def cancel(self, job_id: str) -> None:
        with self._lock:
            for cancelled in self._runs.values():
                cancelled.add(job_id)
            controls = [c for (job, _), c in self._running.items() if job == job_id]
        for control in controls:
            control.cancel()

    def restart_datum(self, job_id: str, datum_id: str) -> bool:
        with self._lock:
            control = self._running.get((job_id, datum_id))
        if control is None:
            return False
        control.kill()
        return True
