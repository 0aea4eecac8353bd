"""The driver's skip path: skipped datums are copied from the base job inside the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

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
