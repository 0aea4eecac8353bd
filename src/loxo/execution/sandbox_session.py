"""A worker's long-lived sandbox: one bubblewrap per worker, one exec agent inside.

Starting bubblewrap costs a few milliseconds, more than a small datum's whole command, so a
local worker keeps one sandbox for as long as its :class:`~loxo.execution.workspace.Workspace`
lives: the same mount layout as a per-datum sandbox (:mod:`~loxo.execution.sandbox`), with
the workspace's ``pfs`` directory bound at ``/pfs``, running
:mod:`~loxo.execution.sandbox_agent`. Each command is handed to the agent with its three
standard file descriptors; the agent reports its start and its exit, and kills every
process of the sandbox but itself before reporting an exit, so what a datum started never
outlives it, and the next datum, whose files the worker puts in the same ``/pfs``, starts in
an empty sandbox. Timeouts and kills go through the agent too (:meth:`AgentProcess.kill`).

Differences from a per-datum sandbox: the sandbox keeps no capability even when the worker
runs as root (``--cap-drop ALL``: nothing a datum mounts could outlive it), and the agent is
a process of the sandbox (undumpable; a datum that kills it fails, and the worker starts a
new sandbox). ``--die-with-parent`` ends the sandbox with the worker. Commands that switch
users (``transform.user``) still get a sandbox of their own; ``LOXO_SANDBOX_AGENT=0`` gives
every command one, as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import IO, Any

from .sandbox import PFS, bwrap_path, root_args

AGENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_agent.py")
START_TIMEOUT = 30.0
MAX_MESSAGE = 1 << 16


class AgentError(OSError):
    """The sandbox agent is gone or answered nonsense."""


def agent_enabled() -> bool:
    setting = os.environ.get("LOXO_SANDBOX_AGENT", "").strip().lower()
    return setting not in ("0", "false", "no", "off")


class SandboxSession:
    """bwrap + agent with ``host_pfs`` at ``/pfs``; one command at a time."""

    def __init__(self, host_pfs: str) -> None:
        self.host_pfs = host_pfs
        bwrap = bwrap_path()
        if bwrap is None:
            raise AgentError("bwrap is not on PATH")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        caps = ["--cap-drop", "ALL"] if os.geteuid() == 0 else []
        argv = [bwrap, *root_args(), *caps, "--bind", host_pfs, PFS, "--chdir", "/",
                sys.executable, "-I", "-S", AGENT, str(theirs.fileno())]  # fmt: skip
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._errors,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.sock = ours
        self.broken = False
        try:
            ready = self.recv(START_TIMEOUT)
        except AgentError as e:
            self.close()
            raise AgentError(f"the sandbox did not start: {e}{self._stderr()}") from None
        if not ready.get("ready"):
            self.close()
            raise AgentError(f"the sandbox agent said {ready!r}")

    def _stderr(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self._errors.seek(0)
            text = self._errors.read().decode(errors="replace").strip()
            return f" ({text[-2000:]})" if text else ""
        return ""

    def recv(self, timeout: float | None = None) -> dict[str, Any]:
        if timeout is not None:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                self.broken = True
                raise AgentError(f"no answer within {timeout:g}s")
        try:
            data = self.sock.recv(MAX_MESSAGE)
        except OSError as e:
            self.broken = True
            raise AgentError(f"the sandbox agent is gone ({e})") from None
        if not data:
            self.broken = True
            raise AgentError("the sandbox agent is gone")
        try:
            msg = json.loads(data)
        except ValueError:
            self.broken = True
            raise AgentError("the sandbox agent answered garbage") from None
        if not isinstance(msg, dict):
            self.broken = True
            raise AgentError("the sandbox agent answered garbage")
        return msg

    def start(
        self, argv: list[str], env: Mapping[str, str], cwd: str, *, stdin: bool
    ) -> AgentProcess:
        """Hand ``argv`` to the agent; raises :class:`AgentError` if the agent is gone. A
        command that cannot start ends at once with :attr:`AgentProcess.start_error` set."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        if stdin:
            in_r, in_w = os.pipe()
        else:
            in_r, in_w = os.open(os.devnull, os.O_RDONLY), -1
        request = json.dumps({"argv": argv, "env": dict(env), "cwd": cwd}).encode()
        try:
            socket.send_fds(self.sock, [request], [in_r, out_w, err_w])
        except OSError as e:
            self.broken = True
            for fd in (in_w, out_r, err_r):
                if fd >= 0:
                    os.close(fd)
            raise AgentError(f"the sandbox agent is gone ({e})") from None
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        return AgentProcess(self, in_w, out_r, err_r)

    def kill(self) -> None:
        """Kill the running command's processes (nothing if none runs)."""
        with contextlib.suppress(OSError):
            self.sock.send(b'{"kill": true}')

    def close(self) -> None:
        """Stop the agent and the sandbox (everything in it dies)."""
        with contextlib.suppress(OSError):
            self.sock.close()
        proc = getattr(self, "proc", None)
        if proc is not None:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._errors.close()


class AgentProcess:
    """A command run by the agent, shaped like the parts of ``Popen`` that
    :mod:`~loxo.execution.runcmd` uses."""

    def __init__(self, session: SandboxSession, stdin: int, stdout: int, stderr: int) -> None:
        self.session = session
        self.stdin: IO[bytes] | None = os.fdopen(stdin, "wb", buffering=0) if stdin >= 0 else None
        self.stdout: IO[bytes] | None = os.fdopen(stdout, "rb", buffering=0)
        self.stderr: IO[bytes] | None = os.fdopen(stderr, "rb", buffering=0)
        self.returncode: int | None = None
        self.start_error = ""  # why the command could not start (it then "exits" with 127)

    def exit_fd(self) -> int:
        """Readable once the command has ended (or the agent is gone)."""
        return self.session.sock.fileno()

    def poll(self) -> int | None:
        if self.returncode is None:
            ready, _, _ = select.select([self.session.sock], [], [], 0)
            if ready:
                self._read_exit()
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self._read_exit()
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            self.session.kill()

    def _read_exit(self) -> None:
        try:
            msg = self.session.recv()
        except AgentError:
            self.returncode = -9  # the agent died: so did everything in the sandbox
            return
        if "error" in msg:
            self.start_error = str(msg["error"]) or "the sandbox agent could not start it"
            self.returncode = 127
            return
        code = msg.get("exit")
        if not isinstance(code, int):
            self.session.broken = True
            code = -9
        self.returncode = code
