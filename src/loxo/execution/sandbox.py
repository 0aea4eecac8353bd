"""Where user code sees ``/pfs``: a bubblewrap sandbox, or rewritten paths.

Pipelines are written against ``/pfs/<input>/...`` and ``/pfs/out`` (Pachyderm's layout).
Two ways to honour that without a container runtime:

- **sandbox** (Linux, ``bwrap`` on ``PATH`` and working): each command runs under
  bubblewrap in a mount namespace whose root binds every top-level entry of the host's
  ``/`` (symlinks recreated as symlinks) except ``/proc``, ``/dev`` and ``/pfs``; then a
  fresh ``/proc`` (the command gets its own PID namespace), ``/dev`` and the datum's scratch
  directory at ``/pfs``. The host's ``/tmp`` stays visible, so code and data a pipeline
  uses from there (a checkout under ``/tmp``, say) work as they do outside.
  ``--die-with-parent`` ties the sandbox to the worker. Starting one costs a few ms, so a
  local worker runs its commands in one long-lived sandbox of these same arguments
  (:mod:`~loxo.execution.sandbox_session`); others start one per command.
- **fallback**: the datum's files stay in ``<scratch>/pfs``; ``LOXO_PFS`` names it, and
  ``/pfs`` path tokens in the command's argv, stdin, working directory and the pipeline's
  environment variables are rewritten to it, so ``cp /pfs/in/x /pfs/out/`` works unchanged.

``LOXO_SANDBOX=0`` forces the fallback, ``LOXO_SANDBOX=1`` requires the sandbox (an error
if it is unusable), anything else picks the sandbox when it works. Whether bwrap works is
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
from dataclasses import dataclass

from loxo.errors import PreconditionError

PFS = "/pfs"
_EXCLUDED = {"/proc", "/dev", PFS}
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

    def wrap(self, argv: list[str], cwd: str) -> list[str]:
        """The argv that runs ``argv`` in ``cwd``: under bwrap when sandboxed."""
        if not self.sandboxed:
            return argv
        bwrap = bwrap_path()
        assert bwrap is not None
        return [bwrap, *root_args(), "--bind", self.host_pfs, PFS, "--chdir", cwd, *argv]


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
        argv = Layout(tmp, True).wrap(["true"], "/")
        try:
            r = subprocess.run(argv, capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, f"running {bwrap} failed: {e}"
    if r.returncode != 0:
        return False, f"{bwrap} fails: {r.stderr.decode(errors='replace').strip()}"
    return True, ""


@functools.cache
def root_args() -> tuple[str, ...]:
    args: list[str] = []
    for name in sorted(os.listdir("/")):
        path = "/" + name
        if path in _EXCLUDED:
            continue
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        else:
            args += ["--bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--unshare-pid", "--die-with-parent"]
    return tuple(args)
