"""No process of a killed command lingers: ``kill -9`` of the CLI (its whole process group,
or its main process alone, as the OOM killer does) in the middle of a job leaves no worker,
fork server or user command of it running a moment later -- not even a worker in the
middle of a Python call, which nothing can interrupt."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

LOXO = str(Path(sys.executable).parent / "loxo")
ROOT = Path(__file__).resolve().parents[2]
BOUND = 2.0  # seconds within which every process of the run must be gone
TRANSFORMS = {
    "python": {"python": "tests.execution.pyfuncs:stubborn"},
    "command": {"cmd": ["sh", "-c", "sleep 60; cp -r /pfs/in/* /pfs/out/"]},
}


def processes_of(run: str) -> list[tuple[int, str]]:
    """The live processes (not zombies) whose environment carries ``LOXO_TEST_RUN=run``:
    (pid, "(name) command line")."""
    found = []
    mark = f"LOXO_TEST_RUN={run}".encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if mark not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{name}/stat") as f:
                comm, state = f.read().split("(", 1)[1].rsplit(")", 1)
                if state.split()[0] in ("Z", "X"):
                    continue
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode()[:100]
            found.append((int(name), f"({comm}) {cmdline}"))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def busy(processes: list[tuple[int, str]], transform: str) -> bool:
    """Whether both workers run their datum: two user commands ``sleep 60``, or two
    workers in the Python call (which names its process ``stubborn``)."""
    if transform == "command":
        return sum(cmd.startswith("(sleep) sleep 60") for _, cmd in processes) >= 2
    return sum(cmd.startswith("(stubborn)") for _, cmd in processes) >= 2


@pytest.mark.parametrize(
    ("transform", "kill"), [("python", "process"), ("command", "process"), ("python", "group")]
)
def test_kill_9_mid_job_leaves_no_process(tmp_path: Path, transform: str, kill: str) -> None:
    run = uuid.uuid4().hex
    pythonpath = os.pathsep.join([os.environ.get("PYTHONPATH", ""), str(ROOT)]).strip(os.pathsep)
    env = {**os.environ, "LOXO_HOME": str(tmp_path / "home"), "LOXO_TEST_RUN": run,
           "PYTHONPATH": pythonpath}  # fmt: skip
    env.pop("LOXO_NO_WAIT", None)
    env.pop("LOXO_ADDRESS", None)
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps({
        "pipeline": {"name": "p"}, "transform": TRANSFORMS[transform],
        "parallelism_spec": {"constant": 2}, "input": {"pfs": {"repo": "in", "glob": "/*"}},
    }))  # fmt: skip
    for args in (["create", "repo", "in"], ["create", "pipeline", "-f", str(spec)]):
        subprocess.run([LOXO, *args], env=env, check=True, capture_output=True)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"f{i}").write_text(str(i))
    proc = subprocess.Popen(
        [LOXO, "put", "file", "-r", "in@master:/", "-f", str(src)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not busy(processes_of(run), transform):
            assert time.monotonic() < deadline, "the job's workers never started"
            time.sleep(0.05)
        if kill == "group":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + BOUND
        while (left := processes_of(run)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert left == [], f"still running {BOUND}s after the kill: {left}"
    finally:
        for pid, _ in processes_of(run):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
