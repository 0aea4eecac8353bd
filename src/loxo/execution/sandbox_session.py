"""A worker's long-lived sandbox: one bubblewrap per worker, one exec agent inside.

Starting bubblewrap costs a few milliseconds, more than a small datum's whole command, so a
Ray worker keeps one sandbox for as long as its :class:`~loxo.execution.workspace.Workspace`
lives (a local worker lives in one itself: :mod:`~loxo.execution.sandbox_worker`): the same
mount layout as a per-datum sandbox (:mod:`~loxo.execution.sandbox`), with
the workspace's ``pfs`` directory bound at ``/pfs``, running
:mod:`~loxo.execution.sandbox_agent`. Each command is handed to the agent with its three
standard file descriptors and what changed in its environment since the previous command
(most variables are the same for every datum); the agent reports a failed start or the
exit, and kills every process of the sandbox but itself before reporting an exit, so what
a datum started never outlives it, and the next datum, whose files the worker puts in the
same ``/pfs``, starts in an empty sandbox. Timeouts and kills go through the agent too
(:meth:`AgentProcess.kill`).

As in every sandbox, no capability is kept even when the worker runs as root
(``--cap-drop ALL``: nothing a datum does can remount what is read-only). Differences from
a per-datum sandbox: the agent is a process of the sandbox (undumpable; a datum that kills
it fails, and the worker starts a new sandbox). ``--die-with-parent`` ends the sandbox
with the worker. Commands that switch
users (``transform.user``) still get a sandbox of their own; ``LOXO_SANDBOX_AGENT=0`` gives
every command one (local workers included), as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import Any

from .sandbox import bwrap_path, pfs_args, root_args

AGENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_agent.py")
START_TIMEOUT = 30.0
MAX_MESSAGE = 1 << 16
_EXIT = re.compile(rb'\{"exit": (-?[0-9]{1,3})\}')


class AgentError(OSError):
    """The sandbox agent is gone or answered nonsense."""


def agent_enabled() -> bool:
    setting = os.environ.get("LOXO_SANDBOX_AGENT", "").strip().lower()
    return setting not in ("0", "false", "no", "off")


class SandboxSession:
    """bwrap + agent with ``host_pfs`` at ``/pfs`` (its ``out`` alone writable), the paths
    of ``hidden`` out of sight and those of ``visible`` in sight (see :func:`~loxo.
    execution.sandbox.root_args`); one command at a time."""

    def __init__(
        self,
        host_pfs: str,
        hidden: tuple[str, ...] = (),
        visible: tuple[str, ...] | None = None,
    ) -> None:
        self.host_pfs, self.view = host_pfs, (hidden, visible)
        bwrap = bwrap_path()
        if bwrap is None:
            raise AgentError("bwrap is not on PATH")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = [bwrap, *root_args(hidden, visible), *pfs_args(host_pfs), "--chdir", "/",
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
        self._env: dict[str, str] = {}  # the environment the agent holds (the last sent)
        self._devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
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
        exit_code = _EXIT.fullmatch(data)  # the usual answer, in the agent's exact JSON
        if exit_code:
            return {"exit": int(exit_code[1])}
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
        self, argv: list[str], env: Mapping[str, str], cwd: str, fds: tuple[int, int, int]
    ) -> AgentProcess:
        """Hand ``argv`` to the agent, with ``fds`` as its stdin (-1: ``/dev/null``),
        stdout and stderr (the caller still closes them); raises :class:`AgentError` if the
        agent is gone. A command that cannot start ends at once with
        :attr:`AgentProcess.start_error` set. Only the variables that differ from the
        previous command's environment are sent."""
        sent = self._env
        changed = {k: v for k, v in env.items() if sent.get(k) != v}
        unset = [k for k in sent if k not in env]
        request = json.dumps({"argv": argv, "env": changed, "unset": unset, "cwd": cwd})
        stdin = fds[0] if fds[0] >= 0 else self._devnull
        try:
            socket.send_fds(self.sock, [request.encode()], [stdin, fds[1], fds[2]])
        except OSError as e:
            self.broken = True
            raise AgentError(f"the sandbox agent is gone ({e})") from None
        sent.update(changed)
        for k in unset:
            del sent[k]
        return AgentProcess(self)

    def exit_fd(self) -> int:
        """Readable once the running command has ended (or the agent is gone)."""
        return self.sock.fileno()

    def kill(self) -> None:
        """Kill the running command's processes (nothing if none runs)."""
        with contextlib.suppress(OSError):
            self.sock.send(b'{"kill": true}')

    def close(self) -> None:
        """Stop the agent and the sandbox (everything in it dies)."""
        with contextlib.suppress(OSError):
            self.sock.close()
        devnull, self._devnull = getattr(self, "_devnull", -1), -1
        if devnull >= 0:
            os.close(devnull)
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

    def __init__(self, session: SandboxSession) -> None:
        self.session = session
        self.returncode: int | None = None
        self._answered = False
        self.start_error = ""  # why the command could not start (it then "exits" with 127)

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

    def answered(self) -> bool:
        """Waits for the agent's answer; whether there was one (the agent may be gone)."""
        self.wait()
        return self._answered

    def _read_exit(self) -> None:
        try:
            msg = self.session.recv()
        except AgentError:
            self.returncode = -9  # the agent died: so did everything in the sandbox
            return
        if "error" in msg:
            self.start_error = str(msg["error"]) or "the sandbox agent could not start it"
            self.returncode, self._answered = 127, True
            return
        code = msg.get("exit")
        if isinstance(code, int):
            self.returncode, self._answered = code, True
        else:
            self.session.broken = True
            self.returncode = -9
