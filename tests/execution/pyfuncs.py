"""Python transforms used by the executor tests (imported by name in the workers)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from loxo.execution.pyfunc import Datum

IMPORTS = 0
IMPORTS += 1  # how many times this module was imported in this process


def copy(datum: Datum) -> None:
    """Copy every input file to the output; say what it did on stdout and stderr."""
    for name, path in datum.inputs.items():
        print(f"copying {name} from {path.relative_to(datum.pfs)}")
        if path.is_dir():
            shutil.copytree(path, datum.out / name, dirs_exist_ok=True)
        else:
            shutil.copy(path, datum.out / path.name)
    print("done", file=sys.stderr)


def link(datum: Datum) -> None:
    """Link every input (file or directory) into the output, and one relatively."""
    for name, path in datum.inputs.items():
        (datum.out / name).symlink_to(path)
    (datum.out / "rel").symlink_to(os.path.relpath(datum.inputs["in"], datum.out))


def link_host(datum: Datum) -> None:
    (datum.out / "passwd").symlink_to("/etc/passwd")


def whoami(datum: Datum) -> None:
    (datum.out / f"{datum.id}.txt").write_text(f"{os.getpid()} {IMPORTS}")


def env(datum: Datum) -> None:
    lines = [f"{k}={v}" for k, v in sorted(datum.env.items())]
    (datum.out / "env").write_text("\n".join(lines) + f"\npfs={datum.pfs}\n")


def fail(datum: Datum) -> None:
    print(f"failing {datum.id}")
    raise ValueError(f"boom in {datum.id}")


def fd_output(datum: Datum) -> None:
    """Writes to fds 1 and 2 directly, bypassing sys.stdout (and through a child)."""
    os.write(1, b"raw stdout\n")
    os.write(2, b"raw stderr\n")
    os.system("echo from a child process")


def unterminated(datum: Datum) -> None:
    """Writes half a line to fd 1, or nothing (datum ``quiet``)."""
    if datum.id != "quiet":
        os.write(1, f"half a line from {datum.id}".encode())


def sleepy(datum: Datum) -> None:
    """Sleeps ``SLEEP`` seconds (default 3) unless the datum's ID says "fast"."""
    if "fast" in datum.id or _nap(datum, float(datum.env.get("SLEEP", "3"))):
        (datum.out / datum.id).write_text("awake")


def stubborn(datum: Datum) -> None:
    """Names its thread ``stubborn`` (``/proc/<pid>/comm``: how a test sees it run), then
    sleeps a minute, deaf to everything (a call nothing interrupts)."""
    Path("/proc/thread-self/comm").write_text("stubborn")
    time.sleep(60)


def once_slow(datum: Datum) -> None:
    """First call per datum: write the worker pid to ``$PIDFILE``-<id> and sleep long;
    later calls (``$MARKER``-<id> exists) finish at once."""
    marker = Path(f"{datum.env['MARKER']}-{datum.id}")
    if not marker.exists():
        marker.touch()
        Path(f"{datum.env['PIDFILE']}-{datum.id}").write_text(str(os.getpid()))
        if not _nap(datum, 30):
            return
    (datum.out / datum.id).write_text(str(os.getpid()))


def _nap(datum: Datum, seconds: float) -> bool:
    """Sleep; False as soon as the datum's scratch space is gone (an abandoned call)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not datum.out.exists():
            return False
        time.sleep(0.02)
    return True


def die(datum: Datum) -> None:
    """Kills the process it runs in (local workers only!)."""
    os.kill(os.getpid(), 9)


def exit_on_victim(datum: Datum) -> None:
    """Ends its process at once (``os._exit``) on datum ``$VICTIM``; other datums write
    ``/pfs/out/<id>``."""
    if datum.id == datum.env["VICTIM"]:
        os._exit(3)
    (datum.out / datum.id).write_text("ok")


def die_once(datum: Datum) -> None:
    """A datum whose ID starts with "die" kills its worker on its first call (``$MARKER``-<id>
    then exists); every other call writes the datum's ID to the output."""
    marker = Path(f"{datum.env['MARKER']}-{datum.id}")
    if datum.id.startswith("die") and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), 9)
    (datum.out / datum.id).write_text(datum.id)
