"""Commit history, commit sets, squash and delete through the real ``loxo`` command."""

from __future__ import annotations

from .conftest import Loxo


def test_history_squash_and_delete(loxo: Loxo) -> None:
    loxo("create", "repo", "data")
    for n in (1, 2, 3):
        loxo("put", "file", f"data@master:/f{n}", "-m", f"commit {n}", input=str(n))
    c3, c2, c1 = [c["id"] for c in loxo.json("list", "commit", "data@master")]

    table = loxo("list", "commit", "data@master").lines
    assert table[0].split() == [
        "REPO",
        "BRANCH",
        "COMMIT",
        "FINISHED",
        "SIZE",
        "ORIGIN",
        "DESCRIPTION",
    ]
    assert [line.split()[2] for line in table[1:]] == [c3, c2, c1]
    assert table[1].split()[-3:] == ["USER", "commit", "3"]
    assert [c["id"] for c in loxo.json("list", "commit", "data@master", "-n", "2")] == [c3, c2]
    assert [c["id"] for c in loxo.json("list", "commit", "data", "--from", c1)] == [c3, c2]
    assert [c["id"] for c in loxo.yaml("list", "commit", c2)] == [c2]
    assert [c["repo"] for c in loxo.json("list", "commit")] == ["data"] * 3
    info = loxo("inspect", "commit", "data@master^", "--full-timestamps").out
    assert f"Commit:      data@{c2}" in info and f"Parent:      {c1}" in info
    assert "T" in info.split("Started:")[1].split()[0]  # an ISO timestamp

    err = loxo.fails("delete", "commit", "data@master^", code=6)
    assert c2 in err and "child" in err

    loxo("squash", "commit", "data@master^")
    after = loxo.json("list", "commit", "data@master")
    assert [c["id"] for c in after] == [c3, c1] and after[0]["parent"] == c1
    assert [f["path"] for f in loxo.json("list", "file", "data@master")] == ["/f1", "/f2", "/f3"]

    loxo("delete", "commit", c3)  # a bare ID: the whole commit set
    assert loxo.json("inspect", "branch", "data@master")["head"] == c1
    assert [f["path"] for f in loxo.json("list", "file", "data@master")] == ["/f1"]
    assert c3 in loxo.fails("inspect", "commit", f"data@{c3}", code=2)
    assert [c["id"] for c in loxo.json("wait", "commit", "data@master")] == [c1]
