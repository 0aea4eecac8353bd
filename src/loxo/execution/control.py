"""Interrupting and observing one datum while it runs.

The worker runtime runs a datum's attempts in one thread; an executor stops them from
another (``restart_datum``, ``cancel``). A :class:`DatumControl` is the meeting point:

- the runtime registers the process group of the command it starts (``process_started``)
  and unregisters it before reaping the leader (``process_finished``), under a lock, so a
  kill never reaches a recycled process group. A command run by a worker's long-lived
  sandbox registers a kill function instead (its processes are out of the worker's PID
  namespace, and die with the sandbox if the worker dies: the executor is not told);
- ``kill(reason)`` kills that process group (if any) and remembers ``reason``; the runtime
  then fails the current attempt with it (``take_reason``). ``cancel()`` also forbids any
  further attempt;
- the ``on_*`` hooks let an executor watch attempts (the local pool forwards them to the
  parent, which enforces Python timeouts and cleans up after a worker that died).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Sequence

from .task import LogLine

RESTARTED = "restarted by request"
CANCELLED = "cancelled"


def kill_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid``; a group already gone is not an error."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), None if it does not exist:
    with the pid, it tells a live process from a later namesake."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


class DatumControl:
    """Kill switch and observer hooks for the attempts of one datum."""

    def __init__(self, datum_id: str = "") -> None:
        self.datum_id = datum_id
        self._lock = threading.Lock()
        self._pgid: int | None = None
        self._killer: Callable[[], None] | None = None
        self._reason = ""
        self._cancelled = False
        self._is_killed = False
        self._killed: threading.Event | None = None  # made when first asked for

    @property
    def killed(self) -> threading.Event:
        """Set by kill() (until the next attempt); waited on by in-process Python calls."""
        with self._lock:
            if self._killed is None:
                self._killed = threading.Event()
                if self._is_killed:
                    self._killed.set()
            return self._killed

    # --- used by executors ---------------------------------------------------------------

    def kill(self, reason: str = RESTARTED) -> None:
        """Fail the running attempt with ``reason``, killing its process group."""
        with self._lock:
            self._reason, self._is_killed = reason, True
            if self._killed is not None:
                self._killed.set()
            self._kill_process()

    def cancel(self) -> None:
        """Kill the running attempt and allow no further one."""
        with self._lock:
            self._cancelled = True
        self.kill(CANCELLED)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    # --- used by the runtime -------------------------------------------------------------

    def begin_attempt(self) -> None:
        """Forget a kill request aimed at an earlier attempt (unless cancelled)."""
        with self._lock:
            if not self._cancelled:
                self._reason, self._is_killed = "", False
                if self._killed is not None:
                    self._killed.clear()

    def take_reason(self) -> str:
        """Why the current attempt was killed ("" if it was not)."""
        with self._lock:
            return self._reason

    def process_started(self, pgid: int | None, kill: Callable[[], None] | None = None) -> None:
        """A command started: its process group ``pgid``, or (``pgid`` None) a ``kill``
        function that stops all of its processes."""
        with self._lock:
            self._pgid, self._killer = pgid, kill
            if self._reason:
                self._kill_process()
        if pgid is not None:
            self.on_process(pgid)

    def process_finished(self) -> None:
        with self._lock:
            pgid, self._pgid, self._killer = self._pgid, None, None
        if pgid is not None:
            self.on_process(None)

    def _kill_process(self) -> None:
        if self._pgid is not None:
            kill_group(self._pgid)
        elif self._killer is not None:
            self._killer()

    # --- hooks (no-ops here) -------------------------------------------------------------

    def on_attempt(
        self, attempt: int, python_timeout: float | None, logs: Sequence[LogLine]
    ) -> None:
        """An attempt begins; ``python_timeout`` is set for in-process Python calls, whose
        timeout the executor must enforce from outside; ``logs`` are the datum's so far."""

    def on_attempt_end(self, attempt: int) -> None:
        """The user code of an attempt returned (output upload follows)."""

    def on_process(self, pgid: int | None) -> None:
        """A command's process group started (``pgid``) or ended (``None``)."""
