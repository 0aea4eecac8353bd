"""A Ray worker process's workspace: one scratch ``/pfs`` and one sandbox, kept warm.

Ray reuses its worker processes from task to task, so, like a local worker, each Ray worker
process keeps one :class:`~loxo.execution.workspace.Workspace` for its lifetime: one scratch
directory emptied between datums and one long-lived sandbox
(:mod:`~loxo.execution.sandbox_session`) whose exec agent kills every process of a datum
before the next one starts. The workspace replaces a sandbox that broke (its agent died)
and starts afresh if its directory was tampered with or ``LOXO_SCRATCH`` changed.

Lifetime: made by the process's first set (:func:`workspace`), removed when the process
exits normally (``atexit``). bubblewrap's ``--die-with-parent`` ends the sandbox with the
worker however it dies; a worker killed outright (a forced cancel, out of memory) cannot
remove its directory, so each records where it is in a file named after its pid (next to
:func:`~loxo.execution.ray_worker.pgid_file`'s), and the next workspace made on that
machine removes the directories of recorded workers that are gone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile
import threading
import time
from pathlib import Path

from .control import start_time
from .environment import remove_tree
from .workspace import PREFIX, Workspace

__all__ = ["records_dir", "start_time", "workspace"]

STALE = 600.0  # age (s) after which a dead worker's attempt record is nobody's concern

_workspace: Workspace | None = None
_recorded: Path | None = None
_lock = threading.Lock()


def records_dir() -> Path:
    """This user's private directory of per-worker records (pgid files, workspaces);
    writers make it (mode 0700)."""
    return Path(tempfile.gettempdir(), f"loxo-ray-{os.getuid()}")


def workspace() -> Workspace:
    """This process's workspace (made, and stale ones swept, on first use)."""
    global _workspace
    with _lock:
        if _workspace is None:
            with contextlib.suppress(OSError):
                _sweep()
            _workspace = Workspace()
            atexit.register(_close)
        return _workspace


def record() -> None:
    """Note where this process's workspace directory is (after a set made or moved it)."""
    global _recorded
    ws = _workspace
    if ws is None or ws.root == _recorded:
        return
    pid = os.getpid()
    with contextlib.suppress(OSError):
        path = records_dir() / f"{pid}.workspace"
        path.parent.mkdir(mode=0o700, exist_ok=True)
        if ws.root is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(f"{start_time(pid) or 0} {ws.root}")
        _recorded = ws.root


def _close() -> None:
    global _workspace
    with _lock:
        if _workspace is not None:
            _workspace.close()
            _workspace = None
    with contextlib.suppress(OSError):
        (records_dir() / f"{os.getpid()}.workspace").unlink(missing_ok=True)


def _sweep() -> None:
    """Remove the workspaces of recorded worker processes that are gone, and their old
    attempt records (:mod:`~loxo.execution.ray_attempts`; a recent one may still be
    asked for)."""
    old = time.time() - STALE
    for path in records_dir().glob("*.attempt"):
        with contextlib.suppress(OSError, ValueError):
            if not Path(f"/proc/{int(path.stem)}").exists() and path.stat().st_mtime < old:
                path.unlink(missing_ok=True)
    for path in records_dir().glob("*.workspace"):
        try:
            pid = int(path.stem)
            started, root = path.read_text().split(" ", 1)
        except (OSError, ValueError):
            continue
        if pid == os.getpid() or start_time(pid) == int(started):
            continue  # alive (the same process, not a namesake)
        if Path(root).name.startswith(PREFIX):
            remove_tree(Path(root))
        path.unlink(missing_ok=True)
