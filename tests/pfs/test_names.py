"""Names where names are expected: a ref (``images@master``) passed as a repo name is told
as such, and names that a command line would read as options (``-x``) never get created --
embedded here, remote in ``tests/server/test_http_malformed.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import loxo
from loxo.errors import InvalidArgumentError, InvalidName


@pytest.fixture
def client(tmp_path: Path) -> Iterator[loxo.Client]:
    with loxo.Client(tmp_path, executor="inline") as c:
        c.create_repo("images")
        yield c


def test_a_ref_given_as_a_repo_name_is_invalid_not_missing(client: loxo.Client) -> None:
    with pytest.raises(InvalidName) as err:
        client.start_commit("images@master")
    message = str(err.value)
    assert "'images@master'" in message and "ref" in message
    assert "pass the repo ('images') and the branch" in message
    for call in (
        lambda: client.inspect_repo("images@master"),
        lambda: client.inspect_branch("images@master", "master"),
        lambda: client.delete_repo("images@master"),
    ):
        with pytest.raises(InvalidName, match=r"ref \(REPO@BRANCH\)"):
            call()
    assert client.start_commit("images", "master").branch == "master"  # separately: fine


def test_a_project_given_as_a_ref_is_invalid(client: loxo.Client) -> None:
    with pytest.raises(InvalidName, match="project name 'x@y'"):
        client.create_repo("r", project="x@y")


@pytest.mark.parametrize("name", ["-x", "--foo", "-"])
def test_names_that_read_as_options_are_refused(client: loxo.Client, name: str) -> None:
    why = "starts with '-', so a command line would take it for an option"
    with pytest.raises(InvalidName, match=why):
        client.create_repo(name)
    with pytest.raises(InvalidName, match=why):
        client.create_project(name)
    with pytest.raises(InvalidName, match=why):
        client.create_branch("images", name)
    with pytest.raises(InvalidName, match=why):
        client.start_commit("images", name)
    with pytest.raises(InvalidArgumentError, match=why):
        client.put_file(f"images@{name}", "/a.txt", b"x")
    assert [r.name for r in client.list_repo()] == ["images"]
    assert client.list_project() == ["default"]
    assert [b.name for b in client.list_branch("images")] == []


def test_a_pipeline_name_that_reads_as_an_option_is_refused(client: loxo.Client) -> None:
    spec = {
        "pipeline": {"name": "-p"},
        "transform": {"cmd": ["true"]},
        "input": {"pfs": {"repo": "images", "glob": "/*"}},
    }
    with pytest.raises(InvalidArgumentError, match=r"pipeline\.name: invalid pipeline name '-p'"):
        client.create_pipeline(json.dumps(spec))
    with pytest.raises(InvalidName, match="starts with '-'"):
        client.inspect_pipeline("-p")
