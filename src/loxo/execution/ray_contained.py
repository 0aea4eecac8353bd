"""A Ray worker's sets of commands, run by a local worker inside its own sandbox.

A Ray worker that runs a command itself hands it to the exec agent of its long-lived
sandbox (:mod:`~loxo.execution.sandbox_session`), and runs everything around it --
materialise, collect, upload, the workspace's cleanup -- in its own process, where Ray's
threads and loxo's reporting threads take turns with it for the interpreter. Per datum of
a small command that cost about 0.5 ms more than the same datum in a local worker inside
its own sandbox (:mod:`~loxo.execution.sandbox_worker`). So, where a local executor would
give a set to such a worker (:func:`~loxo.execution.sandbox_worker.wanted`: commands, no
``transform.user``, the sandbox in use), the Ray worker gives it to one of its own, started
on first use and kept for the process's lifetime (started again if it died, or if the
environment the sets run with changed), and relays:

- the set goes as a local executor sends it (``("set", seq, TaskSet, resumes)``,
  :mod:`~loxo.execution.worker`); its results come back durable, in groups, and go on to
  the driver as the Ray worker's own would (:class:`~loxo.execution.ray_outbox.Outbox`);
- the driver hears of each datum's attempt as it starts: the worker reports the attempts
  a resume does not imply, and the relay reads which datum runs from the worker's
  :class:`~loxo.execution.worker_slot.WorkerSlot` (at each message, and every
  :data:`LOOK_SECONDS`);
- ``cancel`` and ``restart`` from the driver go to the worker's control pipe; datum
  timeouts are the worker's own;
- the worker dies with this process (bubblewrap's ``--die-with-parent``; it is started
  from the thread that runs the tasks, which lives as long as the process). If it dies
  alone (killed, out of memory, its ``/pfs`` lost), the relay reports the datum it ran,
  then ends this Ray worker too: the driver carries on as after any worker death (the
  datum loses the attempt, the rest of the set runs again).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

from . import sandbox_worker
from .control import RESTARTED, DatumControl
from .pool import WorkerHandle
from .runtime import Resume
from .task import DatumResult, TaskSet
from .worker import WorkerSetup

__all__ = ["LOOK_SECONDS", "Relay", "run_contained", "wanted"]

LOOK_SECONDS = 0.05  # how often the relay looks which datum runs, without messages

wanted = sandbox_worker.wanted

_worker: WorkerHandle | None = None
_env: dict[str, str] = {}  # the environment it was started with
_seqs = itertools.count()


class Relay(DatumControl):
    """What the Ray worker's control thread stops, for a set the local worker runs: its
    ``datum_id`` is the datum running there, ``cancel`` and ``kill`` go to its pipe."""

    def __init__(self, w: WorkerHandle, seq: int, ts: TaskSet) -> None:
        super().__init__()
        self._w, self._seq, self._ts = w, seq, ts

    @property
    def datum_id(self) -> str:
        index = self._w.slot.datum_index(self._seq)
        datums = self._ts.datums
        return datums[index].datum_id if index is not None and index < len(datums) else ""

    @datum_id.setter
    def datum_id(self, value: str) -> None:
        pass  # (DatumControl sets it; the slot says it)

    def cancel(self) -> None:
        super().cancel()
        with contextlib.suppress(OSError):
            self._w.ctrl.send(("cancel", self._seq))

    def kill(self, reason: str = RESTARTED) -> None:
        datum = self.datum_id
        if datum:
            with contextlib.suppress(OSError):
                self._w.ctrl.send(("restart", self._seq, datum))


def run_contained(
    ts: TaskSet,
    resumes: dict[str, Resume],
    begin: Callable[[Relay], bool],
    event: Callable[[tuple[Any, ...]], None],
    result: Callable[[DatumResult], None],
    lost: Callable[[tuple[Any, ...] | None], None],
) -> None:
    """Run ``ts`` in this process's contained worker: ``begin(relay)`` as it starts (False:
    the set was cancelled already), ``event`` for each attempt the driver must hear of
    (``("attempt", datum, n, logs)``), ``result`` for each result, in order. If the worker
    dies, ``lost(attempt event of the datum it ran, or None)``, which must not return."""
    w = _ready(ts)
    seq = next(_seqs)
    relay = Relay(w, seq, ts)
    if not begin(relay):  # cancelled already: the worker must not even see it (a cancel
        return  # sent after the set could reach it only once its first datum started)
    w.conn.send(("set", seq, ts, resumes))
    told: dict[str, int] = {}  # datum -> the attempt the driver heard of
    running: tuple[Any, ...] | None = None

    def tell(datum: str) -> None:
        nonlocal running
        resume = resumes.get(datum)
        attempt = resume.attempts + 1 if resume else 1
        running = ("attempt", datum, attempt, list(resume.logs) if resume else [])
        told[datum] = attempt
        event(running)

    def look() -> None:
        datum = relay.datum_id
        if datum and datum not in told:
            tell(datum)

    if ts.datums and not relay.cancelled:
        tell(ts.datums[0].datum_id)  # it starts now (the slot's next take waits for this)
    while True:
        ready = wait([w.conn, w.proc.sentinel], LOOK_SECONDS)
        try:
            while w.conn.poll():
                msg = w.conn.recv()
                if msg[0] == "attempt":  # (id, n, python, timeout, logs): a later attempt
                    running = ("attempt", msg[1], msg[2], msg[5])
                    told[msg[1]] = msg[2]
                    event(running)
                elif msg[0] == "results":
                    for r in msg[1]:
                        result(r)
                elif msg[0] == "done":
                    return
        except (EOFError, OSError):
            ready = [w.proc.sentinel]
        look()
        if w.proc.sentinel in ready:
            _forget()
            lost(running)


def _ready(ts: TaskSet) -> WorkerHandle:
    """The contained worker for ``ts``, started (again) if there is none, it died, or the
    environment or the kind of set changed (see :func:`~loxo.execution.sandbox_worker.
    kind`)."""
    global _worker, _env
    env = dict(os.environ)
    kind = sandbox_worker.kind(ts)
    assert kind is not None  # (wanted: the caller checked)
    if _worker is not None and (
        _worker.proc.exitcode is not None or env != _env or _worker.kind != kind
    ):
        _stop()
    if _worker is None:
        setup = WorkerSetup(env, list(sys.path), os.getcwd())
        _worker = WorkerHandle(*sandbox_worker.start(setup, kind), kind=kind)
        _env = env
        atexit.register(_stop)  # (a normal exit: it would die with us, its scratch left)
    return _worker


def _stop() -> None:
    """Tell the worker to stop (it exits once its results are out) and forget it."""
    atexit.unregister(_stop)
    w = _worker
    if w is not None:
        with contextlib.suppress(OSError):
            w.conn.send(("stop",))
        w.proc.join(5)
        if w.proc.exitcode is None:
            with contextlib.suppress(ProcessLookupError, TypeError):
                os.kill(w.proc.pid or 0, signal.SIGKILL)
            w.proc.join(5)
    _forget()


def _forget() -> None:
    global _worker
    w, _worker = _worker, None
    if w is None:
        return
    for c in (w.conn, w.ctrl):
        c.close()
    with contextlib.suppress(ValueError):
        w.proc.close()
