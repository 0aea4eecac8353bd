"""Which attempt a Ray worker's Python call is making, recorded where it outlives the worker.

A Python transform runs in the Ray worker's own process, and may kill it at once (a
segfault, ``os._exit``): the driver must still learn which datum and attempt died with
it, or the datum would run again without losing an attempt -- for ever, or until the
set's task is deemed fruitless and innocent datums fail with it. Waiting, before each
call, until the ``attempt`` report is delivered to the board costs a round trip per
datum; instead, before each Python call the worker writes its **attempt record**, a
small file named after its pid next to the other per-worker records
(:func:`~loxo.execution.ray_workspace.records_dir`), and posts the report without
waiting.

- The record is one line, ``<task key> <datum index> <attempt>``: the key of the set's
  assignment (so a record of an earlier set, or of a dead namesake, is never taken for
  the current one), the datum's index in that set (datums of a set run in order: a
  larger index is a later datum) and the attempt number. It is rewritten in place with
  one ``pwrite`` of a fixed-size block on a descriptor the process keeps open: every
  state of the file is a whole record. No fsync: the file must outlive the process, not
  the node (a node's death loses it, and the driver falls back to what reports told it).
- The worker's slot tells the driver its node and pid once, before it runs its first
  set, waiting for delivery (:func:`~loxo.execution.ray_worker.run_slot`), so the driver
  can find the record even when no report of the set arrived.
- After the worker dies, the driver runs :func:`read_record` as a small task on its
  node, which returns the record and removes the file; the driver takes it when it is
  newer than the reports (:meth:`~loxo.execution.ray_sets.InFlight.adopt`). Files of
  workers that exit normally are removed at exit; those of dead workers nobody asked
  about, by the sweep of :mod:`~loxo.execution.ray_workspace` once they are old.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from pathlib import Path
from typing import NamedTuple

from .ray_workspace import records_dir

__all__ = ["Record", "attempt_file", "read_record", "write_record"]

BLOCK = 256  # bytes of one record (space-padded; the key is ~40 characters)

_fd: int | None = None
_lock = threading.Lock()


class Record(NamedTuple):
    """The attempt a worker started last: of which assignment, which datum, which try."""

    key: str
    position: int  # the datum's index in the set
    attempt: int


def attempt_file(pid: int) -> Path:
    """Where worker ``pid`` records the attempt its Python call is making."""
    return records_dir() / f"{pid}.attempt"


def write_record(key: str, index: int, attempt: int) -> None:
    """Record (before a Python call) that attempt ``attempt`` of the ``index``-th datum of
    assignment ``key`` starts in this process. Best effort: an error is ignored (the
    driver then has the reports only)."""
    global _fd
    line = f"{key} {index} {attempt}\n".encode()
    with _lock, contextlib.suppress(OSError):
        if _fd is None:
            path = attempt_file(os.getpid())
            path.parent.mkdir(mode=0o700, exist_ok=True)
            _fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            atexit.register(_remove)
        os.pwrite(_fd, line.ljust(max(BLOCK, len(line))), 0)


def read_record(pid: int) -> Record | None:
    """The attempt record dead worker ``pid`` left on this node, removed (runs as a Ray
    task on that node); None if there is none or it cannot be read."""
    path = attempt_file(pid)
    try:
        first = path.read_text().split("\n", 1)[0]
        key, index, attempt = first.split()
        record = Record(key, int(index), int(attempt))
    except (OSError, ValueError):
        return None
    if not Path(f"/proc/{pid}").exists():  # else a namesake's, which may be needed yet
        path.unlink(missing_ok=True)
    return record


def _remove() -> None:
    with contextlib.suppress(OSError):
        attempt_file(os.getpid()).unlink(missing_ok=True)
