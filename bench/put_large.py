"""Large-file ingest: ``put file -r`` of 1 GiB (16 x 64 MiB random) vs ``cp -r``; dedup.

1. ``loxo put file -r repo@master:/ -f DIR`` (CLI subprocess) and the same through the
   in-process API into a fresh store, vs ``cp -r DIR`` on the same disk; caches warm for
   both (goal: loxo throughput >= 0.5x cp's).
2. The same tree again into a second repo of the CLI's store: the objects directory grows
   by < 1%.
3. One 1 GiB file put, 1 MiB overwritten at 512 MiB, put again: growth < 3 average chunks.

Run: ``python bench/put_large.py [--quick] [--size 1G] [--files 16]``.
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
    disk_usage,
    drop_nothing,
    loxo_argv,
    parse_size,
    print_table,
    random_bytes,
    run,
    scratch,
    write_random_file,
)

from loxo.pfs.api import PFS
from loxo.storage.chunking import AVG_SIZE


def make_tree(src: Path, total: int, files: int) -> None:
    each = total // files
    for i in range(files):
        write_random_file(src / f"f{i:02d}.bin", each, f"large/{i}")


def create_repos(home: Path, *names: str) -> None:
    pfs = PFS.open(home)
    try:
        for n in names:
            pfs.create_repo(n)
    finally:
        pfs.close()


def time_cp(src: Path, dst: Path) -> tuple[float, float]:
    """``cp -r`` wall time, and that plus the ``sync`` making it durable (loxo fsyncs)."""
    drop_nothing()
    t = time.perf_counter()
    subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    cp_s = time.perf_counter() - t
    drop_nothing()
    synced_s = time.perf_counter() - t
    return cp_s, synced_s


def time_cli_put(home: Path, src: Path) -> float:
    create_repos(home, "a")
    drop_nothing()
    return run(loxo_argv(home, "put", "file", "-r", "a@master:/", "-f", str(src)))


def time_api_put(home: Path, src: Path) -> float:
    create_repos(home, "a")
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
    ap.add_argument("--quick", action="store_true", help="64 MiB in 4 files; 128 MiB edit test")
    ap.add_argument("--size", default=None, help="total bytes of the tree (default 1G)")
    ap.add_argument("--files", type=int, default=None, help="files in the tree (default 16)")
    ap.add_argument("--big", default=None, help="size of the edited file (default 1G)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved timing runs (median)")
    args = ap.parse_args()
    total = parse_size(args.size or ("64M" if args.quick else "1G"))
    files = args.files or (4 if args.quick else 16)
    big = parse_size(args.big or ("128M" if args.quick else "1G"))
    rows: list[Row] = []
    notes = [f"loxo timed via {cli_label()}", f"tree: {files} files, {total / MiB:.0f} MiB"]

    with scratch("put-large") as d:
        src = d / "src"
        make_tree(src, total, files)

        # 1. throughput vs cp -r (both warm: the tree was just written). The VM's page
        # cache speed swings run to run, so the runs are interleaved and medians compared;
        # nothing is deleted until the end (freeing blocks on a discard mount slows writes).
        cp: list[float] = []
        cp_sync: list[float] = []
        cli: list[float] = []
        api: list[float] = []
        for i in range(args.repeats):
            c, cs = time_cp(src, d / f"cp-dst-{i}")
            cp.append(c)
            cp_sync.append(cs)
            cli.append(time_cli_put(d / f"home-cli-{i}", src))
            api.append(time_api_put(d / f"home-api-{i}", src))
        home = d / "home-cli-0"
        med = statistics.median
        cp_s, cps_s, cli_s, api_s = med(cp), med(cp_sync), med(cli), med(api)
        mbps = total / 1e6
        for label, s, base in (
            ("put -r throughput (CLI) vs cp", cli_s, cp_s),
            ("put -r throughput (API) vs cp", api_s, cp_s),
            ("put -r throughput (CLI) vs cp+sync", cli_s, cps_s),
        ):
            rows.append(
                Row(label, mbps / s, mbps / base, "MB/s", base / s, ">= 0.5x", base / s >= 0.5)
            )
        rows.append(Row("put -r wall time (CLI)", cli_s, cp_s, "s", cli_s / cp_s, "-", None))
        for label, xs in (("cp -r", cp), ("cp -r+sync", cp_sync), ("CLI", cli), ("API", api)):
            notes.append(f"{label} runs (s): " + ", ".join(f"{x:.2f}" for x in xs))

        # 2. the same tree again, to a second repo: only metadata is new
        create_repos(home, "b")
        objects = home / "objects"
        before = disk_usage(objects)
        again_s = run(loxo_argv(home, "put", "file", "-r", "b@master:/", "-f", str(src)))
        growth = disk_usage(objects) - before
        rows.append(
            Row(
                "re-put growth (% of store)",
                100 * growth / before,
                None,
                "%",
                None,
                "< 1%",
                growth < 0.01 * before,
            )
        )
        rows.append(
            Row("re-put throughput (dedup)", mbps / again_s, mbps / cp_s, "MB/s", cp_s / again_s)
        )
        notes.append(f"re-put grew objects/ by {growth / 1024:.0f} KiB of {before / MiB:.0f} MiB")

        # 3. 1 MiB changed in the middle of one big file
        bighome, bigfile = d / "home-big", d / "big.bin"
        write_random_file(bigfile, big, "big")
        create_repos(bighome, "c")
        run(loxo_argv(bighome, "put", "file", "c@master:/big.bin", "-f", str(bigfile)))
        with open(bigfile, "r+b") as f:
            f.seek(big // 2)
            f.write(random_bytes("edit", MiB))
        before = disk_usage(bighome / "objects")
        run(loxo_argv(bighome, "put", "file", "c@master:/big.bin", "-f", str(bigfile)))
        growth = disk_usage(bighome / "objects") - before
        rows.append(
            Row(
                "1 MiB edit growth (vs bytes changed)",
                growth / MiB,
                1.0,
                "MiB",
                growth / MiB,
                f"< {3 * AVG_SIZE / MiB:.0f} MiB",
                growth < 3 * AVG_SIZE,
            )
        )
        notes.append(f"edit: {big / MiB:.0f} MiB file, 1 MiB overwritten at {big // 2 // MiB} MiB")

    return print_table("put_large: put file -r vs cp -r", rows, notes)


if __name__ == "__main__":
    sys.exit(main())
