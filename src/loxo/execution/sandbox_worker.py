"""A local worker that runs inside its own bubblewrap sandbox: no agent between it and
the commands it runs.

A worker that starts commands through an exec agent in its long-lived sandbox
(:mod:`~loxo.execution.sandbox_session`) pays a hop per command: the request to the agent,
the agent's spawn, its answer, two more processes to wake on a busy machine. For sets of
commands (without ``transform.user``) the local executor
therefore starts the worker process itself under bubblewrap, with the same layout
(:func:`~loxo.execution.sandbox.root_args`: the host read-only, a private ``/tmp``, the
loxo home, the store and the scratch directories hidden; its own PID namespace;
``--die-with-parent``; no capability), and a scratch directory that the parent made
bound at ``/pfs``, read-only but for ``/pfs/out``. The worker then runs each command as
it would outside (its own process group, captured pipes) and, once the command has
ended, kills every other process of the sandbox -- there is nothing else of its own there
(:func:`~loxo.execution.sandbox_agent.end_rest`): what a datum started never outlives it.
The worker is the subreaper of its commands' orphans, so that "nothing left" (the usual
case) costs one ``waitid``. It is a forked child of the interpreter bubblewrap starts as
the sandbox's pid 1 (``--as-pid-1``; :func:`_go_on_forked`: fresh interpreters schedule
worse with their commands), so it is pid 2 there, and its ``kill(-1)`` spares pid 1.

**The worker's own ways out.** The worker must write what its user code may not: the
datum's inputs into ``/pfs`` and outputs into the store, both out of sight in the
sandbox. Its parent opens both directories (the scratch ``pfs``, a local store's root)
before bubblewrap starts and passes the descriptors; the worker reaches them as
``/proc/self/fd/N/...`` (a descriptor's magic link leads to the host's directory, across
mount namespaces): ``WorkerSetup.writable`` and ``stores``. It costs nothing per datum.
User code cannot use them: the descriptors are close-on-exec in the worker (and closed in
pid 1), and both processes are undumpable (``PR_SET_DUMPABLE`` 0, before the fork), so
without capabilities a process of the same user can open nothing under their
``/proc/<pid>`` (``fd``, ``cwd``, ``root``, ``mem``). A worker serves only sets of the
store, private paths and pipeline ``PATH`` it was started for (:func:`kind`).

Python transforms and commands with ``transform.user`` run in workers outside
(``multiprocessing``): a Python call would see its own process as pid 2 (and hold the
worker's descriptors), and switching users needs capabilities that the sandbox drops.

Parent side (:func:`start`): the scratch directory ``<$LOXO_SCRATCH or temp dir>/
loxo-worker-XXXX`` with its ``pfs`` (and ``pfs/out``) and an ``owner`` record (this
process's pid and start time), a socket pair for the worker's connection, a pipe for
control, and the worker's :class:`~loxo.execution.worker_slot.WorkerSlot` in a memory
file, all passed as inherited descriptors with the two directories; then the
:class:`~loxo.execution.worker.WorkerSetup` as the first message.
:class:`SandboxedProcess` gives the executor the parts of ``multiprocessing``'s process
it uses, and removes the scratch directory once the worker is gone. A parent killed
outright cannot remove it: the first worker a process starts removes the directories whose
owner is gone. Worker side: :func:`boot`, run by a ``python -c`` line that first sets
``sys.path`` to the parent's.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path

from .control import start_time
from .environment import remove_tree
from .sandbox import (
    PFS,
    SandboxUnavailable,
    bwrap_path,
    env_paths,
    hidden_paths,
    local_root,
    needed_paths,
    pfs_args,
    root_args,
    use_sandbox,
)
from .sandbox_agent import become_subreaper, undumpable
from .sandbox_session import agent_enabled
from .task import TaskSet
from .worker import WorkerSetup
from .worker import main as worker_main
from .worker_slot import WorkerSlot
from .workspace import PREFIX

__all__ = ["OWNER", "PREFIX", "SandboxedProcess", "boot", "kind", "start", "wanted"]

OWNER = "owner"  # in a worker's scratch directory: "<pid> <start time>" of its parent
BOOT = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from loxo.execution.sandbox_worker import boot; boot(*map(int, sys.argv[2:]))"
)
# what a contained worker is started for: its store, the private paths, the pipeline's
# own PATH and PYTHONPATH entries and working directory (which its sandbox shows)
Kind = tuple[str, tuple[str, ...], tuple[str, ...]]
LOST = 3  # the worker's exit code when its /pfs became unusable (see Workspace.lost)


def wanted(ts: TaskSet) -> bool:
    """Whether ``ts`` runs in a worker inside its sandbox: commands without a user switch,
    where the sandbox is used (a required sandbox that does not work is reported by the
    datums, in a worker outside) and the agent is not turned off (``LOXO_SANDBOX_AGENT=0``
    keeps one sandbox per command)."""
    t = ts.transform
    if t.python or t.user or not agent_enabled():
        return False
    try:
        return use_sandbox()
    except SandboxUnavailable:
        return False


def kind(ts: TaskSet) -> Kind | None:
    """The contained worker ``ts`` needs (None: it runs in a worker outside): workers
    started for one store and one private set of paths serve only sets of the same."""
    if not wanted(ts):
        return None
    t = ts.transform
    return ts.store_url, ts.private, env_paths(dict(t.env), t.working_dir)


class SandboxedProcess:
    """A sandboxed worker as the executor sees it: the parts of ``multiprocessing``'s
    ``BaseProcess`` it uses (``pid`` is bubblewrap's, which the worker dies with)."""

    def __init__(self, popen: subprocess.Popen[bytes], scratch: Path) -> None:
        self._popen, self._scratch = popen, scratch
        self.pid = popen.pid
        self.sentinel = os.pidfd_open(popen.pid)  # readable once bubblewrap has exited

    @property
    def exitcode(self) -> int | None:
        """As ``multiprocessing`` says it: negative for a signal (bubblewrap reports a
        worker killed by signal N as 128 + N)."""
        code = self._popen.poll()
        if code is not None and 128 < code <= 128 + 64:
            return 128 - code
        return code

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)

    def close(self) -> None:
        """Release the process and remove its scratch directory (once it has exited)."""
        if self._popen.poll() is None:
            raise ValueError("the sandboxed worker is still running")
        if self.sentinel >= 0:
            os.close(self.sentinel)
            self.sentinel = -1
            remove_tree(self._scratch)


def start(
    setup: WorkerSetup, for_kind: Kind
) -> tuple[SandboxedProcess, Connection, Connection, WorkerSlot]:
    """Start a worker in its sandbox for sets of ``for_kind`` (see :func:`kind`):
    (process, connection, control end, slot)."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise OSError("bwrap is not on PATH")
    store_url, private, paths = for_kind
    hidden = hidden_paths(store_url, private)
    scratch = _scratch()
    ours, theirs = socket.socketpair()
    ctrl_r, ctrl_w = os.pipe()
    slot: WorkerSlot | None = None
    dirs: list[int] = []  # the worker's own ways to its pfs and store (see the docstring)
    try:
        slot = WorkerSlot.in_memfd()
        dirs.append(_open_dir(scratch / "pfs"))
        store_root = local_root(store_url)
        if store_root is not None:
            os.makedirs(store_root, exist_ok=True)
            dirs.append(_open_dir(Path(store_root)))
        fds = (theirs.fileno(), ctrl_r, slot.fd, *dirs)
        visible = (*needed_paths(setup.cwd, setup.sys_path, setup.env), *paths)
        argv = [bwrap, *root_args(hidden, visible), "--as-pid-1",
                *pfs_args(str(scratch / "pfs")), "--chdir", "/", sys.executable, "-c", BOOT,
                json.dumps(setup.sys_path), *map(str, fds)]  # fmt: skip
        popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, pass_fds=fds, start_new_session=True
        )
    except BaseException:
        for fd in (ours.detach(), ctrl_w):
            os.close(fd)
        if slot is not None:
            slot.close_fd()
        remove_tree(scratch)
        raise
    finally:
        theirs.close()
        os.close(ctrl_r)
        for fd in dirs:
            os.close(fd)
    slot.close_fd()
    proc = SandboxedProcess(popen, scratch)
    conn = Connection(ours.detach())
    name = f"{socket.gethostname()}:{popen.pid}"
    stores = ((store_url, f"/proc/self/fd/{dirs[1]}"),) if store_root is not None else ()
    writable = f"/proc/self/fd/{dirs[0]}"
    conn.send(
        WorkerSetup(
            setup.env, setup.sys_path, setup.cwd, name, PFS, writable=writable, stores=stores
        )
    )
    return proc, conn, Connection(ctrl_w, readable=False), slot


def _open_dir(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def boot(conn_fd: int, ctrl_fd: int, slot_fd: int, *dirs: int) -> None:
    """The worker's entry point inside the sandbox (its descriptors from :func:`start`):
    the worker proper is a forked child of this process (see :func:`_go_on_forked`).
    Both are undumpable first: user code of the same user cannot open what is theirs
    in ``/proc`` (the ``dirs``, the ways to the store and to a writable ``/pfs``)."""
    undumpable()
    _go_on_forked((conn_fd, ctrl_fd, slot_fd, *dirs))
    conn = Connection(conn_fd)
    ctrl = Connection(ctrl_fd, writable=False)
    slot = WorkerSlot.attach(slot_fd)
    become_subreaper()  # what a command leaves running stays a child (see end_rest)
    setup = conn.recv()
    if not worker_main(conn, ctrl, slot, setup):
        sys.exit(LOST)


def _go_on_forked(fds: tuple[int, ...]) -> None:
    """Return in a forked child of this process, which stays as the sandbox's init (pid
    1: bubblewrap runs with ``--as-pid-1``, so the worker's ``kill(-1)`` spares it),
    reaps what is left to it, and exits as the worker did once it has (``128 + N`` for
    signal ``N``, as bubblewrap reports it).

    Measured, not understood: on a 2-CPU VM (Linux 6.18), a worker that is the process
    bubblewrap exec'd falls, in about half of its jobs, into a pattern where each command
    is moved to the other CPU at exec and the worker follows it when it exits: 4-5x the
    task migrations, the CPUs ~12% idle, jobs of small commands ~20% slower. A worker
    forked from an interpreter that is already running (as ``multiprocessing``'s
    forkserver makes the others) fell into it in none of 20 jobs, against 10 of 20 in
    the same hour without the fork. The cost: one idle interpreter per sandbox, sharing
    its pages with the worker. When this process ends, the kernel ends the whole
    sandbox (the worker with it)."""
    pid = os.fork()  # no thread runs yet: the worker starts its own after this
    if pid == 0:
        return
    for fd in fds:
        os.close(fd)  # the worker's alone: its parent sees it end when it ends
    while True:  # as init: any orphan the worker did not adopt is reaped here too
        done, status = os.waitpid(-1, 0)
        if done == pid:
            break
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)


def _scratch() -> Path:
    """A new worker's scratch directory, with its ``pfs`` and ``owner`` record."""
    parent = os.environ.get("LOXO_SCRATCH") or None
    if parent:
        os.makedirs(parent, exist_ok=True)
    with contextlib.suppress(OSError):
        _sweep(parent or tempfile.gettempdir())
    root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    try:
        os.mkdir(root / "pfs", 0o777)  # as a plain mkdir makes it (the umask applies)
        os.mkdir(root / "pfs" / "out", 0o777)  # the sandbox's one writable mount of it
        me = os.getpid()
        (root / OWNER).write_text(f"{me} {start_time(me) or 0}")
    except BaseException:
        remove_tree(root)
        raise
    return root


@functools.cache
def _sweep(parent: str) -> None:
    """Once per process and directory: remove the scratch directories of sandboxed
    workers whose parent is gone."""
    for entry in os.scandir(parent):
        if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            pid, started = (int(x) for x in Path(entry.path, OWNER).read_text().split())
        except (OSError, ValueError):
            continue  # not a sandboxed worker's (or not finished being made)
        if start_time(pid) != started:
            remove_tree(Path(entry.path))
