"""Pipelines through the real ``loxo`` command: create, list, inspect, draw, update, edit,
validate, delete, stop and start, and the jobs that writes run before returning."""

from __future__ import annotations

import json

from .conftest import Loxo, spec, yaml_specs

EACH = "for f in /pfs/in/*; do n=${f##*/}; "
COPY = ["sh", "-c", EACH + 'echo "saw $n"; cp -r "$f" /pfs/out/; done']
APPEND = ["sh", "-c", EACH + 'cp "$f" /pfs/out/; echo v2 >> "/pfs/out/$n"; done']
PICKY = ["sh", "-c", EACH + 'test "$n" != bad || exit 3; cp "$f" /pfs/out/; done']
JOB_HEADERS = ["ID", "PIPELINE", "STARTED", "DURATION", "PROGRESS", "DL", "UL", "STATE", "REASON"]


def _head(loxo: Loxo, repo: str) -> str:
    return str(loxo.json("--no-wait", "list", "commit", f"{repo}@master", "-n", "1")[0]["id"])


def test_create_inspect_draw_update_edit_and_delete(inline: Loxo) -> None:
    loxo = inline
    loxo("create", "repo", "raw")
    loxo("put", "file", "raw@master:/a", input="1")
    loxo("put", "file", "raw@master:/b", input="2")
    loxo.gen({"dag.yaml": yaml_specs(spec("first", "raw", COPY), spec("second", "first", COPY))})

    r = loxo("create", "pipeline", "-f", "dag.yaml")
    first, second = r.stderr.splitlines()
    assert first.startswith("job first@") and second.startswith("job second@")
    assert " SUCCESS: 2 datums, 2 processed, 0 skipped, 0 failed in " in first

    table = loxo("list", "pipeline").lines
    assert table[0].split() == ["NAME", "VERSION", "INPUT", "STATE", "LAST", "JOB", "CREATED"]
    assert [line.split()[:5] for line in table[1:]] == [
        ["second", "1", "first:/*", "RUNNING", "SUCCESS"],
        ["first", "1", "raw:/*", "RUNNING", "SUCCESS"],
    ]
    info = loxo.json("inspect", "pipeline", "first")
    assert (info["version"], info["state"], info["last_job_state"]) == (1, "RUNNING", "SUCCESS")
    assert info["spec"]["transform"]["cmd"] == COPY and info["inputs"] == ["raw@master"]
    text = loxo("inspect", "pipeline", "second").out
    assert "Inputs:      first@master" in text and "Spec:\n  pipeline:\n    name: second" in text
    assert loxo("draw", "pipeline").lines == [
        "raw",
        "  raw -> [first] -> first",
        "    first -> [second] -> second",
    ]
    assert loxo("get", "file", "second@master:/b").out == "2"

    # an update keeps the salt: both datums stay skipped, unless --reprocess
    loxo.gen({"v2.json": json.dumps(spec("first", "raw", APPEND))})
    r = loxo("update", "pipeline", "-f", "v2.json")
    assert r.out == "pipeline first: 2 datums will be kept, 0 will be rerun\n"
    job = loxo.json("list", "job", "first", "-n", "1")[0]
    assert (job["version"], job["data_processed"], job["data_skipped"]) == (2, 0, 2)
    r = loxo("update", "pipeline", "-f", "v2.json", "--reprocess")
    assert r.out == "pipeline first: 0 datums will be kept, 2 will be rerun\n"
    assert loxo("get", "file", "second@master:/a").out == "1v2\n"

    # edit: the effective spec through an editor; an untouched spec is left alone
    r = loxo("edit", "pipeline", "first", "--editor", "sed -i s/v2/v3/")
    assert r.out == "pipeline first: 2 datums will be kept, 0 will be rerun\n"
    assert "v3" in loxo.json("inspect", "pipeline", "first")["spec"]["transform"]["cmd"][2]
    r = loxo("edit", "pipeline", "first", "--editor", "true")
    assert r.out == "pipeline first: unchanged\n"
    assert loxo.json("inspect", "pipeline", "first")["version"] == 4

    # a JSON spec on stdin; validate changes nothing
    third = json.dumps(spec("third", "raw", COPY, description="from stdin"))
    assert loxo("validate", "pipeline", "-f", "-", input=third).out == "pipeline third: valid\n"
    assert [p["name"] for p in loxo.json("list", "pipeline")] == ["second", "first"]
    loxo("create", "pipeline", "-f", "-", input=third)
    assert loxo.yaml("inspect", "pipeline", "third")["description"] == "from stdin"

    err = loxo.fails("delete", "pipeline", "first", code=6)
    assert "'second'" in err
    loxo("delete", "pipeline", "second", "--keep-repo")
    loxo("delete", "pipeline", "first")
    assert [p["name"] for p in loxo.json("list", "pipeline")] == ["third"]
    assert {r["name"] for r in loxo.json("list", "repo")} == {"raw", "second", "third"}
    assert "'first'" in loxo.fails("inspect", "pipeline", "first", code=2)


def test_writes_run_their_jobs_on_the_default_executor(loxo: Loxo) -> None:
    loxo("create", "repo", "in")
    loxo.gen({"p.yaml": yaml_specs(spec("picky", "in", PICKY, datum_tries=1))})
    assert loxo("create", "pipeline", "-f", "p.yaml").stderr == ""  # no input yet: no job

    r = loxo("put", "file", "in@master:/good", input="x")
    cid = _head(loxo, "in")
    assert r.stderr.startswith(
        f"job picky@{cid} SUCCESS: 1 datum, 1 processed, 0 skipped, 0 failed in "
    )
    assert len(r.stderr.splitlines()) == 1
    table = loxo("list", "job").lines
    assert table[0].split() == JOB_HEADERS
    assert table[1].split()[:2] == [cid, "picky"] and "1 + 0 / 1" in table[1]
    assert loxo("get", "file", "picky@master:/good").out == "x"

    # a failed job fails the write that ran it (exit 10); the write stands
    r = loxo.run("put", "file", "in@master:/bad", input="y")
    assert r.code == 10, r.stderr
    assert "FAILURE: 2 datums, 0 processed, 1 skipped, 1 failed in " in r.stderr
    assert "exit code 3" in r.stderr
    assert r.stderr.splitlines()[-1].startswith(f"error: job picky@{_head(loxo, 'in')} ended ")
    assert loxo("get", "file", "in@master:/bad").out == "y"
    job = loxo.json("list", "job", "picky", "-n", "1")[0]
    assert (job["state"], job["data_failed"]) == ("FAILURE", 1)
    assert "0 + 1 / 2, 1 failed" in loxo("list", "job", "picky").lines[1]


def test_no_wait_leaves_jobs_pending_until_a_wait(inline: Loxo) -> None:
    loxo = inline
    loxo("create", "repo", "in")
    loxo.gen({"p.yaml": yaml_specs(spec("p", "in", COPY))})
    loxo("create", "pipeline", "-f", "p.yaml")

    r = loxo("--no-wait", "put", "file", "in@master:/a", input="1")
    assert r.stderr == ""
    cid = _head(loxo, "in")
    jobs = loxo.json("--no-wait", "list", "job")
    assert [(j["id"], j["state"]) for j in jobs] == [(cid, "CREATED")]
    loxo.env["LOXO_NO_WAIT"] = "1"
    assert loxo.json("inspect", "job", f"p@{cid}")["state"] == "CREATED"
    r = loxo("wait", "commit", cid)  # waiting runs the jobs, even under LOXO_NO_WAIT
    assert sorted(line.split()[0] for line in r.lines[1:]) == ["in", "p"]
    assert f"job p@{cid} SUCCESS" in r.stderr
    del loxo.env["LOXO_NO_WAIT"]

    # a pending job can be killed before it runs; wait job drives under --no-wait too
    loxo("--no-wait", "put", "file", "in@master:/b", input="2")
    killed = _head(loxo, "in")
    loxo("stop", "job", f"p@{killed}")
    assert loxo.json("inspect", "job", f"p@{killed}")["state"] == "KILLED"
    loxo("--no-wait", "put", "file", "in@master:/c", input="3")
    last = _head(loxo, "in")
    r = loxo("--no-wait", "wait", "job", f"p@{last}", "-o", "json")
    assert json.loads(r.out)[0]["state"] == "SUCCESS"

    # a stopped pipeline makes no jobs; starting it again catches up in one job
    loxo("stop", "pipeline", "p")
    assert loxo.json("inspect", "pipeline", "p")["state"] == "PAUSED"
    loxo("put", "file", "in@master:/d", input="4")
    assert len(loxo.json("list", "job", "p")) == 3
    r = loxo("start", "pipeline", "p")
    assert "SUCCESS: 4 datums, 1 processed, 3 skipped, 0 failed" in r.stderr
    r = loxo("rerun", "pipeline", "p")
    assert "SUCCESS: 4 datums, 0 processed, 4 skipped, 0 failed" in r.stderr
    assert loxo.json("inspect", "pipeline", "p")["state"] == "RUNNING"
    assert [j["state"] for j in loxo.json("list", "job", "p", "-n", "2")] == ["SUCCESS"] * 2


def test_spec_errors_name_the_file_and_field(inline: Loxo) -> None:
    loxo = inline
    loxo("create", "repo", "in")
    bad = spec("x", "in", COPY)
    bad["input"]["pfs"]["glb"] = bad["input"]["pfs"].pop("glob")
    loxo.gen({"bad.yaml": yaml_specs(spec("ok", "in", COPY), bad)})
    err = loxo.fails("create", "pipeline", "-f", "bad.yaml", code=4)
    assert err.startswith("error: bad.yaml (document 2): input.pfs.glb: ")
    assert loxo.json("list", "pipeline") == []  # specs are all read before any is created
    err = loxo.fails("validate", "pipeline", "-f", "-", input='{"pipeline": 3}', code=4)
    assert "<stdin>: pipeline" in err
    assert "'nothing.yaml'" in loxo.fails("create", "pipeline", "-f", "nothing.yaml", code=2)
    err = loxo.fails("list", "datum", "-f", "bad.yaml", code=4)
    assert "input.pfs.glb" in err
    missing = json.dumps(spec("y", "nope", COPY))
    assert "'nope'" in loxo.fails("create", "pipeline", "-f", "-", input=missing, code=4)
