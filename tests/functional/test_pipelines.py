"""Pipelines end to end through the public client, on the default (local) executor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import loxo
from loxo.errors import AlreadyExistsError, InvalidArgumentError, PreconditionError
from loxo.pps.model import JobState
from loxo.pps.spec import parse_specs

COPY = ["sh", "-c", "cp -r /pfs/in/* /pfs/out/"]


def spec(name: str, input: dict, cmd: list[str] | None = None, **extra: object) -> str:
    doc = {"pipeline": {"name": name}, "transform": {"cmd": cmd or COPY}, "input": input}
    doc.update(extra)
    return json.dumps(doc)


def pfs(repo: str, glob: str = "/*", **extra: object) -> dict:
    return {"pfs": {"repo": repo, "glob": glob, **extra}}


def put(client: loxo.Client, ref: str, files: dict[str, str], delete: tuple[str, ...] = ()) -> str:
    with client.modify_file(ref) as mf:
        for path, data in files.items():
            mf.put_file(path, data.encode())
        for path in delete:
            mf.delete_file(path)
    client.drive()
    return str(mf.commit.id)


def outputs(client: loxo.Client, repo: str) -> dict[str, bytes]:
    return {
        e.path: client.get_file(f"{repo}@master", e.path)
        for e in client.walk_files(f"{repo}@master")
    }


def test_incremental_datums_and_provenance(client: loxo.Client) -> None:
    client.create_repo("in")
    c1 = put(client, "in@master", {"/a": "1", "/b": "2", "/c": "3"})
    client.create_pipeline(spec("copy", pfs("in", "/*")))
    client.drive()
    first = client.list_job("copy")[0]
    assert (first.state, first.data_total, first.data_processed) == (JobState.SUCCESS, 3, 3)
    assert outputs(client, "copy") == {"/a": b"1", "/b": b"2", "/c": b"3"}

    c2 = put(client, "in@master", {"/d": "4"})
    job = client.inspect_job("copy", c2)
    assert job.id == c2 and job.output_commit == c2
    assert (job.data_total, job.data_processed, job.data_skipped) == (4, 1, 3)
    out_commit = client.inspect_commit(f"copy@{c2}")
    assert {(p.repo, p.id) for p in out_commit.provenance} == {("in", c2)}
    assert c1 != c2

    c3 = put(client, "in@master", {"/a": "changed"}, delete=("/b",))
    job = client.inspect_job("copy", c3)
    assert (job.data_total, job.data_processed, job.data_skipped) == (3, 1, 2)
    assert outputs(client, "copy") == {"/a": b"changed", "/c": b"3", "/d": b"4"}
    datums = {d.inputs[0]["path"]: d for d in client.list_datum("copy", c3)}
    assert {p: d.state for p, d in datums.items()} == {
        "/a": "SUCCESS",
        "/c": "SKIPPED",
        "/d": "SKIPPED",
    }
    for path, d in datums.items():  # what each datum wrote, skipped ones included
        assert [f.path for f in client.list_datum_outputs("copy", c3, d.id)] == [path]


def test_failures_retries_downstream_unrunnable_and_recovery(client: loxo.Client) -> None:
    client.create_repo("in")
    fail_on_bad = [
        "sh",
        "-c",
        'echo "try $PACH_DATUM_ID"; test ! -e /pfs/in/bad && cp /pfs/in/* /pfs/out/',
    ]
    client.create_pipeline(spec("first", pfs("in"), fail_on_bad, datum_tries=2))
    client.create_pipeline(spec("second", pfs("first")))
    cid = put(client, "in@master", {"/ok": "x", "/bad": "y"})
    job = client.inspect_job("first", cid)
    assert job.state == JobState.FAILURE and job.data_failed == 1 and job.data_processed == 1
    failed = [d for d in client.list_datum("first", cid) if d.state == "FAILED"]
    assert len(failed) == 1 and failed[0].attempts == 2 and failed[0].id in job.reason
    assert client.inspect_commit(f"first@{cid}").error
    assert client.inspect_job("second", cid).state == JobState.UNRUNNABLE
    lines = [r.line for _, r in client.get_logs(pipeline="first", datum_id=failed[0].id)]
    assert lines.count(f"try {failed[0].id}") == 2
    # err_cmd recovers the datum; the job then succeeds
    client.update_pipeline(
        spec("first", pfs("in"), fail_on_bad, transform={"cmd": fail_on_bad, "err_cmd": ["true"]})
    )
    client.drive()
    last = client.list_job("first")[0]
    assert last.state == JobState.SUCCESS and last.data_recovered == 1
    assert outputs(client, "first") == {"/ok": b"x"}


def test_duplicate_output_path_fails_job(client: loxo.Client) -> None:
    client.create_repo("in")
    same = ["sh", "-c", "echo hi > /pfs/out/same.txt"]
    client.create_pipeline(spec("dup", pfs("in"), same))
    cid = put(client, "in@master", {"/a": "1", "/b": "2"})
    job = client.inspect_job("dup", cid)
    assert job.state == JobState.FAILURE
    assert "/same.txt" in job.reason and job.reason.count("datum") >= 1
    ids = [d.id for d in client.list_datum("dup", cid)]
    assert all(i in job.reason for i in ids)


def test_update_keeps_salt_and_reprocess_replaces_it(client: loxo.Client) -> None:
    client.create_repo("in")
    put(client, "in@master", {"/a": "1", "/b": "2"})
    client.create_pipeline(spec("p", pfs("in")))
    client.drive()
    new = spec(
        "p", pfs("in"), ["sh", "-c", "cp /pfs/in/* /pfs/out/; echo v2 >> /pfs/out/$(ls /pfs/in)"]
    )
    parsed = parse_specs(new)[0]
    assert client.preview_update(parsed) == (2, 0)
    client.update_pipeline(new)
    client.drive()
    job = client.list_job("p")[0]
    assert (job.data_skipped, job.data_processed, job.version) == (2, 0, 2)
    client.update_pipeline(new, reprocess=True)
    client.drive()
    job = client.list_job("p")[0]
    assert (job.data_skipped, job.data_processed, job.version) == (0, 2, 3)
    assert outputs(client, "p")["/a"] == b"1v2\n"
    with pytest.raises(AlreadyExistsError):
        client.create_pipeline(new)


def test_three_stage_dag_one_global_id(client: loxo.Client) -> None:
    client.create_repo("raw")
    client.create_pipeline(spec("clean", pfs("raw", name="in")))
    client.create_pipeline(spec("feat", pfs("clean", "/", name="in")))
    client.create_pipeline(spec("model", pfs("feat", "/", name="in")))
    cid = put(client, "raw@master", {"/x": "1"})
    jobs = client.list_job(job_id=cid)
    assert sorted(j.pipeline for j in jobs) == ["clean", "feat", "model"]
    assert all(j.state == JobState.SUCCESS for j in jobs)
    members = {c.repo for c in client.list_commit_set(cid)}
    assert members == {"raw", "clean", "feat", "model"}
    assert outputs(client, "model") == {"/x": b"1"}


def test_cross_union_join_group(client: loxo.Client) -> None:
    client.create_repo("a")
    client.create_repo("b")
    put(client, "a@master", {"/k1.txt": "a1", "/k2.txt": "a2"})
    put(client, "b@master", {"/k1.csv": "b1", "/k3.csv": "b3"})
    names = ["sh", "-c", 'echo "$PACH_DATUM_ID" > /pfs/out/$PACH_DATUM_ID']
    client.create_pipeline(spec("cross", {"cross": [pfs("a"), pfs("b")]}, names))
    client.create_pipeline(spec("union", {"union": [pfs("a"), pfs("b")]}, names))
    join = {"join": [pfs("a", "/(*).txt", join_on="$1"), pfs("b", "/(*).csv", join_on="$1")]}
    client.create_pipeline(spec("join", join, ["sh", "-c", "cat /pfs/a/* /pfs/b/* > /pfs/out/j"]))
    group = {"group": [pfs("a", "/(k?)*", group_by="$1"), pfs("b", "/(k?)*", group_by="$1")]}
    client.create_pipeline(spec("group", group, names))
    client.drive()
    assert client.list_job("cross")[0].data_total == 4
    assert client.list_job("union")[0].data_total == 4
    assert client.list_job("join")[0].data_total == 1
    assert outputs(client, "join") == {"/j": b"a1b1"}
    assert client.list_job("group")[0].data_total == 3  # keys k1 (a and b), k2, k3
    sizes = sorted(len(d.inputs) for d in client.list_datum("group"))
    assert sizes == [1, 1, 2]
    assert all(j.state == JobState.SUCCESS for j in client.list_job())


def test_zero_datums_every_job_and_stop_start(client: loxo.Client) -> None:
    client.create_repo("in")
    client.create_pipeline(spec("none", pfs("in", "/nothing-*")))
    client.create_pipeline(spec("every", pfs("in"), reprocess_spec="every_job"))
    put(client, "in@master", {"/a": "1"})
    job = client.list_job("none")[0]
    assert job.state == JobState.SUCCESS and job.data_total == 0
    assert outputs(client, "none") == {}
    put(client, "in@master", {"/b": "2"})
    assert client.list_job("every")[0].data_processed == 2
    client.stop_pipeline("every")
    before = len(client.list_job("every"))
    put(client, "in@master", {"/c": "3"})
    assert len(client.list_job("every")) == before
    assert client.inspect_pipeline("every").state == "PAUSED"
    client.start_pipeline("every")
    client.drive()
    assert len(client.list_job("every")) == before + 1
    assert set(outputs(client, "every")) == {"/a", "/b", "/c"}


def test_python_transform(client: loxo.Client, tmp_path: Path) -> None:
    mod = tmp_path / "mods" / "upper_mod.py"  # on the server's path too (see conftest)
    mod.parent.mkdir(exist_ok=True)
    mod.write_text(
        "def run(datum):\n"
        "    for name, path in datum.inputs.items():\n"
        "        (datum.out / path.name).write_text(path.read_text().upper())\n"
        "    print('did', datum.id)\n"
    )
    import sys

    sys.path.insert(0, str(mod.parent))
    import os

    os.environ["PYTHONPATH"] = str(mod.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")
    client.create_repo("in")
    put(client, "in@master", {"/a.txt": "abc", "/b.txt": "xyz"})
    doc = {"pipeline": {"name": "up"}, "transform": {"python": "upper_mod:run"},
           "input": pfs("in")}  # fmt: skip
    client.create_pipeline(json.dumps(doc))
    client.drive()
    assert outputs(client, "up") == {"/a.txt": b"ABC", "/b.txt": b"XYZ"}
    assert any(r.line.startswith("did ") for _, r in client.get_logs(pipeline="up"))


def test_bad_specs_name_the_field(client: loxo.Client) -> None:
    client.create_repo("in")
    with pytest.raises(InvalidArgumentError, match="glb"):
        client.create_pipeline('{"pipeline": {"name": "x"}, "transform": {"cmd": ["true"]},'
                               ' "input": {"pfs": {"repo": "in", "glb": "/*"}}}')  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="nope"):
        client.create_pipeline(spec("x", pfs("nope")))
    client.create_pipeline(spec("p1", pfs("in")))
    client.create_pipeline(spec("p2", pfs("p1")))
    with pytest.raises(InvalidArgumentError, match="cycle"):
        client.update_pipeline(spec("p1", pfs("p2")))
    with pytest.raises(InvalidArgumentError, match="own output"):
        client.update_pipeline(spec("p1", pfs("p1")))
    with pytest.raises(PreconditionError):
        client.put_file("p1@master", "/x", b"users cannot write to outputs")


def test_cron_ticks(client: loxo.Client) -> None:
    doc = {
        "pipeline": {"name": "tick"},
        "transform": {"cmd": ["sh", "-c", "ls /pfs/t > /pfs/out/seen"]},
        "input": {"cron": {"name": "t", "spec": "@every 1h", "overwrite": True}},
    }
    client.create_pipeline(json.dumps(doc))
    assert "tick_t" in {r.name for r in client.list_repo()}
    first = client.run_cron("tick")[0]
    client.drive()
    assert client.inspect_job("tick", first).state == JobState.SUCCESS
    client.run_cron("tick")
    client.drive()
    assert len(list(client.walk_files("tick_t@master"))) == 1  # overwrite keeps one tick
    assert len(client.list_job("tick")) == 2
    assert client.drive() == []  # the next tick is an hour away


def test_egress_to_a_directory(client: loxo.Client, tmp_path: Path) -> None:
    client.create_repo("in")
    dest = tmp_path / "exported"
    client.create_pipeline(spec("exp", pfs("in", name="in"), egress={"URL": dest.as_uri()}))
    cid = put(client, "in@master", {"/a/b.txt": "B", "/c.txt": "C"})
    assert client.inspect_job("exp", cid).state == JobState.SUCCESS
    assert (dest / "a" / "b.txt").read_text() == "B" and (dest / "c.txt").read_text() == "C"


def test_executor_specific_fields_are_refused_not_ignored(client: loxo.Client) -> None:
    client.create_repo("in")
    with pytest.raises(InvalidArgumentError, match="'pod_patch' is not supported"):
        client.create_pipeline(spec("k8s", pfs("in"), pod_patch="[]"))
    with pytest.raises(InvalidArgumentError, match=r"transform\.secrets"):
        client.create_pipeline(
            spec("sec", pfs("in"), transform={"cmd": ["true"], "secrets": [{"name": "s"}]})
        )
    assert [p.name for p in client.list_pipeline()] == []
