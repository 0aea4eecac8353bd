"""``gc`` and ``fsck`` through the real ``loxo`` command."""

from __future__ import annotations

import yaml

from .conftest import Loxo


def test_gc_and_fsck_report_and_fail_on_corruption(loxo: Loxo) -> None:
    loxo("create", "repo", "data")
    loxo("put", "file", "data@master:/a", input="some content")
    report = loxo.json("gc")
    assert set(report) == {"objects_deleted", "bytes_freed", "objects_kept", "chunks_forgotten"}
    assert "Objects kept:" in loxo("gc").out
    assert loxo("fsck").out.startswith("ok: ")

    packs = [p for p in (loxo.home / "objects").rglob("*") if p.is_file() and "packs" in p.parts]
    assert packs, "expected packed chunks under the home's object store"
    for p in packs:
        data = bytearray(p.read_bytes())
        data[-1] ^= 0xFF
        p.write_bytes(bytes(data))

    r = loxo.run("fsck")
    assert r.code == 1 and "Traceback" not in r.stderr
    assert r.lines[0].split() == ["PROBLEM", "OBJECT", "DETAIL"]
    assert all(line.startswith("corrupted") for line in r.lines[1:]) and len(r.lines) > 1
    r = loxo.run("fsck", "-o", "yaml")
    assert r.code == 1 and yaml.safe_load(r.out)["problems"][0]["problem"] == "corrupted"
    assert "corrupted" in loxo.fails("get", "file", "data@master:/a", code=7)
