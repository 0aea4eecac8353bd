"""Bad input fails with a non-zero exit and one stderr line naming the offending value, never
a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Loxo


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Loxo:
    root = tmp_path_factory.mktemp("errors")
    (root / "work").mkdir()
    loxo = Loxo(root / "home", root / "work")
    loxo("create", "repo", "data")
    loxo("put", "file", "data@master:/file.txt", input="x")
    loxo("put", "file", "data@master:/dir/inner.txt", input="y")
    return loxo


@pytest.mark.parametrize(
    ("args", "code", "offending"),
    [
        (["inspect", "repo", "nope"], 2, "'nope'"),
        (["get", "file", "nope@master:/file.txt"], 2, "'nope'"),
        (["list", "file", "data@@x"], 4, "data@@x"),
        (["list", "commit", "data@missing"], 2, "'missing'"),
        (["get", "file", "data@master^9:/file.txt"], 2, "master^9"),
        (["get", "file", "data@master:/a/../b"], 4, "/a/../b"),
        (["put", "file", "data@master:/a*.txt"], 4, "/a*.txt"),
        (["put", "file", "data@master:/file.txt/below"], 5, "/file.txt"),
        (["get", "file", "data@master:/dir"], 5, "/dir"),
        (["list", "file", "data@master:/nothing"], 2, "/nothing"),
        (["put", "file", "data@master:/x", "-f", "missing.txt"], 2, "missing.txt"),
        (["create", "repo", "bad.name"], 4, "bad.name"),
        (["glob", "file", "data@master:/[a"], 4, "/[a"),
    ],
)
def test_bad_input(store: Loxo, args: list[str], code: int, offending: str) -> None:
    err = store.fails(*args, input="content", code=code)
    assert offending in err


def test_failed_get_leaves_no_output_file(store: Loxo) -> None:
    store.fails("get", "file", "data@master:/nothing", "-o", "out.txt")
    assert not (store.cwd / "out.txt").exists()
    assert not list(Path(store.cwd).iterdir())
