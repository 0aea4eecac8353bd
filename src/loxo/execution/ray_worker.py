"""What runs inside a Ray worker: slots that run datum sets, and the reaper.

:func:`run_slot` is the body of the Ray tasks the executor starts, up to ``parallelism``
per run: a **slot** takes the sets the driver hands it through its own mailbox on the
:mod:`~loxo.execution.ray_board`, one after another, and reports each set's results when
it is done. Handing a set to a running slot costs one actor call, where a Ray task per
set costs a worker lease from Ray's scheduler (12-16 ms median, 35-45 ms at the 90th
percentile, measured with 16 tasks in flight on two nodes of a 2-core machine) between
one set and the next. :func:`run_set` runs one set's datums one after another with the
worker runtime (:func:`~loxo.execution.runtime.run_datum`), in this warm worker process
(a Python transform's module stays imported, and its workspace -- one scratch ``/pfs``
and one long-lived sandbox, :mod:`~loxo.execution.ray_workspace` -- serves every datum
it runs; Ray also reuses the process for later slots) -- or, for a set of commands that
a local executor would run in a worker inside its own sandbox, hands it to such a worker
of its own and relays (:mod:`~loxo.execution.ray_contained`) -- and:

- reports to the driver's mailbox on the :mod:`~loxo.execution.ray_board` each
  ``attempt`` as it starts (datum, number, node and pid, whether a Python call runs and
  its timeout, the logs so far: what the driver needs to enforce Python timeouts and to
  carry on after the worker dies), ``attempt_end`` when a Python call returns, and the
  datums' ``results``, in groups, once their outputs are durable
  (:mod:`~loxo.execution.ray_outbox`: small outputs share one pack object and one store
  sync per group). No report is waited for: before a Python call the worker writes its
  attempt record on the node (:mod:`~loxo.execution.ray_attempts`), so that a call that
  kills its worker at once, before its report is out, still counts as an attempt (a
  command runs in another process, and its report is delivered long before a worker
  killed from outside could take it down);
- returns every result of the set at the end, which the slot delivers to the driver
  (its complete record; the reports are for streaming);
- obeys control messages that a thread of the worker process reads from the process's
  own mailbox (one long poll at a time, for the life of the process: a set costs no
  control traffic): ``cancel`` stops the set, killing the running command's process
  group, and ``restart <datum>`` fails the running attempt "restarted by request" by
  killing its command's process group; the worker stays warm. A Python call cannot be
  interrupted from inside its process: for ``cancel``, ``restart`` and ``kill <datum>``
  (the driver's verdict on a ``datum_timeout``) during a Python call the worker kills
  itself, and the driver carries on as after any worker death, as the local executor
  does. ``withdraw <set>`` asks for the slot's next set back (:mod:`~loxo.execution.ray_next`);
- records the process group of the command it runs in a file named after its pid
  (:func:`pgid_file`), so that if the worker dies (killed, cancelled, out of memory) the
  driver's :func:`reap` task on the same node can kill the group it left behind. Under
  the bubblewrap sandbox ``--die-with-parent`` does that already (commands then run in
  a sandbox of the worker's: its contained worker's, or its long-lived one's, whose agent
  the kills go through);
- sets, for the duration of the set, the environment variables the executor forwards
  (``forward_env``) and adds the driver's code directories that exist here to
  ``sys.path``.

The worker's fds 1 and 2 are captured per datum (:class:`~loxo.execution.capture.FdCapture`,
installed once per process), so a Python transform's output lands in its datum's logs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import ray_contained
from .capture import FdCapture
from .control import DatumControl
from .ray_attempts import write_record
from .ray_next import NextSet
from .ray_outbox import COMMAND_POST_SECONDS, POST_SECONDS, Outbox
from .ray_workspace import record as record_workspace
from .ray_workspace import records_dir, start_time
from .ray_workspace import workspace as worker_workspace
from .runtime import Resume, run_datum
from .task import DatumResult, LogLine, TaskSet

CONTROL_POLL = 60.0  # seconds one long poll of the control mailbox may wait
REPORT_TIMEOUT = 30.0  # seconds a slot waits for its "slot" report to be delivered, at most

_capture: FdCapture | None = None
_capture_lock = threading.Lock()
_listener: _Listener | None = None
_listener_lock = threading.Lock()


def pgid_file(pid: int) -> Path:
    """Where worker ``pid`` records the process group of the command it is running."""
    return records_dir() / f"{pid}.pgid"


@functools.cache
def _pgid_file() -> Path:
    return pgid_file(os.getpid())  # a Ray worker is never forked


def control_key(node: str, pid: int) -> str:
    """The mailbox that worker ``pid`` of ``node`` reads control messages from."""
    return f"control-{node}-{pid}"


def run_set(
    ts: TaskSet,
    resumes: dict[str, Resume],
    board: Any,
    key: str,
    reports: str,
    env: Mapping[str, str | None],
    code_paths: Sequence[str],
    carry: Callable[[tuple[str, list[Any]]], bool] | None = None,
) -> list[DatumResult]:
    """Run the datums of ``ts`` (this task's ``key``), reporting to mailbox ``reports``
    (``carry``, if given, may take a report to post it itself: True if it did)."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    label = f"{node[:12]}/{socket.gethostname()}:{os.getpid()}"

    def post(events: list[tuple[Any, ...]]) -> None:
        report = (reports, [(key, *event) for event in events])
        if carry is not None and carry(report):  # it rides with the slot's next take
            return
        # reports are best effort (the task's return value is the record): a board or a
        # node going away must not fail the datum being reported
        with contextlib.suppress(Exception):
            board.put_all.remote(*report)

    pgid_file(os.getpid()).unlink(missing_ok=True)  # a dead namesake's: we run no command yet
    state = _listen(board, node).start_set(key)
    python = bool(ts.transform.python)
    outbox = Outbox(ts.store_url, post, pace=POST_SECONDS if python else COMMAND_POST_SECONDS)
    results: list[DatumResult] = []
    last: list[DatumResult] = []  # not posted: they come with the return value
    try:
        with _environment(env, code_paths):
            if ray_contained.wanted(ts):

                def on_event(e: tuple[Any, ...]) -> None:
                    _, datum, attempt, logs = e
                    outbox.event(("attempt", datum, attempt, node, os.getpid(), False, None, logs))

                def on_result(r: DatumResult) -> None:
                    r.worker = label
                    results.append(r)
                    (last.append if r.datum_id == ts.datums[-1].datum_id else outbox.add)(r)

                def on_lost(running: tuple[Any, ...] | None) -> None:
                    if running is not None:  # the driver charges it the attempt
                        _, datum, attempt, logs = running
                        attempt_report = ("attempt", datum, attempt, node, os.getpid())
                        with contextlib.suppress(Exception):
                            events = [(key, *attempt_report, False, None, logs)]
                            ray.get(board.put_all.remote(reports, events), timeout=REPORT_TIMEOUT)
                    _die()

                ray_contained.run_contained(ts, resumes, state.begin, on_event, on_result, on_lost)
                state.end()
                return results
            workspace = worker_workspace()
            environ = dict(os.environ)  # one snapshot per set
            for index, task in enumerate(ts.datums):
                control = _ReportingControl(
                    task.datum_id, (key, index), outbox, state, node, python
                )
                if not state.begin(control):
                    break
                result = run_datum(
                    ts,
                    task,
                    control=control,
                    resume=resumes.get(task.datum_id),
                    capture=_fd_capture(),
                    threaded_python=False,
                    sync_output=False,
                    workspace=workspace,
                    pack=outbox.pack,
                    environ=environ,
                )
                if not state.end():
                    break
                result.worker = label
                results.append(result)
                if task is ts.datums[-1]:
                    last.append(result)
                else:
                    outbox.add(result)
    finally:
        state.end_set()
        outbox.close(last)
        record_workspace()
    return results


def run_slot(board: Any, slot: str, idle: float) -> int:
    """The body of a slot task: run the sets the driver hands to mailbox ``slot``, one
    after another, in this warm worker; returns (the number of sets run) when told
    ``("stop",)``, after ``idle`` seconds without work, or when the board is gone. While
    a set runs, a thread takes the next one (:mod:`~loxo.execution.ray_next`): it starts
    without a round trip to the board, and until it starts the driver may still ask for
    it back, for an idle slot.

    Each item is ``("set", key, ts, resumes, reports, env, code_paths)``: the set runs as
    :func:`run_set` runs it, then ``(key, "set_done", results)`` -- every result of the
    set, the driver's complete record -- goes to mailbox ``reports`` without waiting: with
    the thread's take of the set after the next, when the next is a set of commands in
    hand (:mod:`~loxo.execution.ray_next`), else at once. (If the slot dies first, the
    driver runs the set's unreported datums again.)

    Before its first set the slot tells the driver where it runs, ``(key, "slot", slot,
    node, pid)``, and waits until that is delivered: the driver then knows where to find
    the attempt record (:mod:`~loxo.execution.ray_attempts`) if the worker dies, even
    before any report of a set arrived, and where to ask for a set back. (If it is not
    delivered, the driver has only the reports to go by.)"""
    import ray

    node = ray.get_runtime_context().get_node_id()
    next_set = NextSet(board, slot, idle)
    _listen(board, node).next_set = next_set
    ran = 0
    done: tuple[str, list[Any]] | None = None  # the last set's end, posted with the next take
    try:
        while True:
            item, done = next_set.take(done), None  # (it posts the report, one way or another)
            if item is None:
                break
            _, key, ts, resumes, reports, env, code_paths = item
            if not ran:
                with contextlib.suppress(Exception):
                    hello = (key, "slot", slot, node, os.getpid())
                    ray.get(board.put_all.remote(reports, [hello]), timeout=REPORT_TIMEOUT)
            results = run_set(ts, resumes, board, key, reports, env, code_paths, next_set.carry)
            done = (reports, [(key, "set_done", results)])
            ran += 1
    finally:
        next_set.close()
    return ran


def reap(pid: int, timeout: float = 30.0) -> bool:
    """Once worker ``pid`` is gone, kill the command process group it left behind (runs
    as a Ray task on that worker's node); True if there was one."""
    end = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < end:
        time.sleep(0.02)
    path = pgid_file(pid)
    try:
        pgid, started = (int(x) for x in path.read_text().split())
    except (OSError, ValueError):
        return False
    path.unlink(missing_ok=True)
    # A group's ID stays taken while any process is in the group: if the leader is gone,
    # what is left in group ``pgid`` is the command's; if a process of that ID lives but
    # started at another time, the ID was recycled (the group is gone): leave it alone.
    leader = start_time(pgid)
    if leader is not None and leader != started:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    return True


class _ReportingControl(DatumControl):
    """Reports attempts to the driver, recording a Python call's first; records the
    running command's process group."""

    def __init__(
        self,
        datum_id: str,
        where: tuple[str, int],
        outbox: Outbox,
        state: _SetState,
        node: str,
        python: bool,
    ):
        super().__init__(datum_id)
        self._where, self._outbox, self._state = where, outbox, state
        self._node, self.python = node, python
        self._pgid_file = _pgid_file()

    def on_attempt(
        self, attempt: int, python_timeout: float | None, logs: Sequence[LogLine]
    ) -> None:
        self._state.python = self.python
        if self.python:  # it may kill this worker before the report is out
            write_record(*self._where, attempt)
        where = (self._node, os.getpid())
        report = (self.datum_id, attempt, *where, self.python, python_timeout, list(logs))
        self._outbox.event(("attempt", *report))

    def on_attempt_end(self, attempt: int) -> None:
        self._state.python = False
        self._outbox.event(("attempt_end", self.datum_id))

    def on_process(self, pgid: int | None) -> None:
        # the runtime reports the end before it reaps the group's leader: the file never
        # names a group whose ID may have been recycled
        if pgid is None:
            self._pgid_file.unlink(missing_ok=True)
        else:
            self._pgid_file.parent.mkdir(mode=0o700, exist_ok=True)
            self._pgid_file.write_text(f"{pgid} {start_time(pgid) or 0}")


class _SetState:
    """The set this worker runs (its task key), for the control thread: the running datum,
    whether a Python call (which only the worker's death stops) is in progress."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.current: DatumControl | None = None
        self.python = False
        self.cancelled = False
        self.over = False

    def begin(self, control: DatumControl) -> bool:
        """``control``'s datum starts, unless the set was cancelled."""
        with self.lock:
            self.current, self.python = control, False
            return not self.cancelled

    def end(self) -> bool:
        """The datum ended; False if the set was cancelled meanwhile."""
        with self.lock:
            self.current, self.python = None, False
            return not self.cancelled

    def end_set(self) -> None:
        with self.lock:
            self.over, self.current = True, None

    def obey(self, message: tuple[Any, ...]) -> None:
        """``("cancel", key)``, ``("restart", key, datum)`` or ``("kill", key, datum)``."""
        with self.lock:
            if self.over:
                return
            current, python = self.current, self.python
            if message[0] == "cancel":
                self.cancelled = True
        if current is None:
            return
        if message[0] == "cancel":
            if python:
                _die()
            current.cancel()
        elif message[0] in ("restart", "kill") and current.datum_id == message[2]:
            if python:
                _die()
            if message[0] == "restart":
                current.kill()


class _Listener:
    """This worker process's control thread: one long poll of its mailbox at a time, for
    as long as the process lives (so a set costs no control traffic of its own)."""

    def __init__(self, board: Any, node: str) -> None:
        self.board, self.key = board, control_key(node, os.getpid())
        self.lock = threading.Lock()
        self.state: _SetState | None = None
        self.cancelled: deque[str] = deque(maxlen=64)  # sets cancelled before they started
        self.next_set: NextSet | None = None  # the slot's next set, which it may give back
        threading.Thread(target=self._loop, name="loxo-ray-control", daemon=True).start()

    def start_set(self, key: str) -> _SetState:
        with self.lock:
            self.state = _SetState(key)
            self.state.cancelled = key in self.cancelled
            return self.state

    def _loop(self) -> None:
        import ray

        while True:
            try:
                messages = ray.get(self.board.take.remote(self.key, CONTROL_POLL))
            except Exception:  # the board is gone: wait for a set to bring the new one
                time.sleep(1.0)
                continue
            for message in messages:
                with self.lock:
                    state, next_set = self.state, self.next_set
                if message[0] == "withdraw":  # the driver wants the slot's next set back
                    if next_set is not None:
                        next_set.give_back(message[1])
                elif state is not None and state.key == message[1]:  # not for an earlier set
                    state.obey(message)
                elif message[0] == "cancel":  # perhaps for the set this slot takes next
                    with self.lock:
                        self.cancelled.append(message[1])


def _listen(board: Any, node: str) -> _Listener:
    """The process's control thread, started by its first slot (reading ``board``)."""
    global _listener
    with _listener_lock:
        if _listener is None:
            _listener = _Listener(board, node)
        _listener.board = board  # the driver's current board
        return _listener


def _die() -> None:
    """End this worker now (a Python call cannot be stopped otherwise); Ray replaces it."""
    os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def _environment(env: Mapping[str, str | None], code_paths: Sequence[str]) -> Iterator[None]:
    """``env`` set (None: unset) in ``os.environ`` while the set runs; the driver's code
    directories that exist here appended to ``sys.path`` (for good: imports stay warm)."""
    for path in code_paths:
        if path not in sys.path and os.path.isdir(path):
            sys.path.append(path)
    saved = {name: os.environ.get(name) for name in env}
    _apply(env)
    try:
        yield
    finally:
        _apply(saved)


def _apply(env: Mapping[str, str | None]) -> None:
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _fd_capture() -> FdCapture:
    global _capture
    with _capture_lock:
        if _capture is None:
            _capture = FdCapture()
        return _capture
