"""Small-file ingest: ``put file -r`` of 100,000 x 1 KiB files in 100 directories vs ``cp -r``.

Times ``loxo put file -r repo@master:/ -f DIR`` (CLI subprocess) and the in-process API,
interleaved with ``cp -r DIR`` on the same disk, caches warm (goal: loxo >= 1x cp), then
counts the objects the put left in the store: a handful of packs plus the fileset's nodes,
not one object per file.

Run: ``python bench/put_small.py [--quick] [--files 100000] [--dirs 100] [--file-size 1K]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _harness import (
    MiB,
    Row,
    cli_label,
    count_objects,
    drop_nothing,
    loxo_argv,
    parse_size,
    print_table,
    random_bytes,
    run,
    scratch,
)

from loxo.pfs.api import PFS


def make_tree(src: Path, files: int, dirs: int, size: int) -> None:
    data = random_bytes("small", files * size)
    per_dir = -(-files // dirs)
    for d in range(dirs):
        sub = src / f"d{d:03d}"
        sub.mkdir(parents=True)
        for i in range(d * per_dir, min(files, (d + 1) * per_dir)):
            (sub / f"f{i:06d}.bin").write_bytes(data[i * size : (i + 1) * size])


def create_repo(home: Path, name: str) -> None:
    pfs = PFS.open(home)
    try:
        pfs.create_repo(name)
    finally:
        pfs.close()


def time_cp(src: Path, dst: Path) -> float:
    drop_nothing()
    t = time.perf_counter()
    subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    elapsed = time.perf_counter() - t
    return elapsed


def time_cli(home: Path, src: Path) -> float:
    create_repo(home, "a")
    drop_nothing()
    return run(loxo_argv(home, "put", "file", "-r", "a@master:/", "-f", str(src)))


def time_api(home: Path, src: Path) -> float:
    create_repo(home, "a")
    drop_nothing()
    pfs = PFS.open(home)
    try:
        t = time.perf_counter()
        with pfs.modify_file("a@master") as mf:
            mf.put_dir("/", src)
        return time.perf_counter() - t
    finally:
        pfs.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000 files in 10 directories")
    ap.add_argument("--files", type=int, default=None, help="number of files (default 100000)")
    ap.add_argument("--dirs", type=int, default=None, help="number of directories (default 100)")
    ap.add_argument("--file-size", default="1K", help="bytes per file (default 1K)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved timing runs (median)")
    args = ap.parse_args()
    files = args.files or (5_000 if args.quick else 100_000)
    dirs = args.dirs or (10 if args.quick else 100)
    size = parse_size(args.file_size)
    rows: list[Row] = []
    notes = [f"loxo timed via {cli_label()}", f"tree: {files:,} files of {size} B in {dirs} dirs"]

    with scratch("put-small") as d:
        src = d / "src"
        make_tree(src, files, dirs, size)
        cp: list[float] = []
        cli: list[float] = []
        api: list[float] = []
        # Nothing is deleted between runs: on this kind of disk (ext4, discard) removing
        # 100,000 files slows the next file creations several-fold for a while.
        for i in range(args.repeats):
            cp.append(time_cp(src, d / f"cp-dst-{i}"))
            cli.append(time_cli(d / f"home-cli-{i}", src))
            api.append(time_api(d / f"home-api-{i}", src))
        med = statistics.median
        cp_s, cli_s, api_s = med(cp), med(cli), med(api)
        for label, s in (("put -r files/s (CLI)", cli_s), ("put -r files/s (API)", api_s)):
            rows.append(Row(label, files / s, files / cp_s, "", cp_s / s, ">= 1x", cp_s >= s))
        rows.append(Row("put -r wall time (CLI)", cli_s, cp_s, "s", cli_s / cp_s))
        for label, xs in (("cp -r", cp), ("CLI", cli), ("API", api)):
            notes.append(f"{label} runs (s): " + ", ".join(f"{x:.2f}" for x in xs))

        objects = d / "home-cli-0" / "objects"
        packs = count_objects(objects / "packs")
        nodes = count_objects(objects / "filesets")
        total = count_objects(objects)
        handful = -(-files * size // (16 * MiB)) + 2  # one pack per 16 MiB batch, + slack
        rows.append(Row("pack objects", packs, files, "", None, f"<= {handful}", packs <= handful))
        rows.append(Row("fileset node objects", nodes, files, "", nodes / files))
        ok = total < files / 100
        rows.append(Row("all objects", total, files, "", total / files, "< 1% of files", ok))

    return print_table("put_small: put file -r of many small files vs cp -r", rows, notes)


if __name__ == "__main__":
    sys.exit(main())
