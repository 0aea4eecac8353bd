"""Atomic commits under kill -9: a real `loxo put file -r` killed at random moments.

After each kill the branch is at its previous head, or (if the put won the race) at a
complete new commit; never anything in between. The store stays usable and consistent.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loxo.pfs.api import PFS

LOXO = str(Path(sys.executable).parent / "loxo")


def _tree(root: Path, n: int, size: int, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    files = {}
    for i in range(n):
        rel = f"dir{i % 5}/file{i:04d}.bin"
        data = rng.randbytes(size if i % 10 else size * 40)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        files["/up/" + rel] = data
    return files


@pytest.mark.slow
def test_kill_9_during_put_file_r_never_exposes_partial_commit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    src = tmp_path / "src"
    files = _tree(src, 400, 16_000, seed=7)
    env = {**os.environ, "LOXO_HOME": str(home)}
    subprocess.run([LOXO, "create", "repo", "r"], env=env, check=True)
    subprocess.run(
        [LOXO, "put", "file", "r@master:/base.txt", "-f", "-"],
        input=b"base", env=env, check=True,
    )  # fmt: skip
    # how long a full put takes (the faster of two: the first one is cold), to aim the
    # kills inside it
    full = float("inf")
    for probe in ("probe1", "probe2"):
        t0 = time.monotonic()
        subprocess.run(
            [LOXO, "put", "file", "-r", f"r@{probe}:/up", "-f", str(src)], env=env, check=True
        )
        full = min(full, time.monotonic() - t0)
    rng = random.Random(1)
    killed_midway = 0
    for attempt in range(10):
        pfs = PFS.open(home)
        before = pfs.inspect_branch("r", "master").head
        pfs.close()
        proc = subprocess.Popen(
            [LOXO, "put", "file", "-r", "r@master:/up", "-f", str(src)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        time.sleep(rng.uniform(0.05, max(0.1, full * 0.7)))
        finished = proc.poll() is not None
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            finished = True  # it won the race
        proc.wait()
        pfs = PFS.open(home)
        head = pfs.inspect_branch("r", "master").head
        paths = {e.path for e in pfs.walk_files("r@master")}
        if head == before:
            killed_midway += not finished
            assert paths == {"/base.txt"}, f"attempt {attempt}: partial upload visible"
        else:
            assert paths == {"/base.txt", *files}, f"attempt {attempt}: partial commit visible"
            for p in list(files)[:20]:
                assert pfs.get_file("r@master", p) == files[p]
            # start the next attempt from a branch without /up again
            pfs.delete_file("r@master", "/up")
        pfs.close()
    assert killed_midway >= 6, "the kills should mostly land in the middle of the put"
    # the store is still usable and consistent
    pfs = PFS.open(home)
    pfs.put_file("r@master", "/after.txt", b"still works")
    assert pfs.get_file("r@master", "/after.txt") == b"still works"
    report = pfs.fsck()
    assert report.ok, report.problems
    pfs.gc()
    assert pfs.fsck().ok
    out = subprocess.run([LOXO, "list", "file", "r@master"], env=env, capture_output=True)
    assert out.returncode == 0 and b"after.txt" in out.stdout
