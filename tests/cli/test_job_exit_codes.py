"""A command that waits for jobs exits 10 when one did not succeed (FAILURE, KILLED,
UNRUNNABLE), naming the job and how to see its logs; ``--no-wait`` exits 0. Embedded and
through a real ``loxo serve`` (one per module, its scheduler running the jobs)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from tests.serverproc import ServerProc, running_server

from .conftest import Loxo, spec, yaml_specs

EXIT_JOB_FAILED = 10
EACH = "for f in /pfs/in/*; do n=${f##*/}; "
PICKY = [
    "sh",
    "-c",
    EACH + 'test "$n" != bad || { echo "no $n" >&2; exit 3; }; cp "$f" /pfs/out/; done',
]
COPY = ["sh", "-c", EACH + 'cp "$f" /pfs/out/; done']
Names = Callable[[str], str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    home = tmp_path_factory.mktemp("server-home")
    with running_server(home, "--grpc-port", "-1", env={"LOXO_EXECUTOR": "inline"}) as proc:
        yield proc


@pytest.fixture(params=["embedded", "remote"])
def cli(request: pytest.FixtureRequest, inline: Loxo) -> Loxo:
    if request.param == "remote":
        inline.env["LOXO_ADDRESS"] = request.getfixturevalue("server").http_url
    return inline


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Names:
    """``names("in")`` -> a repo/pipeline name unique to this test (one server per module)."""
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:40]
    return lambda base: f"{test}-{base}".strip("-")


def head(loxo: Loxo, repo: str) -> str:
    return str(loxo.json("--no-wait", "list", "commit", f"{repo}@master", "-n", "1")[0]["id"])


def job_failed(loxo: Loxo, *args: str, input: str | None = None) -> str:
    """Run; require exit 10 and a last stderr line naming the failed job; that line."""
    r = loxo.run(*args, input=input)
    assert r.code == EXIT_JOB_FAILED, f"loxo {' '.join(args)} exited {r.code}: {r.stderr}"
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: job ") and "`loxo logs --job " in last, last
    return last


def test_writes_exit_10_when_the_job_they_ran_fails(cli: Loxo, names: Names) -> None:
    repo, picky = names("in"), names("picky")
    cli("create", "repo", repo)
    cli.gen({"p.yaml": yaml_specs(spec(picky, repo, PICKY, datum_tries=1))})
    cli("create", "pipeline", "-f", "p.yaml")
    cli("put", "file", f"{repo}@master:/good", input="x")

    line = job_failed(cli, "put", "file", f"{repo}@master:/bad", input="y")
    job = f"{picky}@{head(cli, repo)}"
    assert f"job {job} ended FAILURE: " in line and f"`loxo logs --job {job}`" in line
    assert cli("get", "file", f"{repo}@master:/bad").out == "y", "the write stands"
    logs = cli("logs", "--job", job).out  # the command the message names works
    assert "no bad" in logs

    # an open commit: the job starts when it is finished
    cli("start", "commit", f"{repo}@master")
    cli("put", "file", f"{repo}@master:/other", input="z")
    line = job_failed(cli, "finish", "commit", f"{repo}@master")
    assert f"job {picky}@{head(cli, repo)} ended FAILURE" in line

    # --no-wait does not wait, and does not fail
    r = cli.run("--no-wait", "put", "file", f"{repo}@master:/bad", "-a", input="more")
    assert r.code == 0, r.stderr
    cid = head(cli, repo)
    line = job_failed(cli, "wait", "commit", cid)
    assert f"job {picky}@{cid} ended FAILURE" in line
    line = job_failed(cli, "wait", "job", f"{picky}@{cid}")  # ended before: still a failure
    assert f"job {picky}@{cid} ended FAILURE" in line
    assert cli.run("wait", "commit", f"{repo}@master").code == 0, "the input commit is fine"


def test_creating_or_updating_a_pipeline_exits_10_when_its_job_fails(
    cli: Loxo, names: Names
) -> None:
    repo, picky, after = names("in"), names("picky"), names("after")
    cli("create", "repo", repo)
    cli("put", "file", f"{repo}@master:/bad", input="y")
    specs = yaml_specs(spec(picky, repo, PICKY, datum_tries=1), spec(after, picky, COPY))
    cli.gen({"p.yaml": specs})
    line = job_failed(cli, "create", "pipeline", "-f", "p.yaml")
    cid = head(cli, picky)
    # the upstream failure first; the downstream job it made UNRUNNABLE counted too
    assert f"job {picky}@{cid} ended FAILURE" in line and "and 1 more" in line, line
    (downstream,) = cli.json("list", "job", after)
    assert downstream["state"] == "UNRUNNABLE"
    job_failed(cli, "wait", "job", f"{after}@{downstream['id']}")

    job_failed(cli, "update", "pipeline", "-f", "p.yaml", "--reprocess")
    assert cli.run("--no-wait", "update", "pipeline", "-f", "p.yaml", "--reprocess").code == 0


def test_a_killed_job_fails_its_wait(inline: Loxo) -> None:
    loxo = inline
    loxo("create", "repo", "in")
    loxo.gen({"p.yaml": yaml_specs(spec("p", "in", COPY))})
    loxo("create", "pipeline", "-f", "p.yaml")
    loxo("--no-wait", "put", "file", "in@master:/a", input="1")
    cid = head(loxo, "in")
    loxo("stop", "job", f"p@{cid}")
    line = job_failed(loxo, "wait", "job", f"p@{cid}")
    assert f"job p@{cid} ended KILLED: stopped by the user" in line
    job_failed(loxo, "wait", "commit", cid)


def test_exit_codes_stay_apart(loxo: Loxo) -> None:
    assert loxo.run("list", "repo", "--no-such-option").code == 2  # click's usage error
    assert loxo.run("inspect", "repo", "nope").code == 2  # not found
    unreachable = loxo.run("--address", "http://127.0.0.1:9", "list", "repo")
    assert unreachable.code == 9
