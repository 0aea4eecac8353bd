"""A local worker process: runs the datum sets its parent sends, one at a time.

Started by :class:`~loxo.execution.local.LocalExecutor` (``forkserver`` or ``spawn``, never
``fork``) and kept warm for the executor's lifetime, so a Python transform's module is
imported once per worker. Two pipes and a slot of shared memory link it to the parent:

- ``conn`` (duplex): the parent sends ``("set", seq, TaskSet, resumes)`` or ``("stop",)``;
  the worker reports ``("ready",)`` once started; ``("attempt", id, n, python, timeout,
  logs)`` before each attempt but the datum's first one here (whose number and logs the
  parent knows from the resume it sent) unless it is a Python call with a timeout, and
  then ``("attempt_end", id)`` when that call returns; ``("results", [DatumResult,
  ...])``; ``("idle",)`` once every datum of a set has run, so that the parent can send
  the next set at once; and ``("done",)`` after every result of the set, once their
  outputs are durable. One lock serialises the writers (the main thread and the
  outbox's flusher). Which datum runs, and the process group of a command outside the
  long-lived sandbox, are not sent: the worker writes them to its
  :class:`~loxo.execution.worker_slot.WorkerSlot`, which the parent reads only when it
  needs them, so it wakes per group of results, not per datum.
- A result is sent only once the objects of its output are durable. Rather than one
  pack object and one store sync per datum, the :class:`_Outbox` holds finished results
  for up to ``GROUP_SECONDS`` (none past the end of the set), writes the group's shared
  pack of small outputs (:mod:`~loxo.execution.output_pack`), syncs the store once, and
  sends the results together in one message; a result may therefore arrive after the
  next datum started. At the end of a set the flusher syncs at once and then sends
  ``done``, while the worker runs its next set: the sync (milliseconds to tens of them,
  depending on the disk) is off the path from one set to the next. Messages keep their
  order: a set's results, then its ``done``, then the next set's results. If the worker
  dies first, those datums simply run again (results are keyed by datum).
- ``ctrl`` (parent -> worker): ``("restart", seq, datum_id)`` and ``("cancel", seq)``,
  read by a control thread that kills the running command's process group at once. When
  the pipe ends because the parent died, the control thread kills the command and the
  worker exits at once (:mod:`~loxo.execution.lifeline`, which also has the kernel kill
  the worker with its parent).

A Python call cannot be interrupted from inside: for its timeout, restart or cancel the
parent kills the whole worker and starts another. The worker ignores SIGINT (the parent
owns Ctrl-C and shuts workers down) and captures fds 1 and 2 into the running datum's logs.
Its datums share one :class:`~loxo.execution.workspace.Workspace` (one scratch ``/pfs``,
emptied between datums, and one long-lived sandbox for commands), removed at exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from loxo.errors import LoxoError

from .capture import FdCapture
from .control import DatumControl
from .lifeline import Owner, die_with_parent, owner_dying
from .output_pack import PackGroup
from .runtime import Resume, run_datum, set_store_path, set_worker_name, store_for
from .sandbox import visible_cwd
from .task import DatumResult, DatumState, LogLine, TaskSet
from .worker_slot import WorkerSlot
from .workspace import Workspace

GROUP_SECONDS = 0.05  # how long a finished result may wait for others to share its sync


@dataclass(frozen=True)
class WorkerSetup:
    """The parent's context at worker start (a forkserver child would not inherit it)."""

    env: dict[str, str]
    sys_path: list[str]
    cwd: str
    name: str = ""  # how results name this worker (default: host and pid)
    bound: str | None = None  # the worker runs in its own sandbox: its ``/pfs`` (see Workspace)
    owner: Owner | None = None  # the process the worker dies with (a sandbox has bwrap's)
    writable: str | None = None  # there, the way to write that ``/pfs`` (user code cannot)
    stores: tuple[tuple[str, str], ...] = ()  # there, (store URL, the way to its directory)


class _Outbox:
    """The worker's writes to the parent: serialised, and results grouped per store sync."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._send_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one group at a time, results in order
        self._cv = threading.Condition()
        # (store URL, result), or None where a set ended (its ``done`` goes there)
        self._pending: list[tuple[str, DatumResult] | None] = []
        self._ends = 0  # the set ends among them: flush without waiting for company
        self._packs: dict[str, PackGroup] = {}  # store URL -> the next group's pack
        threading.Thread(target=self._flusher, name="loxo-outbox", daemon=True).start()

    def pack(self, store_url: str) -> PackGroup:
        """Where small outputs for ``store_url`` go until the next flush."""
        with self._cv:
            pack = self._packs.get(store_url)
            if pack is None:
                pack = self._packs[store_url] = PackGroup()
            return pack

    def send(self, msg: tuple[Any, ...]) -> None:
        with self._send_lock:
            self._conn.send(msg)

    def result(self, store_url: str, result: DatumResult) -> None:
        """Send ``result`` once its output is durable (within ``GROUP_SECONDS``)."""
        with self._cv:
            self._pending.append((store_url, result))
            if len(self._pending) == 1:  # else the flusher is awake, or waits for company
                self._cv.notify()

    def end_set(self) -> None:
        """Every result of the current set is in: sync them now (on the flusher's thread),
        then send ``("done",)``."""
        with self._cv:
            self._pending.append(None)
            self._ends += 1
            self._cv.notify()

    def flush(self) -> None:
        """Sync and send every pending result (and set end) now."""
        with self._flush_lock:
            with self._cv:
                items, self._pending, self._ends = self._pending, [], 0
                packs = list(self._packs.items())
            if not items:
                return
            group = [item for item in items if item is not None]
            failed: dict[str, str] = {}
            written: set[str] = set()
            for url, pack in packs:  # every grouped result's chunks are in it (or earlier)
                taken = pack.take()
                if taken is not None:
                    written.add(url)
                    try:
                        store_for(url).put(*taken)
                    except (LoxoError, OSError) as e:
                        failed[url] = f"cannot store the datum's output: {e}"
            for url in {url for url, r in group if r.output_root is not None} | written:
                if url in failed:
                    continue
                try:
                    store_for(url).sync()
                except (LoxoError, OSError) as e:
                    failed[url] = f"cannot make the datum's output durable: {e}"
            for url, r in group:
                if url in failed and r.output_root is not None:
                    r.state, r.error, r.output_root = DatumState.FAILED, failed[url], None
                    r.logs.append(LogLine(time.time(), "system", failed[url]))
            batch: list[DatumResult] = []
            for item in items:  # in order: a set's results, its end, the next set's
                if item is not None:
                    batch.append(item[1])
                    continue
                if batch:
                    self.send(("results", batch))
                    batch = []
                self.send(("done",))
            if batch:
                self.send(("results", batch))

    def _flusher(self) -> None:
        while True:
            with self._cv:
                while not self._pending:
                    self._cv.wait()
                deadline = time.monotonic() + GROUP_SECONDS
                while not self._ends and (left := deadline - time.monotonic()) > 0:
                    self._cv.wait(left)
            try:
                self.flush()
            except (EOFError, OSError):
                return  # the parent is gone: the main thread finds out and exits


class _ReportingControl(DatumControl):
    """Forwards attempt events to the parent, and process groups to the worker's slot."""

    def __init__(self, datum_id: str, conn: _Outbox, slot: WorkerSlot, python: bool) -> None:
        super().__init__(datum_id)
        self._conn, self._slot, self._python = conn, slot, python
        self._first = True
        self._deadline = False

    def on_attempt(
        self, attempt: int, python_timeout: float | None, logs: Sequence[LogLine]
    ) -> None:
        self._deadline = self._python and python_timeout is not None
        if self._first and not self._deadline:
            self._first = False  # the parent knows: attempt = resumed ones + 1, same logs
            return
        self._first = False
        self._conn.send(
            ("attempt", self.datum_id, attempt, self._python, python_timeout, list(logs))
        )

    def on_attempt_end(self, attempt: int) -> None:
        if self._deadline:  # else nothing to clear: the parent set no deadline
            self._conn.send(("attempt_end", self.datum_id))

    def on_process(self, pgid: int | None) -> None:
        self._slot.process(pgid)


class _State:
    """What the control thread may interrupt: the current set and datum."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seq = -1
        self.current: DatumControl | None = None
        self.cancelled: set[int] = set()  # seqs cancelled (possibly before they started)

    def start_set(self, seq: int) -> None:
        with self.lock:
            self.seq = seq
            self.cancelled = {s for s in self.cancelled if s >= seq}

    def set_current(self, control: DatumControl | None) -> None:
        with self.lock:
            self.current = control
            if control is not None and self.seq in self.cancelled:
                control.cancel()

    def is_cancelled(self) -> bool:
        with self.lock:
            return self.seq in self.cancelled

    def cancel(self, seq: int) -> None:
        with self.lock:
            self.cancelled.add(seq)
            current = self.current if seq == self.seq else None
        if current is not None:
            current.cancel()

    def restart(self, seq: int, datum_id: str) -> None:
        with self.lock:
            current = self.current if seq == self.seq else None
        if current is not None and current.datum_id == datum_id:
            current.kill()


def main(conn: Connection, ctrl: Connection, slot: WorkerSlot, setup: WorkerSetup) -> bool:
    """The worker process's entry point; False if it ends because its bound workspace
    became unusable (its parent replaces it), else True."""
    if setup.owner is not None:
        die_with_parent(setup.owner)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _no_inheritable_fds()  # commands are started with posix_spawn, which closes no others
    os.environ.clear()
    os.environ.update(setup.env)
    sys.path[:] = setup.sys_path
    try:
        os.chdir(visible_cwd(setup.cwd) if setup.bound else setup.cwd)
    except OSError:
        os.chdir("/")  # the sandbox does not show it (say, under /pfs)
    if setup.name:
        set_worker_name(setup.name)
    capture = FdCapture()
    state = _State()
    threading.Thread(target=_control_loop, args=(ctrl, state, setup.owner), daemon=True).start()
    outbox = _Outbox(conn)
    for url, path in setup.stores:
        set_store_path(url, path)
    workspace = Workspace(bound=setup.bound, writable=setup.writable)
    outbox.send(("ready",))
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return True
            if msg[0] != "set":
                return True
            _, seq, ts, resumes = msg
            state.start_set(seq)
            _run_set(outbox, slot, seq, state, capture, workspace, ts, resumes)
            if workspace.lost:  # its parent replaces it: the rest of the set runs again
                return False
            outbox.send(("idle",))
            outbox.end_set()
    finally:
        with contextlib.suppress(EOFError, OSError):  # the parent may be gone
            outbox.flush()
        workspace.close()


def _no_inheritable_fds() -> None:
    """Mark every descriptor but 0, 1 and 2 close-on-exec (those the worker got from its
    parent or the forkserver are inheritable)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            with contextlib.suppress(OSError):  # the listing's own descriptor, now closed
                os.set_inheritable(fd, False)


def _run_set(
    outbox: _Outbox,
    slot: WorkerSlot,
    seq: int,
    state: _State,
    capture: FdCapture,
    workspace: Workspace,
    ts: TaskSet,
    resumes: dict[str, Resume],
) -> None:
    environ = dict(os.environ)  # one snapshot per set (decoding it costs ~0.1 ms)
    python = bool(ts.transform.python)
    pack = outbox.pack(ts.store_url)
    for index, task in enumerate(ts.datums):
        if state.is_cancelled():
            return
        control = _ReportingControl(task.datum_id, outbox, slot, python)
        state.set_current(control)
        slot.running(seq, index)
        result = run_datum(
            ts,
            task,
            control=control,
            resume=resumes.get(task.datum_id),
            capture=capture,
            threaded_python=False,
            sync_output=False,
            workspace=workspace,
            pack=pack,
            environ=environ,
        )
        state.set_current(None)
        if state.is_cancelled():
            return
        outbox.result(ts.store_url, result)
        if workspace.lost:  # its /pfs is unusable: the rest of the set goes to another worker
            return


def _control_loop(ctrl: Connection, state: _State, owner: Owner | None) -> None:
    while True:
        try:
            msg = ctrl.recv()
        except (EOFError, OSError):
            # the parent is gone (or closing): stop the running command now; the main
            # thread then fails to report and exits -- at once if the parent died (a
            # Python call in progress would not end)
            state.cancel(state.seq)
            if owner is not None and owner_dying(owner):
                os._exit(1)
            return
        if msg[0] == "restart":
            state.restart(msg[1], msg[2])
        elif msg[0] == "cancel":
            state.cancel(msg[1])
