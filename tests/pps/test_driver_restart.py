"""`restart datum` of a running, stuck datum, end to end: the request goes through the
database, the job's driver finds it (through the partial index) and kills the attempt,
and the datum's next attempt runs."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import loxo


def test_restarting_a_stuck_datum_runs_its_next_attempt(tmp_path: Path) -> None:
    marker = tmp_path / "stuck-once"
    # the first attempt of /b marks itself and hangs; the second finds the mark and copies
    script = (
        f'if [ "$(basename /pfs/in/*)" = b ] && [ ! -e {marker} ]; then '
        f"touch {marker}; sleep 60; fi; cp /pfs/in/* /pfs/out/"
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
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), "the stuck attempt never started"
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
