"""A job interrupted by kill -9 of the CLI is resumed by the next loxo command and ends with
exactly the output of a crash-free run; datums finished before the crash do not run again:
their rows (start and end times, worker, output) are exactly those recorded before the
crash, and only the datums not recorded then run in the resumed job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loxo import Client
from loxo.pfs.api import PFS

LOXO = str(Path(sys.executable).parent / "loxo")
SLOW_COPY = ["sh", "-c", 'echo "ran $PACH_DATUM_ID"; sleep 0.3; cp /pfs/in/* /pfs/out/']


KEPT = "SELECT datum_id, started, finished, worker, output_root, attempts FROM datums"


@pytest.mark.slow
@pytest.mark.parametrize("per_set", [1, None])  # one datum per task set, or loxo's default
def test_kill_9_mid_job_then_resume(tmp_path: Path, per_set: int | None) -> None:
    env = {**os.environ, "LOXO_HOME": str(tmp_path / "home")}
    env.pop("LOXO_NO_WAIT", None)
    src = tmp_path / "src"
    src.mkdir()
    files = {f"f{i:02d}": f"content {i}".encode() for i in range(16 if per_set else 40)}
    for name, data in files.items():
        (src / name).write_bytes(data)
    spec = tmp_path / "copy.json"
    spec.write_text(json.dumps({
        "pipeline": {"name": "copy"},
        "transform": {"cmd": SLOW_COPY},
        "parallelism_spec": {"constant": 2},
        **({"datum_set_spec": {"number": per_set}} if per_set else {}),
        "input": {"pfs": {"repo": "in", "glob": "/*"}},
    }))  # fmt: skip

    def loxo(*args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([LOXO, *args], env=env, capture_output=True, check=True, **kw)  # type: ignore[call-overload, no-any-return]

    loxo("create", "repo", "in")
    loxo("create", "pipeline", "-f", str(spec))
    proc = subprocess.Popen(
        [LOXO, "put", "file", "-r", "in@master:/", "-f", str(src)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    # kill once some, but not all, datums are done
    pfs = PFS.open(tmp_path / "home")
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline:
        rows = pfs.db.all("SELECT COUNT(*) FROM datums WHERE state = 'SUCCESS'")
        done = rows[0][0]
        if done >= 3:
            break
        time.sleep(0.05)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the assertion below reports a put that finished too early
    proc.wait()
    kept = pfs.db.all(KEPT + " WHERE state = 'SUCCESS' ORDER BY datum_id")
    assert 3 <= len(kept) < len(files), "the kill should land in the middle of the job"
    state = pfs.db.one("SELECT state FROM jobs")[0]
    assert state == "RUNNING"
    killed = time.time()
    pfs.close()

    out = loxo("list", "job", "copy", "-o", "json")  # any later command resumes the job
    jobs = json.loads(out.stdout)
    assert jobs[0]["state"] == "SUCCESS" and jobs[0]["data_total"] == len(files)
    with Client(tmp_path / "home") as c:  # exactly a crash-free run's output
        assert {e.path: c.get_file("copy@master", e.path) for e in c.walk_files("copy@master")} == {
            f"/{name}": data for name, data in files.items()
        }
    logs = json.loads(
        "["
        + ",".join(
            loxo("logs", "--pipeline", "copy", "-o", "json").stdout.decode().split("\n")[:-1]
        )
        + "]"
    )
    ran = [entry["line"] for entry in logs if entry["line"].startswith("ran ")]
    assert len(ran) == len(files), "every datum's result is recorded exactly once"
    pfs = PFS.open(tmp_path / "home")
    ids = {row[0] for row in kept}
    rows = [row for row in pfs.db.all(KEPT + " ORDER BY datum_id") if row[0] in ids]
    assert rows == kept, "a datum recorded before the crash ran again"
    (rerun,) = pfs.db.one("SELECT COUNT(*) FROM datums WHERE started >= ?", (killed,))
    assert rerun == len(files) - len(kept), "only the datums not recorded run after the crash"
    pfs.close()
