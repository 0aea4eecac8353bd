"""Jobs, datums and logs after the fact, through the real ``loxo`` command, over one store
made once for the module (these commands only read), plus ``logs -f`` and ``run cron``."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from .conftest import LOXO, Loxo, spec, yaml_specs

LOOP = 'for f in /pfs/in/*; do n=${f##*/}; echo "out $n"; echo "err $n" >&2; cp -r "$f" /pfs/out/;'
ECHO = ["sh", "-c", LOOP + " done"]
PICKY = ["sh", "-c", LOOP + ' test "$n" != bad.txt || exit 1; done']


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Loxo:
    root = tmp_path_factory.mktemp("jobs")
    (root / "work").mkdir()
    loxo = Loxo(root / "home", root / "work")
    loxo.env["LOXO_EXECUTOR"] = "inline"
    loxo("create", "repo", "in")
    loxo.gen({"t/a.txt": "a", "t/b.txt": "b", "t/dir/c.txt": "c"})
    loxo("put", "file", "in@master", "-r", "-f", "t")
    specs = yaml_specs(spec("echo", "in", ECHO), spec("picky", "in", PICKY, datum_tries=1))
    loxo.gen({"p.yaml": specs, "dry.yaml": yaml_specs(spec("dry", "in", ECHO, glob="/*.txt"))})
    loxo("create", "pipeline", "-f", "p.yaml")
    assert loxo.run("put", "file", "in@master:/bad.txt", input="bad").code == 10  # picky fails
    return loxo


def _job(store: Loxo, pipeline: str) -> str:
    return str(store.json("list", "job", pipeline, "-n", "1")[0]["id"])


def test_list_and_inspect_jobs(store: Loxo) -> None:
    cid = _job(store, "echo")
    assert [j["pipeline"] for j in store.json("list", "job", cid)] == ["picky", "echo"]
    assert len(store.json("list", "job")) == 4
    assert len(store.json("list", "job", "-n", "3")) == 3
    info = store.json("inspect", "job", f"picky@{cid}")
    assert (info["state"], info["data_total"], info["data_failed"]) == ("FAILURE", 4, 1)
    text = store("inspect", "job", f"echo@{cid}").out
    assert "State:            SUCCESS" in text
    assert "Datums:           4 total: 1 processed, 3 skipped, 0 failed, 0 recovered" in text
    assert f"Output commit:    echo@{cid}" in text
    assert "no job" in store.run("inspect", "job", "echo").stderr


def test_list_and_inspect_datums(store: Loxo) -> None:
    table = store("list", "datum", "echo").lines  # the latest job
    assert table[0].split() == ["ID", "STATE", "INPUTS", "ATTEMPTS", "TIME"]
    states = {line.split()[2]: line.split()[1] for line in table[1:]}
    assert states == {"in:/a.txt": "SKIPPED", "in:/b.txt": "SKIPPED", "in:/dir": "SKIPPED",
                      "in:/bad.txt": "SUCCESS"}  # fmt: skip
    cid = _job(store, "picky")
    failed = store.json("list", "datum", f"picky@{cid}", "--state", "failed")
    assert [d["inputs"][0]["path"] for d in failed] == ["/bad.txt"]
    datum = failed[0]["id"]

    text = store("inspect", "datum", f"picky@{cid}", datum).out
    assert f"Datum:        {datum}" in text and "State:        FAILED" in text
    assert "Error:        exit code 1" in text
    logged = ["  attempt 1 of 1 failed: exit code 1", "  err bad.txt", "  out bad.txt"]
    assert sorted(text.split("Logs:\n")[1].splitlines()) == logged
    info = store.json("inspect", "datum", f"picky@{cid}", datum)
    assert {r["stream"] for r in info["logs"]} == {"stdout", "stderr", "system"}
    assert info["inputs"][0]["repo"] == "in" and info["attempts"] == 1

    err = store.fails("restart", "datum", f"picky@{cid}", datum, code=6)
    assert "not running" in err
    assert "'nope'" in store.fails("inspect", "datum", f"picky@{cid}", "nope", code=2)


def test_dry_run_lists_the_datums_a_spec_would_have(store: Loxo) -> None:
    dry = store.json("list", "datum", "-f", "dry.yaml")
    assert sorted(d["inputs"][0]["path"] for d in dry) == ["/a.txt", "/b.txt", "/bad.txt"]
    real = {d["inputs"][0]["path"]: d["id"] for d in store.json("list", "datum", "echo")}
    assert all(real[d["inputs"][0]["path"]] == d["id"] for d in dry)  # same input, same ID
    assert store("list", "datum", "-f", "dry.yaml").lines[0].split() == ["ID", "INPUTS"]
    assert "dry" not in {p["name"] for p in store.json("list", "pipeline")}
    r = store.run("list", "datum", "echo", "-f", "dry.yaml")
    assert r.code == 2 and "not both" in r.stderr


def test_logs_filters(store: Loxo) -> None:
    lines = store("logs", "--pipeline", "echo").lines
    assert len(lines) == 8  # 2 lines from each of 3 datums, then of the new datum bad.txt
    time_, pipeline, datum, _ = lines[0].split(" ", 3)
    assert "T" in time_ and pipeline == "echo" and len(datum) == 12
    assert {ln.split(" ", 3)[3] for ln in lines} >= {"out a.txt", "err a.txt", "out bad.txt"}

    records = [json.loads(ln) for ln in store("logs", "-p", "picky", "-o", "json").lines]
    bad = [r for r in records if r["line"] == "out bad.txt"]
    assert len(bad) == 1 and len(bad[0]["datum_id"]) == 64
    by_datum = store("logs", "--pipeline", "picky", "--datum", bad[0]["datum_id"]).lines
    assert sorted(ln.split(" ", 3)[3] for ln in by_datum)[1:] == ["err bad.txt", "out bad.txt"]
    (last,) = store("logs", "--tail", "1").lines
    assert last.split(" ", 3)[3] == "attempt 1 of 1 failed: exit code 1"  # picky ran last
    by_input = store("logs", "-p", "echo", "--inputs", "/a.txt").lines
    assert sorted(ln.split(" ", 3)[3] for ln in by_input) == ["err a.txt", "out a.txt"]
    cid = bad[0]["job_id"]
    assert len(store("logs", "--job", f"picky@{cid}").lines) == 3
    assert len(store("logs", "--job", cid).lines) == 5  # echo and picky both ran bad.txt


def test_logs_follow_until_interrupted(store: Loxo) -> None:
    argv = [*LOXO, "--home", str(store.home), "logs", "-f", "-p", "echo", "--tail", "1"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=store.env)
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline().decode()
        assert first.rstrip().endswith(" bad.txt")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
    finally:
        proc.kill()
        proc.communicate()


def test_run_cron_ticks_now(inline: Loxo) -> None:
    loxo = inline
    cron = {
        "pipeline": {"name": "ticker"},
        "transform": {"cmd": ["sh", "-c", "ls /pfs/tick > /pfs/out/ticks"]},
        "input": {"cron": {"name": "tick", "spec": "@every 1h"}},
    }
    loxo("create", "pipeline", "-f", "-", input=json.dumps(cron))
    r = loxo("run", "cron", "ticker")
    (commit,) = r.lines
    assert f"job ticker@{commit} SUCCESS: 1 datum, 1 processed" in r.stderr
    assert loxo("get", "file", "ticker@master:/ticks").out.strip().endswith("Z")
    assert "'nothing'" in loxo.fails("run", "cron", "nothing", code=2)
