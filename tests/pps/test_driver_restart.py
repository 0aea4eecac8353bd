"""`restart datum` of a running, stuck datum, end to end: the request goes through the
database, the job's driver finds it (through the partial index) and kills the attempt,
and the datum's next attempt runs."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

import loxo


def test_restarting_a_stuck_datum_runs_its_next_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the first attempt of /b marks itself (in /pfs/out: the sandbox lets it write nowhere
    # else) and hangs; the test then leaves a flag where the sandbox shows it (in the
    # working directory, read-only), and the second attempt finds it and copies
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOXO_SCRATCH", str(tmp_path / "scratch"))
    flag = tmp_path / "restarted"
    script = (
        f'if [ "$(basename /pfs/in/*)" = b ] && [ ! -e {flag} ]; then '
        "touch /pfs/out/stuck-once; sleep 60; fi; cp /pfs/in/* /pfs/out/"
    )
    doc = {"pipeline": {"name": "copy"}, "transform": {"cmd": ["sh", "-c", script]},
           "datum_tries": 2, "input": {"pfs": {"repo": "in", "glob": "/*"}}}  # fmt: skip
    home = tmp_path / "home"
    with loxo.Client(home) as c:
        c.create_repo("in")
        c.create_pipeline(json.dumps(doc))
        with c.modify_file("in@master") as mf:
            for name in ("a", "b", "c"):
                mf.put_file(f"/{name}", name.encode())
        commit = str(mf.commit.id)
        start = time.monotonic()
        driving = threading.Thread(target=c.drive)
        driving.start()
        deadline = start + 30
        while not (marked := list(tmp_path.glob("scratch/*/pfs/out/stuck-once"))):
            assert time.monotonic() < deadline, "the stuck attempt never started"
            time.sleep(0.02)
        assert marked
        flag.touch()
        with loxo.Client(home) as other:  # as `loxo restart datum` from another shell
            stuck = next(d for d in other.list_datum("copy", commit) if d.inputs[0]["path"] == "/b")
            assert stuck.state == "STARTING"
            other.restart_datum("copy", commit, stuck.id)
        driving.join(30)
        assert not driving.is_alive()
        assert time.monotonic() - start < 30  # not the 60 s the stuck attempt would take
        job = c.inspect_job("copy", commit)
        assert (job.state, job.data_processed, job.data_failed) == ("SUCCESS", 3, 0)
        datum = c.inspect_datum("copy", commit, stuck.id)
        assert (datum.state, datum.attempts) == ("SUCCESS", 2)
        assert c.get_file("copy@master", "/b") == b"b"
