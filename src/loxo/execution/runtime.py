"""The worker runtime: run ONE datum of a task set, from input refs to an output fileset.

For each datum, in a fresh scratch directory (``environment``):

1. materialise the inputs at ``<scratch>/pfs/<input>/<path>`` and an empty ``/pfs/out``
   (``materialize``; the *download* time);
2. run the transform (*process* time): a command, in the bubblewrap sandbox or with
   rewritten ``/pfs`` paths (``sandbox``, ``runcmd``), or a Python function in this
   process (``pyfunc``);
3. on success, check and upload ``/pfs/out`` and build its fileset (``output``; *upload*
   time). An output that breaks the rules fails the attempt like a non-zero exit.

A failed attempt is retried, with ``/pfs/out`` emptied, up to ``datum_tries`` attempts in
all; after the last one ``err_cmd`` (if any) may mark the datum RECOVERED (its output is
discarded). An executor can interrupt attempts through a
:class:`~loxo.execution.control.DatumControl`, and can continue a datum whose worker died
(:class:`Resume`: the attempts already used, the last error and the logs so far).
:func:`run_datum` never raises: whatever goes wrong ends in a FAILED result saying why.
"""

from __future__ import annotations

import functools
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from loxo.errors import LoxoError
from loxo.storage.objectstore import ObjectStore
from loxo.storage.registry import open_store

from . import pyfunc
from .control import DatumControl
from .environment import empty_dir, pipeline_env, process_env, scratch_dir
from .logs import LogCollector
from .materialize import input_dir, local_path, materialize
from .output import Uploaded, collect, upload
from .output_pack import PackGroup
from .runcmd import (
    CommandError,
    check_reachable,
    reachable,
    run_command,
    user_env,
    user_options,
)
from .sandbox import (
    Layout,
    env_paths,
    hidden_paths,
    needed_paths,
    use_sandbox,
    visible_cwd,
)
from .sandbox_session import agent_enabled
from .task import DatumResult, DatumState, DatumTask, LogLine, TaskSet
from .workspace import Workspace

_stores: dict[str, ObjectStore] = {}
_stores_lock = threading.Lock()


@dataclass(frozen=True)
class Resume:
    """Where an interrupted datum stands: attempts used, last error, logs so far."""

    attempts: int
    error: str
    logs: tuple[LogLine, ...] = ()


_name: str | None = None  # set by a worker whose pid means nothing to others (in a sandbox)


def worker_name() -> str:
    return _name or _worker_name(os.getpid())


def set_worker_name(name: str) -> None:
    """How this process's datum results name their worker (default: host and pid)."""
    global _name
    _name = name


@functools.cache
def _worker_name(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


_store_paths: dict[str, str] = {}  # store URL -> where this process opens it instead


def set_store_path(url: str, path: str) -> None:
    """Open the local store ``url`` at ``path`` in this process (a worker inside its
    sandbox, where the store's own directory is out of sight: ``/proc/self/fd/N``)."""
    with _stores_lock:
        _store_paths[url] = path
        _stores.pop(url, None)


def store_for(url: str) -> ObjectStore:
    """One store object per URL per process (opened on first use)."""
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = open_store(_store_paths.get(url, url))
        return store


def run_datum(
    ts: TaskSet,
    task: DatumTask,
    *,
    control: DatumControl | None = None,
    resume: Resume | None = None,
    capture: pyfunc.Capture | None = None,
    threaded_python: bool = True,
    sync_output: bool = True,
    workspace: Workspace | None = None,
    pack: PackGroup | None = None,
    environ: Mapping[str, str] | None = None,
) -> DatumResult:
    """Run every attempt of one datum; the final result (never raises).

    With ``sync_output=False`` the output's objects are written but not made durable: the
    caller must call ``store_for(ts.store_url).sync()`` before it reports the result (a
    local worker does so once for a group of datums). A ``workspace`` (one per process,
    one datum at a time) replaces the fresh scratch directory, and the per-command
    sandbox, with its reusable ones. With a ``pack`` (which implies ``sync_output=False``)
    a small output goes into that shared pack: the caller writes it, then syncs, before it
    reports the result. ``environ`` is the worker's environment for commands
    (``os.environ`` when not given): a caller running many datums may snapshot it once."""
    run = _DatumRun(ts, task, control or DatumControl(task.datum_id), resume)
    run.capture = capture or pyfunc.SysCapture()
    run.threaded_python = threaded_python
    run.sync_output = sync_output
    run.workspace = workspace
    run.pack = pack
    run.environ = environ
    try:
        return run.run()
    except LoxoError as e:  # a setup problem, such as a required sandbox that does not work
        run.logs.system(str(e))
        run.error = str(e)
        return run.finish(DatumState.FAILED)
    except Exception as e:  # a bug: report it with its traceback
        run.logs.system(f"worker error: {traceback.format_exc().rstrip()}")
        run.error = f"worker error: {e}"
        return run.finish(DatumState.FAILED)


class _DatumRun:
    capture: pyfunc.Capture
    threaded_python: bool
    sync_output: bool = True
    workspace: Workspace | None = None
    pack: PackGroup | None = None
    environ: Mapping[str, str] | None = None

    def __init__(
        self, ts: TaskSet, task: DatumTask, control: DatumControl, resume: Resume | None
    ) -> None:
        self.ts, self.task, self.control = ts, task, control
        self.tries = max(1, ts.datum_tries)
        self.logs = LogCollector(prior=resume.logs if resume else ())
        self.attempts = resume.attempts if resume else 0
        self.error = resume.error if resume else ""
        self.result = DatumResult(
            ts.job_id, task.datum_id, DatumState.STARTING, worker=worker_name(), started=time.time()
        )
        self.materialized = False
        self.out_fresh = False  # /pfs/out was just made, empty: the first attempt needs no reset

    def run(self) -> DatumResult:
        err_cmd = self.ts.transform.err_cmd
        if self.attempts >= self.tries and not err_cmd:
            return self.finish(DatumState.FAILED)
        if self.workspace is not None:
            scratch_cm = self.workspace.datum(i.name for i in self.task.inputs)
        else:
            scratch_cm = scratch_dir()
        with scratch_cm as scratch:
            pfs = os.path.join(scratch, "pfs")
            if self.workspace is None:
                os.makedirs(f"{pfs}/out")
            self.out_fresh = True
            sandboxed = self._contained() or (not self.ts.transform.python and use_sandbox())
            self.layout = Layout(pfs, sandboxed)
            self.env = pipeline_env(self.ts, self.task, self.layout)
            while self.attempts < self.tries and not self.control.cancelled:
                self.attempts += 1
                uploaded = self._attempt(self.attempts)
                if uploaded is not None:
                    return self.finish(DatumState.SUCCESS, uploaded)
            if err_cmd and not self.control.cancelled and self._recover():
                return self.finish(DatumState.RECOVERED)
        return self.finish(DatumState.FAILED)

    def finish(self, state: DatumState, uploaded: Uploaded | None = None) -> DatumResult:
        r = self.result
        r.state, r.attempts, r.finished = state, self.attempts, time.time()
        r.error = "" if state == DatumState.SUCCESS else self.error
        r.logs = self.logs.snapshot()
        if uploaded is not None:
            r.output_root, r.output_files, r.upload_bytes = (
                uploaded.root,
                uploaded.files,
                uploaded.bytes,
            )
        return r

    # --- one attempt -------------------------------------------------------------------

    def _attempt(self, n: int) -> Uploaded | None:
        self.control.begin_attempt()
        try:
            if not self.materialized:
                t0 = time.monotonic()
                store = store_for(self.ts.store_url)
                pfs = self._writable_pfs()
                made: tuple[str, ...] = ()
                if self.workspace is not None:  # it made the input directories
                    made = tuple(f"{pfs}/{i.name}" for i in self.task.inputs)
                self.result.download_bytes = materialize(store, self.task.inputs, pfs, made=made)
                self.result.download_seconds += time.monotonic() - t0
                self.materialized = True
            ok, error = self._user_code(n)
            if ok:
                t0 = time.monotonic()
                store = store_for(self.ts.store_url)
                files = collect(self.layout, self.task.inputs)
                uploaded = upload(store, files, sync=self.sync_output, pack=self.pack)
                self.result.upload_seconds += time.monotonic() - t0
                return uploaded
        except (LoxoError, CommandError, OSError) as e:
            error = str(e)
        self.error = error
        self.logs.system(f"attempt {n} of {self.tries} failed: {error}")
        return None

    def _user_code(self, n: int) -> tuple[bool, str]:
        t = self.ts.transform
        out = f"{self.layout.host_pfs}/out"
        if t.python:
            if t.user:
                raise CommandError("transform.user applies to commands, not Python transforms")
            self._reset_out(out, None)
            self.control.on_attempt(n, self.ts.datum_timeout, self.logs.snapshot())
            called = pyfunc.call(
                t.python,
                self._datum(),
                logs=self.logs,
                capture=self.capture,
                control=self.control,
                timeout=self.ts.datum_timeout,
                threaded=self.threaded_python,
            )
            self.control.on_attempt_end(n)
            self.result.process_seconds += called.seconds
            return called.ok, called.error
        owner = _owner(t.user)
        if owner is not None:  # let the user reach /pfs (mkdtemp made it private)
            if not self._contained():
                os.chmod(os.path.dirname(self.layout.host_pfs), 0o755)
            os.chmod(self.layout.host_pfs, 0o755)
            check_reachable(out, t.user)
        self._reset_out(out, owner)
        self.control.on_attempt(n, None, self.logs.snapshot())
        ok, error = self._command(t.cmd, t.stdin, t.accept_return_code)
        return ok, error

    def _reset_out(self, out: str, owner: tuple[int, int] | None) -> None:
        """An empty ``/pfs/out`` for this attempt (kept as made for the first one; else
        emptied in place: a long-lived sandbox has this very directory mounted)."""
        if self.out_fresh:
            self.out_fresh = False
            if owner is not None:
                os.chown(out, *owner)
            return
        empty_dir(out, owner)

    def _recover(self) -> bool:
        self.control.begin_attempt()
        t = self.ts.transform
        try:
            ok, error = self._command(t.err_cmd, t.err_stdin, ())
        except (LoxoError, CommandError, OSError) as e:
            ok, error = False, str(e)
        if ok:
            self.logs.system("err_cmd succeeded: the datum is recovered")
            return True
        self.logs.system(f"err_cmd failed: {error}")
        return False

    def _command(
        self, cmd: tuple[str, ...], stdin: tuple[str, ...], accept: tuple[int, ...]
    ) -> tuple[bool, str]:
        if not cmd:
            raise CommandError("transform has neither cmd nor python")
        t, layout = self.ts.transform, self.layout
        data = ("\n".join(layout.rewrite(s) for s in stdin) + "\n").encode() if stdin else None
        session, contained = None, self._contained()
        if contained:  # this worker is in the sandbox: /pfs is where the command sees it
            argv, cwd = list(cmd), t.working_dir or None
        elif layout.sandboxed and not t.user and self.workspace is not None and agent_enabled():
            session = self.workspace.sandbox(*self._view())
            argv, cwd = list(cmd), t.working_dir or visible_cwd(os.getcwd())
        elif layout.sandboxed:
            # another user may not reach the caller's directory: they start at the root
            inherited = "/" if t.user else visible_cwd(os.getcwd())
            hidden, visible = self._view()
            if t.user:  # bubblewrap runs as that user: what it cannot reach is not shown
                hidden = tuple(p for p in hidden if reachable(p, t.user))
                visible = tuple(p for p in visible if reachable(p, t.user))
            argv = layout.wrap(list(cmd), t.working_dir or inherited, hidden, visible)
            cwd = None
        else:
            workdir = layout.rewrite(t.working_dir) if t.working_dir else ""
            argv, cwd = [layout.rewrite(a) for a in cmd], workdir or None
        outcome = run_command(
            argv,
            stdin=data,
            env=process_env(self.env, layout, user_env(t.user), self.environ),
            cwd=cwd,
            user=t.user,
            timeout=self.ts.datum_timeout,
            accept=accept,
            logs=self.logs,
            control=self.control,
            session=session,
            contained=contained,
        )
        self.result.process_seconds += outcome.seconds
        return outcome.ok, outcome.error

    def _view(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What the sandbox hides from user code and what it shows of the host, if the
        private ``/tmp`` covers it (see :func:`~loxo.execution.sandbox.root_args`): this
        worker's directories, the pipeline's ``PATH`` and working directory."""
        t = self.ts.transform
        env = {**(os.environ if self.environ is None else self.environ), **dict(t.env)}
        visible = (*needed_paths(os.getcwd(), sys.path, env), *env_paths({}, t.working_dir))
        return hidden_paths(self.ts.store_url, self.ts.private), visible

    def _writable_pfs(self) -> str:
        """Where this worker writes the datum's inputs: ``/pfs`` on the host, or, for a
        worker inside its sandbox (where user code sees ``/pfs`` read-only), its
        writable twin (:attr:`~loxo.execution.workspace.Workspace.writable`)."""
        if self._contained():
            assert self.workspace is not None and self.workspace.writable is not None
            return self.workspace.writable
        return self.layout.host_pfs

    def _contained(self) -> bool:
        """Whether this worker runs inside its own sandbox (its workspace is bound)."""
        return self.workspace is not None and self.workspace.bound is not None

    def _datum(self) -> pyfunc.Datum:
        pfs = _pfs_path(self.layout.host_pfs)
        names = [i.name for i in self.task.inputs]
        inputs = {
            i.name: local_path(pfs, i.name, i.path)
            if names.count(i.name) == 1
            else input_dir(pfs, i.name)
            for i in self.task.inputs
        }
        return pyfunc.Datum(
            self.task.datum_id, self.ts.job_id, pfs, _out_path(pfs), inputs, dict(self.env)
        )


@functools.lru_cache(maxsize=16)
def _pfs_path(host_pfs: str) -> Path:
    """(Remembered: a warm worker's ``pfs`` is the same for every datum.)"""
    return Path(host_pfs)


@functools.lru_cache(maxsize=16)
def _out_path(pfs: Path) -> Path:
    return pfs / "out"


def _owner(user: str) -> tuple[int, int] | None:
    options = user_options(user)
    return (options["user"], options["group"]) if options else None
