"""Where user code sees ``/pfs``: a bubblewrap sandbox, or rewritten paths.

Pipelines are written against ``/pfs/<input>/...`` and ``/pfs/out`` (Pachyderm's layout).
Two ways to honour that without a container runtime:

- **sandbox** (Linux, ``bwrap`` on ``PATH`` and working): user code runs under bubblewrap
  in a mount namespace that shows the host **read-only** (:func:`root_args`: every
  top-level entry of ``/``, symlinks recreated as symlinks, but ``/proc``, ``/dev``,
  ``/tmp`` and ``/pfs``), a fresh ``/proc`` (its own PID namespace) and ``/dev``, and a
  private, empty ``/tmp`` (a tmpfs). What code runs from under the host's ``/tmp`` (the
  caller's working directory, ``sys.path``, ``PATH`` and ``PYTHONPATH`` entries, the
  interpreter: a checkout under ``/tmp``, pytest's ``tmp_path``) is shown again,
  read-only. Then what user code must not see at all (:func:`hidden_paths`: the loxo
  home, a local store's directory, where scratch directories live) is covered with an
  empty tmpfs that cannot be listed, on top of everything. Last, the datum's scratch
  directory at ``/pfs`` (:func:`pfs_args`): read-only, but for ``/pfs/out``. No
  capability is kept (``--cap-drop ALL``, also as root): nothing can remount. The threat
  model is in ``docs/sandbox.md``. ``--die-with-parent`` ties the sandbox to the worker.
  Starting one costs a few ms, so a local worker runs inside one itself
  (:mod:`~loxo.execution.sandbox_worker`) and a Ray worker keeps a long-lived one
  (:mod:`~loxo.execution.sandbox_session`); others start one per command.
- **fallback**: the datum's files stay in ``<scratch>/pfs``; ``LOXO_PFS`` names it, and
  ``/pfs`` path tokens in the command's argv, stdin, working directory and the pipeline's
  environment variables are rewritten to it, so ``cp /pfs/in/x /pfs/out/`` works unchanged.

``LOXO_SANDBOX=0`` forces the fallback (no containment at all), ``LOXO_SANDBOX=1``
requires the sandbox (an error if it is unusable), anything else picks the sandbox when
it works. Whether bwrap works is
probed once per process (running ``true`` in a sandbox) and cached.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from loxo.errors import PreconditionError

PFS = "/pfs"
TMP = "/tmp"
_EXCLUDED = {"/proc", "/dev", PFS, TMP}
# "/pfs" as a whole path component: not preceded by a path character, not followed by a name one
_PFS_TOKEN = re.compile(r"(?<![\w.~/-])/pfs(?![\w.~-])")


class SandboxUnavailable(PreconditionError):
    def __init__(self, why: str) -> None:
        super().__init__(
            f"LOXO_SANDBOX=1 requires a working bubblewrap sandbox, but {why}; install it "
            "(apt-get install bubblewrap) or unset LOXO_SANDBOX to fall back to rewritten paths"
        )


@dataclass(frozen=True)
class Layout:
    """How one datum's ``/pfs`` appears to its user code."""

    host_pfs: str  # <scratch>/pfs on the host
    sandboxed: bool

    @property
    def view_pfs(self) -> str:
        """The ``/pfs`` root as user code sees it (``LOXO_PFS``)."""
        return PFS if self.sandboxed else self.host_pfs

    def rewrite(self, text: str) -> str:
        """``text`` with every ``/pfs`` path token mapped to the user-visible root."""
        if self.sandboxed or PFS not in text:
            return text
        return _PFS_TOKEN.sub(lambda _: self.host_pfs, text)

    def to_host(self, path: str) -> str:
        """A path as user code wrote it (e.g. a symlink target) as a host path."""
        if self.sandboxed and (path == PFS or path.startswith(PFS + "/")):
            return self.host_pfs + path[len(PFS) :]
        return path

    def wrap(
        self,
        argv: list[str],
        cwd: str,
        hidden: tuple[str, ...] = (),
        visible: tuple[str, ...] | None = None,
    ) -> list[str]:
        """The argv that runs ``argv`` in ``cwd``: under bwrap when sandboxed (the paths
        of ``hidden`` out of sight, those of ``visible`` in sight: see :func:`root_args`)."""
        if not self.sandboxed:
            return argv
        bwrap = bwrap_path()
        assert bwrap is not None
        root = root_args(hidden, visible)
        return [bwrap, *root, *pfs_args(self.host_pfs), "--chdir", cwd, *argv]


def pfs_args(host_pfs: str) -> list[str]:
    """``host_pfs`` at ``/pfs``, read-only but for its ``out`` (which must exist): inputs
    cannot be written, and a hard link from an input into ``/pfs/out`` crosses mounts.
    Then the sandbox's own root (where bubblewrap made the mount points) read-only too:
    the last of the mount arguments."""
    return ["--ro-bind", host_pfs, PFS, "--bind", f"{host_pfs}/out", f"{PFS}/out",
            "--remount-ro", "/"]  # fmt: skip


def use_sandbox() -> bool:
    """Whether commands run under bwrap, per ``LOXO_SANDBOX`` and the cached probe."""
    setting = os.environ.get("LOXO_SANDBOX", "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    ok, why = probe()
    if setting in ("1", "true", "yes", "on") and not ok:
        raise SandboxUnavailable(why)
    return ok


def visible_cwd(cwd: str) -> str:
    """``cwd`` if the sandbox shows it as the host's, else ``/``."""
    for hidden in ("/proc", "/dev"):
        if cwd == hidden or cwd.startswith(hidden + "/"):
            return "/"
    return cwd


def bwrap_path() -> str | None:
    return shutil.which("bwrap") if sys.platform.startswith("linux") else None


@functools.cache
def probe() -> tuple[bool, str]:
    """(works, why not): runs ``true`` in a sandbox once per process."""
    bwrap = bwrap_path()
    if bwrap is None:
        return False, "bwrap is not on PATH (or this is not Linux)"
    with tempfile.TemporaryDirectory(prefix="loxo-probe-") as tmp:
        os.mkdir(f"{tmp}/out")
        argv = Layout(tmp, True).wrap(["true"], "/")
        try:
            r = subprocess.run(argv, capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, f"running {bwrap} failed: {e}"
    if r.returncode != 0:
        return False, f"{bwrap} fails: {r.stderr.decode(errors='replace').strip()}"
    return True, ""


def hidden_paths(store_url: str, private: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What user code must not see: ``private`` (the loxo home, ``$LOXO_HOME``), a local
    object store's directory, and where scratch directories live (``$LOXO_SCRATCH`` or
    the temp directory: every worker's and datum's)."""
    paths = [*private, os.environ.get("LOXO_HOME", ""), local_root(store_url) or ""]
    paths.append(os.environ.get("LOXO_SCRATCH") or tempfile.gettempdir())
    return tuple(dict.fromkeys(os.path.abspath(p) for p in paths if p))


def local_root(store_url: str) -> str | None:
    """The directory of a local object store (None: the store is not a directory)."""
    scheme, sep, rest = store_url.partition("://")
    if not sep:
        return os.path.abspath(store_url)
    return os.path.abspath(rest) if scheme.lower() == "file" else None


def root_args(
    hidden: tuple[str, ...] = (), visible: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """bubblewrap's arguments for the sandbox's root, without ``/pfs`` (see the module
    docstring). ``visible``: the host paths code runs from (by default this process's:
    see :func:`needed_paths`)."""
    if visible is None:
        visible = needed_paths(os.getcwd(), sys.path)
    return _root_args(hidden, visible, os.geteuid() == 0)


def needed_paths(
    cwd: str, sys_path: list[str], env: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The host paths a worker and its code run from: its working directory, ``sys.path``,
    the interpreter and its prefixes, and the ``PATH`` and ``PYTHONPATH`` entries of
    ``env`` (by default this process's environment)."""
    paths = [cwd, *sys_path, *env_paths(os.environ if env is None else env)]
    paths += [os.path.dirname(sys.executable), sys.prefix, sys.exec_prefix, sys.base_prefix]
    return tuple(dict.fromkeys(p for p in paths if p))


def env_paths(env: Mapping[str, str], working_dir: str = "") -> tuple[str, ...]:
    """The directories named by ``PATH`` and ``PYTHONPATH`` in ``env``, and a pipeline's
    ``working_dir`` (unless it is under ``/pfs``)."""
    paths = [*env.get("PATH", "").split(os.pathsep), *env.get("PYTHONPATH", "").split(os.pathsep)]
    if os.path.isabs(working_dir) and not _under(working_dir, PFS):
        paths.append(working_dir)
    return tuple(p for p in paths if p)


@functools.lru_cache(maxsize=64)
def _root_args(hidden: tuple[str, ...], visible: tuple[str, ...], root: bool) -> tuple[str, ...]:
    args: list[str] = []
    for name in sorted(os.listdir("/")):
        path = "/" + name
        if path in _EXCLUDED:
            continue
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        else:
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", TMP]
    shown: list[str] = []  # what the private /tmp covers but code runs from, shown again
    for path in sorted({os.path.realpath(p) for p in visible}, key=len):
        seen = any(_under(path, s) for s in shown)
        if _under(path, TMP) and path != TMP and not seen and os.path.isdir(path):
            shown.append(path)
            args += ["--ro-bind", path, path]
    covered: list[str] = []  # hidden on top of everything, unlistable
    for path in sorted({os.path.realpath(p) for p in hidden}, key=len):
        if path == "/" or not os.path.isdir(path) or any(_under(path, c) for c in covered):
            continue
        if _under(path, TMP) and not any(_under(path, s) for s in shown):
            continue  # not in sight anyway
        covered.append(path)
        args += ["--perms", "0000", "--tmpfs", path]
    args += ["--unshare-pid", "--die-with-parent"]
    if root:
        args += ["--cap-drop", "ALL"]  # nothing can remount what is read-only
    return tuple(args)


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")
