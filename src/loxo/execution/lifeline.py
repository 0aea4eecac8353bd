"""A worker's lifeline to the process that owns it: when the owner dies, the worker dies.

A local worker outlives a ``kill -9`` of its owner (the CLI, ``loxo serve``) unless
something ends it: a Python call in progress cannot be interrupted, and a ``forkserver``
worker's parent is the fork server, which in turn lives as long as any of its children.
Two guards, both set up at the worker's start:

- :func:`die_with_parent`: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so the kernel kills the
  worker the moment its parent dies; then a check that the parent is still the one
  expected (the owner, or the owner's fork server), since a parent that died before the
  ``prctl`` ran sends no signal: the worker, already orphaned, exits at once;
- :func:`owner_dying`, asked by the worker's control thread when its pipe from the owner
  ends: if the owner is gone (not a normal close), the worker kills its command and
  exits without waiting for the datum in progress.

Commands run in the worker's sandbox die with it (bubblewrap's ``--die-with-parent``).
On systems without ``prctl`` (not Linux) the first guard is skipped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import time

from .control import start_time

PR_SET_PDEATHSIG = 1

__all__ = ["Owner", "die_with_parent", "owner_alive", "owner_dying", "this_process"]

Owner = tuple[int, int]  # (pid, start time): a process, not a later namesake


def this_process() -> Owner:
    """The calling process, as a worker's owner."""
    return os.getpid(), start_time(os.getpid()) or 0


def die_with_parent(owner: Owner) -> None:
    """Have the kernel SIGKILL this process when its parent dies, and exit now if the
    parent is already not the owner or a child of the owner (it died before)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    parent = os.getppid()
    if parent != owner[0] and _parent_of(parent) != owner[0]:
        os._exit(1)
    if not owner_alive(owner):
        os._exit(1)


def owner_dying(owner: Owner, wait: float = 1.0) -> bool:
    """Whether the owner process is gone or going, looking for up to ``wait`` seconds: a
    process that dies closes its descriptors (the pipe that ended) a moment before it is
    a zombie."""
    deadline = time.monotonic() + wait
    while owner_alive(owner):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def owner_alive(owner: Owner) -> bool:
    """Whether the owner process is still running (a zombie, killed but not yet reaped by
    its own parent, is not)."""
    fields = _stat(owner[0])
    return len(fields) > 19 and fields[0] not in ("Z", "X") and fields[19] == str(owner[1])


def _parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if len(fields) > 1 else None


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state, ppid, ...)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []
