"""Python-function transforms: ``transform.python = "module:function"``.

The function is imported once per worker process (:func:`load` caches it, so module-level
state such as a loaded model stays warm across datums and jobs) and called once per datum
with a :class:`Datum`. It runs in the worker itself, not in the sandbox: ``datum.pfs`` is
the datum's scratch ``/pfs`` directory. Its return value is ignored; an exception fails
the attempt, with the traceback in the datum's logs and its last line as the error.

Two ways to call it (see :func:`call`): directly in the calling thread (a local worker:
its executor enforces ``datum_timeout`` by killing and replacing the whole worker), or in
a helper thread that is abandoned on timeout or restart (the inline executor, which
cannot kill itself; the abandoned call keeps running in the background).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from loxo.errors import InvalidArgumentError

from .control import DatumControl
from .logs import LogCollector

PyFunction = Callable[["Datum"], Any]
_loaded: dict[str, PyFunction] = {}
_load_lock = threading.Lock()


@dataclass(frozen=True)
class Datum:
    """What a Python transform gets for one datum."""

    id: str
    job_id: str
    pfs: Path  # the datum's /pfs root
    out: Path  # pfs / "out": write the datum's output here
    inputs: dict[str, Path]  # input name -> the matched file or directory
    env: dict[str, str]  # the pipeline's variables (PACH_*, input paths, transform.env)


class Capture(Protocol):
    """Routes the output of Python code to a datum's logs while the call runs."""

    def to(self, logs: LogCollector) -> contextlib.AbstractContextManager[None]: ...


def load(spec: str) -> PyFunction:
    """The function named ``"package.module:function"``, imported once per process."""
    with _load_lock:
        fn = _loaded.get(spec)
        if fn is not None:
            return fn
        module, sep, name = spec.partition(":")
        if not sep or not module or not name:
            raise InvalidArgumentError(
                f"transform.python {spec!r} must look like 'package.module:function'"
            )
        obj: Any = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
        if not callable(obj):
            raise InvalidArgumentError(f"transform.python {spec!r} is not callable")
        _loaded[spec] = obj
        return _loaded[spec]


@dataclass(frozen=True)
class CallOutcome:
    ok: bool
    error: str
    seconds: float


def call(
    spec: str,
    datum: Datum,
    *,
    logs: LogCollector,
    capture: Capture,
    control: DatumControl,
    timeout: float | None,
    threaded: bool,
) -> CallOutcome:
    """Import (once) and call the function for one attempt."""
    start = time.monotonic()
    box: dict[str, str] = {}
    done = threading.Event()

    def target() -> None:
        try:
            load(spec)(datum)
        except BaseException as e:  # user code may raise anything
            box["error"] = _last_line(e)
            for line in traceback.format_exc().rstrip("\n").split("\n"):
                logs.line("stderr", line)
        finally:
            done.set()

    with capture.to(logs):
        if threaded:
            thread = threading.Thread(target=target, name=f"loxo-datum-{datum.id}", daemon=True)
            thread.start()
            _wait(done, control, None if timeout is None else start + timeout)
        else:
            target()
    seconds = time.monotonic() - start
    reason = control.take_reason()
    if reason:
        return CallOutcome(False, reason, seconds)
    if timeout is not None and (not done.is_set() or seconds > timeout):
        return CallOutcome(False, f"timed out after {timeout:g}s", seconds)
    if "error" in box:
        return CallOutcome(False, box["error"], seconds)
    return CallOutcome(True, "", seconds)


def _wait(done: threading.Event, control: DatumControl, deadline: float | None) -> None:
    """Until the call returns, the control is killed, or the deadline passes."""
    while not done.is_set() and not control.killed.is_set():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return
        done.wait(0.05 if left is None else min(0.05, left))


def _last_line(e: BaseException) -> str:
    lines = traceback.format_exception_only(e)
    return lines[-1].strip() if lines else type(e).__name__


class SysCapture:
    """Swaps ``sys.stdout`` / ``sys.stderr`` for line writers into the logs (process-wide:
    fine for one datum at a time; output written straight to fd 1/2 is not captured)."""

    @contextlib.contextmanager
    def to(self, logs: LogCollector) -> Iterator[None]:
        import sys

        out, err = LineWriter(logs, "stdout"), LineWriter(logs, "stderr")
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            yield
        finally:
            sys.stdout, sys.stderr = old
            out.close()
            err.close()


class LineWriter:
    """A minimal text stream that feeds a :class:`LogCollector`."""

    def __init__(self, logs: LogCollector, stream: str) -> None:
        self._logs, self._stream = logs, stream
        self.closed = False

    def write(self, text: str) -> int:
        if not self.closed:
            self._logs.feed(self._stream, text.encode("utf-8", errors="replace"))
        return len(text)

    def writelines(self, lines: Iterator[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._logs.close_stream(self._stream)
