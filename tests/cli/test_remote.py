"""The real ``loxo`` command in remote mode, against a real ``loxo serve`` on loopback: the
address from ``config set address`` or ``LOXO_ADDRESS``, back to the embedded store with
``config unset address``, and one clear line when the server cannot be reached."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.serverproc import ServerProc, running_server

from .conftest import Loxo, spec, yaml_specs

Names = Callable[[str], str]
TREE = {"a.txt": "alpha\n", "dir/b.txt": "beta\n", "dir/sub/c.bin": "gamma" * 1000}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    home = tmp_path_factory.mktemp("server-home")
    with running_server(home, "--grpc-port", "-1", env={"LOXO_EXECUTOR": "inline"}) as proc:
        yield proc
        output = "".join(proc.output)
        assert "Traceback" not in output, "the server logged an unexpected error:\n" + output


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Names:
    """``names("in")`` -> a repo/pipeline name unique to this test (one server per module)."""
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:40]
    return lambda base: f"{test}-{base}".strip("-")


def server_repos(server: ServerProc) -> list[str]:
    return [r["name"] for r in httpx.get(f"{server.http_url}/api/v1/repos").json()]


def test_commands_run_on_the_configured_server(
    loxo: Loxo, server: ServerProc, names: Names
) -> None:
    repo, pipeline = names("in"), names("up")
    loxo("config", "set", "address", server.http_url)
    assert loxo("config", "get", "address").out.strip() == server.http_url
    loxo("create", "repo", repo)
    assert repo in server_repos(server)
    assert not (loxo.home / "loxo.db").exists(), "the embedded store was not opened"

    src = loxo.gen(TREE, "src")
    loxo("put", "file", f"{repo}@master", "-r", "-f", str(src))
    listed = loxo.json("list", "file", f"{repo}@master")
    assert [(f["path"], f["type"]) for f in listed] == [("/a.txt", "file"), ("/dir", "dir")]
    for rel, data in TREE.items():
        assert loxo("get", "file", f"{repo}@master:/{rel}").out == data

    script = 'echo "saw $(basename /pfs/in/*)"; cp -r /pfs/in/* /pfs/out/'
    up = spec(pipeline, repo, ["sh", "-c", script])
    (loxo.cwd / "up.yaml").write_text(yaml_specs(up))
    loxo("create", "pipeline", "-f", "up.yaml")  # waits for the job, run by the server
    jobs = loxo.json("list", "job", pipeline)
    assert [j["state"] for j in jobs] == ["SUCCESS"]
    assert loxo("get", "file", f"{pipeline}@master:/dir/sub/c.bin").out == TREE["dir/sub/c.bin"]
    table = loxo("list", "job", pipeline).lines
    assert table[0].split()[:2] == ["ID", "PIPELINE"] and jobs[0]["id"] in table[1]
    logs = [json.loads(line) for line in loxo("logs", "--pipeline", pipeline, "-o", "json").lines]
    assert "saw a.txt" in {r["line"] for r in logs}
    assert "saw a.txt" in loxo("logs", "--pipeline", pipeline).out

    loxo("config", "unset", "address")
    assert loxo("config", "get", "address").out == ""
    assert loxo.json("list", "repo") == [], "back on the (empty) embedded store"
    assert (loxo.home / "loxo.db").exists()
    assert repo in server_repos(server)


def test_loxo_address_in_the_environment(loxo: Loxo, server: ServerProc, names: Names) -> None:
    loxo.env["LOXO_ADDRESS"] = server.http_url
    loxo("create", "repo", names("r"))
    loxo("put", "file", f"{names('r')}@master:/x", input="x")
    assert names("r") in {r["name"] for r in loxo.json("list", "repo")}
    assert loxo("get", "file", f"{names('r')}@master:/x").out == "x"
    assert not (loxo.home / "loxo.db").exists()
    del loxo.env["LOXO_ADDRESS"]
    assert names("r") not in {r["name"] for r in loxo.json("list", "repo")}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.parametrize("how", ["config", "env", "option"])
def test_an_unreachable_server_is_one_line(loxo: Loxo, how: str) -> None:
    address = f"http://127.0.0.1:{closed_port()}"
    args: tuple[str, ...] = ()
    if how == "config":
        loxo("config", "set", "address", address)
    elif how == "env":
        loxo.env["LOXO_ADDRESS"] = address
    else:
        args = ("--address", address)
    line = loxo.fails(*args, "list", "repo")
    assert address in line and "loxo serve" in line
    assert not (loxo.home / "loxo.db").exists()
    assert loxo.fails(*args, "put", "file", "r@master:/x", input="x").count(address) == 1


def test_a_bad_address_is_one_line(loxo: Loxo, tmp_path: Path) -> None:
    loxo.env["LOXO_ADDRESS"] = "127.0.0.1:8080"
    line = loxo.fails("list", "repo")
    assert "127.0.0.1:8080" in line and "http://" in line
