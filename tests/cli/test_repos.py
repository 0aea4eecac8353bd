"""Repos and branches through the real ``loxo`` command."""

from __future__ import annotations

from .conftest import Loxo


def test_repo_lifecycle(loxo: Loxo) -> None:
    assert loxo("create", "repo", "images", "-d", "raw photos").out == ""
    loxo("create", "repo", "labels")
    table = loxo("list", "repo").lines
    assert table[0].split() == ["NAME", "CREATED", "SIZE", "(MASTER)", "DESCRIPTION"]
    assert {line.split()[0] for line in table[1:]} == {"images", "labels"}
    assert any(line.startswith("images") and line.endswith("raw photos") for line in table)

    info = loxo.json("inspect", "repo", "images")
    assert (info["name"], info["description"], info["size"]) == ("images", "raw photos", 0)
    assert "Description:    raw photos" in loxo("inspect", "repo", "images").lines

    loxo("update", "repo", "images", "-d", "cooked photos")
    assert loxo.yaml("inspect", "repo", "images")["description"] == "cooked photos"
    assert [r["name"] for r in loxo.yaml("list", "repo", "--all")] == ["labels", "images"]

    err = loxo.fails("create", "repo", "images", code=3)
    assert "'images'" in err and "already exists" in err

    loxo("delete", "repo", "images")
    assert [r["name"] for r in loxo.json("list", "repo")] == ["labels"]
    err = loxo.fails("inspect", "repo", "images", code=2)
    assert "'images'" in err


def test_home_option_overrides_the_environment(loxo: Loxo) -> None:
    loxo.env["LOXO_HOME"] = str(loxo.cwd / "env-home")
    loxo("create", "repo", "in_option_home")
    assert loxo.run("list", "repo", "-o", "json", home=False).out.strip() == "[]"
    loxo.run("create", "repo", "in_env_home", home=False)
    assert [r["name"] for r in loxo.json("list", "repo")] == ["in_option_home"]


def test_branch_lifecycle(loxo: Loxo) -> None:
    loxo("create", "repo", "data")
    loxo("put", "file", "data@master:/a", input="1")
    loxo("put", "file", "data@master:/a", input="2")
    first, second = reversed([c["id"] for c in loxo.json("list", "commit", "data@master")])

    loxo("create", "branch", "data@dev", "--head", "master^")
    loxo("create", "branch", "data@pinned", "--head", second)
    branches = {b["name"]: b["head"] for b in loxo.json("list", "branch", "data")}
    assert branches == {"master": second, "dev": first, "pinned": second}
    assert loxo("get", "file", "data@dev:/a").out == "1"
    assert f"Head:    {first}" in loxo("inspect", "branch", "data@dev").out
    assert loxo("list", "branch", "data").lines[0].split() == ["BRANCH", "HEAD", "CREATED"]

    loxo("delete", "branch", "data@dev")
    assert "dev" not in {b["name"] for b in loxo.yaml("list", "branch", "data")}
    assert "'dev'" in loxo.fails("inspect", "branch", "data@dev", code=2)
    assert "'data@master^'" in loxo.fails("create", "branch", "data@master^", code=4)


def test_create_branch_on_an_existing_branch_keeps_its_head(loxo: Loxo) -> None:
    loxo("create", "repo", "data")
    loxo("put", "file", "data@master:/a", input="1")
    head = loxo.json("inspect", "branch", "data@master")["head"]
    loxo("create", "branch", "data@master")  # no --head: nothing moves (as in pachctl)
    assert loxo.json("inspect", "branch", "data@master")["head"] == head
    loxo("put", "file", "data@master:/b", input="2")
    assert loxo("get", "file", "data@master:/a").out == "1", "the old files are still there"
    assert loxo.json("inspect", "commit", "data@master")["parent"] == head
