"""The driver's skip path: skipped datums are copied from the base job inside the database."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import loxo

COPY = ["sh", "-c", "cp -r /pfs/in/* /pfs/out/"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[loxo.Client]:
    with loxo.Client(tmp_path / "home") as c:
        yield c


def _put(client: loxo.Client, files: dict[str, str], delete: tuple[str, ...] = ()) -> str:
    with client.modify_file("in@master") as mf:
        for path, data in files.items():
            mf.put_file(path, data.encode())
        for path in delete:
            mf.delete_file(path)
    client.drive()
    return str(mf.commit.id)


def _outputs(client: loxo.Client) -> dict[str, bytes]:
    return {
        e.path: client.get_file("copy@master", e.path) for e in client.walk_files("copy@master")
    }


def test_skipped_datums_carry_the_base_output_and_this_jobs_commits(client: loxo.Client) -> None:
    client.create_repo("in")
    c1 = _put(client, {f"/f{i}": str(i) for i in range(30)})
    doc = {"pipeline": {"name": "copy"}, "transform": {"cmd": COPY},
           "input": {"pfs": {"repo": "in", "glob": "/*"}}}  # fmt: skip
    client.create_pipeline(json.dumps(doc))
    client.drive()
    c2 = _put(client, {"/f3": "changed", "/new": "n"}, delete=("/f7",))
    job = client.inspect_job("copy", c2)
    assert (job.data_total, job.data_processed, job.data_skipped) == (30, 2, 28)
    datums = {d.inputs[0]["path"]: d for d in client.list_datum("copy", c2)}
    assert set(datums) == {f"/f{i}" for i in range(30) if i != 7} | {"/new"}
    for path, d in datums.items():
        assert d.state == ("SUCCESS" if path in ("/f3", "/new") else "SKIPPED"), path
        assert d.inputs[0]["commit"] == c2 != c1
    expected = {f"/f{i}": str(i).encode() for i in range(30) if i != 7}
    assert _outputs(client) == {**expected, "/f3": b"changed", "/new": b"n"}
    # a third job skips the second's skipped datums in turn (their outputs carried on)
    c3 = _put(client, {"/f4": "again"})
    job = client.inspect_job("copy", c3)
    assert (job.data_total, job.data_processed, job.data_skipped) == (30, 1, 29)
    assert all(d.inputs[0]["commit"] == c3 for d in client.list_datum("copy", c3))
    assert _outputs(client) == {**expected, "/f3": b"changed", "/new": b"n", "/f4": b"again"}


def test_reprocess_every_job_skips_nothing(client: loxo.Client) -> None:
    client.create_repo("in")
    _put(client, {"/a": "1", "/b": "2"})
    doc = {"pipeline": {"name": "copy"}, "transform": {"cmd": COPY}, "reprocess_spec": "every_job",
           "input": {"pfs": {"repo": "in", "glob": "/*"}}}  # fmt: skip
    client.create_pipeline(json.dumps(doc))
    client.drive()
    c2 = _put(client, {"/c": "3"})
    job = client.inspect_job("copy", c2)
    assert (job.data_total, job.data_processed, job.data_skipped) == (3, 3, 0)
    assert _outputs(client) == {"/a": b"1", "/b": b"2", "/c": b"3"}


# a datum holding a "bad*" file fails; err_cmd recovers it (so it runs again every job)
EACH_INPUT = (
    "for n in x y; do if [ -d /pfs/$n ]; then "
    "find /pfs/$n -name 'bad*' | grep -q . && exit 1; "
    "mkdir -p /pfs/out/$n && cp -r /pfs/$n/* /pfs/out/$n/; fi; done; true"
)
ONE = {"pfs": {"repo": "in", "glob": "/*", "name": "x"}}
UNION = {"union": [ONE, {"pfs": {"repo": "in", "glob": "/*/*", "name": "y"}}]}


@pytest.mark.parametrize("input", [ONE, UNION], ids=["pfs", "union"])
def test_diff_driven_jobs_equal_full_listing_jobs(
    client: loxo.Client, monkeypatch: pytest.MonkeyPatch, input: dict[str, Any]
) -> None:
    """Two identical pipelines over the same commits, one planned from the commit diff and one
    forced to list every datum: every job has the same datums, states, counts and output."""
    from loxo.pps.planning import PlanningOps

    by_diff = PlanningOps._plan_by_diff
    used: list[bool] = []

    def only_for_a(self: PlanningOps, pid: int, spec: Any, *args: Any) -> Any:
        if spec.name != "a":
            return None
        found = by_diff(self, pid, spec, *args)
        used.append(found is not None)
        return found

    monkeypatch.setattr(PlanningOps, "_plan_by_diff", only_for_a)
    client.create_repo("in")
    for name in ("a", "b"):
        doc = {"pipeline": {"name": name}, "input": input,
               "transform": {"cmd": ["sh", "-c", EACH_INPUT], "err_cmd": ["true"]}}  # fmt: skip
        client.create_pipeline(json.dumps(doc))
    rng = random.Random(7)
    names = ["/a", "/b", "/c", "/d/x", "/d/y", "/e/f/g", "/bad", "/g/bad1", "/a/z", "/c/w"]
    files: dict[str, str] = {}
    for step in range(8):
        changes: dict[str, str] = {}
        deletes: list[str] = []
        before = set(files)
        for path in rng.sample(names, 3):
            if path in before and path not in changes and rng.random() < 0.4:
                deletes.append(path)
                files.pop(path)
            else:
                # a path that is a directory now (or would clash) replaces what is in its way
                clash = [p for p in files if p.startswith(path + "/") or path.startswith(p + "/")]
                deletes += [p for p in clash if p in before]
                for p in clash:
                    files.pop(p)
                    changes.pop(p, None)
                changes[path] = files[path] = f"{step}{path}"
        with client.modify_file("in@master") as mf:
            for path in deletes:
                mf.delete_file(path)
            for path, data in changes.items():
                mf.put_file(path, data.encode())
        client.drive()
        commit = str(mf.commit.id)
        a, b = client.inspect_job("a", commit), client.inspect_job("b", commit)
        assert a.state == b.state, step
        counts = ("data_total", "data_processed", "data_skipped", "data_failed", "data_recovered")
        assert [getattr(a, c) for c in counts] == [getattr(b, c) for c in counts], step
        da = [(d.id, d.state, d.inputs) for d in client.list_datum("a", commit)]
        db = [(d.id, d.state, d.inputs) for d in client.list_datum("b", commit)]
        assert da == db, step
        for d in client.list_datum("a", commit):
            outs_a = client.list_datum_outputs("a", commit, d.id)
            outs_b = client.list_datum_outputs("b", commit, d.id)
            assert outs_a == outs_b, (step, d.id)
        got = {
            e.path: client.get_file(f"a@{commit}", e.path) for e in client.walk_files(f"a@{commit}")
        }
        want = {
            e.path: client.get_file(f"b@{commit}", e.path) for e in client.walk_files(f"b@{commit}")
        }
        assert got == want, step
    assert any(used)


def test_a_diff_planned_job_resumes_after_a_crash(
    client: loxo.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that died after recording its plan resumes with its rows as they were."""
    from loxo.pps.driver import DriverOps

    client.create_repo("in")
    _put(client, {f"/f{i}": str(i) for i in range(30)})
    doc = {"pipeline": {"name": "copy"}, "transform": {"cmd": COPY},
           "input": {"pfs": {"repo": "in", "glob": "/*"}}}  # fmt: skip
    client.create_pipeline(json.dumps(doc))
    client.drive()

    def crash(*args: Any) -> str:
        raise KeyboardInterrupt  # not an Exception: the job is left RUNNING, as by kill -9

    with monkeypatch.context() as m:
        m.setattr(DriverOps, "_execute", crash)
        with pytest.raises(KeyboardInterrupt):
            _put(client, {"/f3": "changed", "/new": "n"}, delete=("/f7",))
    c2 = client.list_job("copy")[0].id
    assert client.inspect_job("copy", c2).state == "RUNNING"
    client.drive()
    job = client.inspect_job("copy", c2)
    assert (job.state, job.data_total, job.data_processed, job.data_skipped) == (
        "SUCCESS", 30, 2, 28,
    )  # fmt: skip
    states = {d.inputs[0]["path"]: d.state for d in client.list_datum("copy", c2)}
    assert states == {p: "SKIPPED" for p in (f"/f{i}" for i in range(30) if i != 7)} | {
        "/f3": "SUCCESS", "/new": "SUCCESS",
    }  # fmt: skip
    expected = {f"/f{i}": str(i).encode() for i in range(30) if i != 7}
    assert _outputs(client) == {**expected, "/f3": b"changed", "/new": b"n"}


def test_the_restart_lookup_uses_its_partial_index(client: loxo.Client, tmp_path: Path) -> None:
    """The driver looks for restart requests 4 times a second while a job runs: through
    the partial index, not a scan of the job's datums."""
    import sqlite3

    from loxo.pps.driver import RESTARTS

    client.create_repo("in")
    doc = {"pipeline": {"name": "copy"}, "transform": {"cmd": COPY},
           "input": {"pfs": {"repo": "in", "glob": "/*"}}}  # fmt: skip
    client.create_pipeline(json.dumps(doc))
    _put(client, {f"/f{i}": str(i) for i in range(50)})
    db = sqlite3.connect(tmp_path / "home" / "loxo.db")
    try:
        pid, job = db.execute("SELECT pipeline_id, job_id FROM datums LIMIT 1").fetchone()
        plan = " ".join(
            str(row) for row in db.execute("EXPLAIN QUERY PLAN " + RESTARTS, (pid, job))
        )
        assert "datums_restart" in plan, plan
        db.execute(
            "UPDATE datums SET restart_requested = 1 WHERE pipeline_id = ? AND job_id = ? "
            "AND datum_id = (SELECT MIN(datum_id) FROM datums WHERE job_id = ?)",
            (pid, job, job),
        )
        assert len(db.execute(RESTARTS, (pid, job)).fetchall()) == 1
    finally:
        db.close()
