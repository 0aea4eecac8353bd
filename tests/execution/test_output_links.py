"""Symlinks in ``/pfs/out``: to the datum's inputs by reference, everything else refused.

The datum's inputs are materialised for real (over a real local store) into a scratch
``pfs``; the links are made as user code would make them, then :func:`collect` and
:func:`upload` run as the worker runs them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from loxo.execution.materialize import materialize
from loxo.execution.output import Found, OutputError, collect, upload
from loxo.execution.sandbox import Layout
from loxo.execution.task import DatumInput
from loxo.storage.blobs import PACK_PREFIX
from loxo.storage.hashing import EMPTY_HASH
from loxo.storage.local import LocalStore

from .builders import Datums

BIG = os.urandom(3 << 20)  # several chunks


@pytest.fixture
def d(tmp_path: Path) -> Datums:
    return Datums(LocalStore(tmp_path / "store"), tmp_path)


@pytest.fixture
def inputs(d: Datums) -> tuple[DatumInput, ...]:
    return (
        d.input("in", "/a", {"/a": b"A"}),
        d.input("dir", "/d", {"/d/x": b"X", "/d/y/z": b"Z"}),
        d.input("big", "/big", {"/big": BIG}),
        d.input("empty", "/e", {"/e": b"not materialised"}, empty_files=True),
    )


@pytest.fixture
def pfs(d: Datums, tmp_path: Path, inputs: tuple[DatumInput, ...]) -> Path:
    pfs = tmp_path / "scratch" / "pfs"
    (pfs / "out").mkdir(parents=True)
    materialize(d.store, inputs, pfs)
    return pfs


def found(pfs: Path, inputs: tuple[DatumInput, ...], sandboxed: bool = True) -> dict[str, Found]:
    return {f.path: f for f in collect(Layout(str(pfs), sandboxed), inputs)}


def refs_of(inputs: tuple[DatumInput, ...], name: str, path: str) -> tuple[object, ...]:
    [inp] = [i for i in inputs if i.name == name]
    [f] = [f for f in inp.files if f.path == path]
    return (f.size, f.hash, f.refs)


def entry(f: Found) -> tuple[object, ...]:
    assert f.linked is not None and f.source == "", f
    return (f.linked.size, f.linked.hash, f.linked.refs)


# --- links to the inputs: by reference -----------------------------------------------------


def test_links_to_input_files_reuse_their_refs(pfs: Path, inputs: tuple[DatumInput, ...]) -> None:
    out = pfs / "out"
    (out / "abs").symlink_to("/pfs/in/a")  # as a sandboxed command writes it
    (out / "sub").mkdir()
    (out / "sub" / "rel").symlink_to("../../in/a")
    (out / "chain").symlink_to("hop")
    (out / "hop").symlink_to("sub/rel")
    (out / "via-dir-link").symlink_to("/pfs/dir/d")
    (out / "deep").symlink_to("via-dir-link/y/./z")
    got = found(pfs, inputs)
    assert set(got) == {
        "/abs",
        "/sub/rel",
        "/chain",
        "/hop",
        "/deep",
        "/via-dir-link/x",
        "/via-dir-link/y/z",
    }
    for path in ("/abs", "/sub/rel", "/chain", "/hop"):
        assert entry(got[path]) == refs_of(inputs, "in", "/a")
    assert entry(got["/deep"]) == refs_of(inputs, "dir", "/d/y/z")


def test_fallback_layout_links_are_host_paths(pfs: Path, inputs: tuple[DatumInput, ...]) -> None:
    (pfs / "out" / "x").symlink_to(pfs / "in" / "a")  # $LOXO_PFS/in/a
    assert entry(found(pfs, inputs, sandboxed=False)["/x"]) == refs_of(inputs, "in", "/a")


def test_link_to_an_input_directory_gives_its_files(
    pfs: Path, inputs: tuple[DatumInput, ...]
) -> None:
    (pfs / "out" / "tree").symlink_to("/pfs/dir/d")
    (pfs / "out" / "sub").symlink_to("/pfs/dir/d/y/")
    (pfs / "out" / "all").symlink_to("../dir")
    got = found(pfs, inputs)
    assert sorted(got) == ["/all/d/x", "/all/d/y/z", "/sub/z", "/tree/x", "/tree/y/z"]
    assert entry(got["/tree/x"]) == entry(got["/all/d/x"]) == refs_of(inputs, "dir", "/d/x")
    assert entry(got["/sub/z"]) == refs_of(inputs, "dir", "/d/y/z")


def test_large_linked_input_adds_no_object(
    d: Datums, pfs: Path, inputs: tuple[DatumInput, ...]
) -> None:
    (pfs / "out" / "copy-of-big").symlink_to("/pfs/big/big")
    (pfs / "out" / "small").write_bytes(b"written")
    before = {o.key for o in d.store.list(PACK_PREFIX)}
    files = collect(Layout(str(pfs), True), inputs)
    up = upload(d.store, files)
    after = {o.key for o in d.store.list(PACK_PREFIX)}
    assert len(after - before) == 1  # the small written file's pack, nothing for the big one
    assert (up.files, up.bytes) == (2, len(b"written"))
    out = d.output_of(up.root)
    assert out == {"/copy-of-big": BIG, "/small": b"written"}
    [big] = [f for f in files if f.path == "/copy-of-big"]
    assert entry(big) == refs_of(inputs, "big", "/big")


def test_only_links_upload_nothing(d: Datums, pfs: Path, inputs: tuple[DatumInput, ...]) -> None:
    for i in range(20):  # more than INLINE_FILES: a fileset node, but no content object
        (pfs / "out" / f"l{i:02}").symlink_to("/pfs/big/big")
    before = {o.key for o in d.store.list(PACK_PREFIX)}
    up = upload(d.store, collect(Layout(str(pfs), True), inputs))
    assert {o.key for o in d.store.list(PACK_PREFIX)} == before
    assert (up.files, up.bytes) == (20, 0)
    assert d.output_of(up.root)["/l07"] == BIG


def test_content_comes_from_the_inputs_refs_not_the_disk(
    d: Datums, pfs: Path, inputs: tuple[DatumInput, ...]
) -> None:
    (pfs / "in" / "a").write_bytes(b"changed on disk by user code")
    (pfs / "out" / "x").symlink_to("/pfs/in/a")
    (pfs / "out" / "e").symlink_to("/pfs/empty/e")  # an empty_files input: empty
    got = found(pfs, inputs)
    assert entry(got["/x"]) == refs_of(inputs, "in", "/a")
    assert entry(got["/e"]) == (0, EMPTY_HASH, ())
    assert d.output_of(upload(d.store, list(got.values())).root) == {"/x": b"A", "/e": b""}


# --- everything else: refused ---------------------------------------------------------------

OUTSIDE = "symlink /pfs/out/x points outside /pfs/out and the datum's inputs"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/etc/passwd", OUTSIDE + " (to /etc/passwd)"),
        ("/etc", OUTSIDE + " (to /etc)"),
        ("../../../../../../../../../etc/passwd", OUTSIDE + " (to /etc/passwd)"),
        ("TMP/host-file", OUTSIDE),
        ("TMP/other/pfs/in/a", OUTSIDE),  # another datum's scratch directory
        ("/pfs", OUTSIDE + " (to /pfs)"),
        ("..", OUTSIDE + " (to /pfs)"),
        ("/pfs/notaninput/f", OUTSIDE + " (to /pfs/notaninput/f)"),
        ("TMP/host-link", OUTSIDE + " (through the host's symlink"),
        ("/pfs/in/missing", "symlink /pfs/out/x is dangling"),
        ("/pfs/in/a/below-a-file", "symlink /pfs/out/x is dangling"),
        ("/pfs/in/added", "points to /pfs/in/added, which is not a file or directory of the"),
        ("/pfs/in/fifo", "points to /pfs/in/fifo, which is not a file or directory of the"),
        ("/pfs/dir/d/swapped/passwd", OUTSIDE + " (to /etc/passwd)"),
        ("/pfs/in/loop", "symlink /pfs/out/x has too many levels of links"),
        (".", "must point to a regular file inside /pfs/out, or to a file or directory"),
        ("outdir", "must point to a regular file inside /pfs/out"),
    ],
)
@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "fallback"])
def test_hostile_links_are_refused(
    pfs: Path,
    inputs: tuple[DatumInput, ...],
    tmp_path: Path,
    target: str,
    message: str,
    sandboxed: bool,
) -> None:
    (tmp_path / "host-file").write_text("host secret")
    (tmp_path / "host-link").symlink_to(pfs / "in" / "a")  # a host's link into the inputs
    other = tmp_path / "other" / "pfs" / "in"
    other.mkdir(parents=True)
    (other / "a").write_text("another datum's")
    (pfs / "notaninput").mkdir()
    (pfs / "notaninput" / "f").write_text("made by user code")
    (pfs / "in" / "added").write_text("made by user code")
    os.mkfifo(pfs / "in" / "fifo")
    (pfs / "dir" / "d" / "swapped").symlink_to("/etc")
    (pfs / "in" / "loop").symlink_to("loop2")
    (pfs / "in" / "loop2").symlink_to("/pfs/in/loop" if sandboxed else pfs / "in" / "loop")
    (pfs / "out" / "outdir").mkdir()
    (pfs / "out" / "outdir" / "f").write_text("f")
    target = target.replace("TMP", str(tmp_path))
    if not sandboxed and (target == "/pfs" or target.startswith("/pfs/")):
        target = str(pfs) + target[4:]  # as $LOXO_PFS names it
    (pfs / "out" / "x").symlink_to(target)
    with pytest.raises(OutputError) as e:
        collect(Layout(str(pfs), sandboxed), inputs)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_replaced_input_directory_leads_outside(
    pfs: Path, inputs: tuple[DatumInput, ...]
) -> None:
    """An input directory that user code replaced by a link to /etc: its "files" are the
    host's, and refused, even where a name matches an input file."""
    os.rename(pfs / "dir", pfs / "dir.moved")
    (pfs / "dir").symlink_to("/etc")
    (pfs / "out" / "x").symlink_to("/pfs/dir/passwd")
    with pytest.raises(OutputError, match=re.escape(OUTSIDE + " (to /etc/passwd)")):
        collect(Layout(str(pfs), True), inputs)
    (pfs / "out" / "x").unlink()
    (pfs / "out" / "x").symlink_to("/pfs/dir")
    with pytest.raises(OutputError, match=re.escape(OUTSIDE + " (to /etc)")):
        collect(Layout(str(pfs), True), inputs)


def test_links_into_another_datums_input_name_are_refused(
    d: Datums, pfs: Path, inputs: tuple[DatumInput, ...]
) -> None:
    """Only this datum's inputs count: the same tree collected for a datum without the
    input ``in`` refuses a link into it."""
    (pfs / "out" / "x").symlink_to("/pfs/in/a")
    with pytest.raises(OutputError, match=re.escape(OUTSIDE + " (to /pfs/in/a)")):
        collect(Layout(str(pfs), True), inputs[1:])
