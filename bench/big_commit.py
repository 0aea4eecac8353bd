"""Big commits: 1,000,000 tiny files in one commit; one changed file on top; listings.

1. One ``modify_file`` session writes 1,000,000 files of 16 bytes (10,000 directories of
   100 files) with ``put_file(path, bytes)``, generated in-process (nothing on disk): the
   baseline, timed in two parts (the ``put_file`` calls, then ``close`` = the commit).
2. One changed file committed on top (goal: <= 1% of the first commit's time), and the
   number of objects it added to the store.
3. ``list_file`` of one 100-file directory vs listing the whole commit with
   ``walk_files`` and ``glob_file(ref, "**")`` (goal: >= 100x faster), each on a fresh
   store handle (node cache cold, OS page cache warm).

Run: ``python bench/big_commit.py [--quick] [--files 1000000] [--per-dir 100] [--no-glob]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import Row, count_objects, print_table, scratch

from loxo.pfs.api import PFS

FILE_BYTES = 16


def path_of(i: int, per_dir: int) -> str:
    return f"/d{i // per_dir:05d}/f{i:07d}.txt"


def content_of(i: int, version: int = 0) -> bytes:
    return f"{version:02d}:{i:013d}".encode()  # 16 bytes, every file different


def timed_call(home: Path, fn: Callable[[PFS], Any], repeats: int) -> tuple[float, Any]:
    """Median time of ``fn`` over ``repeats`` fresh store handles; its last result."""
    times: list[float] = []
    out: Any = None
    for _ in range(repeats):
        pfs = PFS.open(home)
        try:
            t = time.perf_counter()
            out = fn(pfs)
            times.append(time.perf_counter() - t)
        finally:
            pfs.close()
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 files")
    ap.add_argument("--files", type=int, default=None, help="files in the commit (1000000)")
    ap.add_argument("--per-dir", type=int, default=100, help="files per directory (100)")
    ap.add_argument("--no-glob", action="store_true", help="skip the glob_file('**') listing")
    args = ap.parse_args()
    n = args.files or (20_000 if args.quick else 1_000_000)
    per_dir = args.per_dir
    rows: list[Row] = []
    notes = [f"{n:,} files of {FILE_BYTES} B in {-(-n // per_dir):,} directories"]

    with scratch("big-commit") as d:
        home = d / "home"
        pfs = PFS.open(home)
        try:
            pfs.create_repo("big")
            # 1. the big commit
            t0 = time.perf_counter()
            mf = pfs.modify_file("big@master")
            with mf:
                for i in range(n):
                    mf.put_file(path_of(i, per_dir), content_of(i))
                t1 = time.perf_counter()
            t2 = time.perf_counter()
            big_s = t2 - t0
            notes.append(
                f"big commit: put_file calls {t1 - t0:.1f} s, close (commit) {t2 - t1:.1f} s"
            )

            # 2. one changed file on top
            objects = home / "objects"
            before = count_objects(objects)
            t = time.perf_counter()
            with pfs.modify_file("big@master") as mf:
                mf.put_file(path_of(n // 2, per_dir), content_of(n // 2, version=1))
            one_s = time.perf_counter() - t
            added = count_objects(objects) - before
            assert mf.commit is not None
            info = pfs.inspect_commit(f"big@{mf.commit.id}")
            assert info.file_count == n, info.file_count
        finally:
            pfs.close()
        rows.append(Row("commit time, 1M files (baseline)", big_s, None, "s"))
        rows.append(
            Row(
                "commit time, 1 changed file",
                one_s,
                big_s,
                "s",
                one_s / big_s,
                "<= 0.01x",
                one_s <= 0.01 * big_s,
            )
        )
        rows.append(Row("objects added by the 1-file commit", added, None, ""))

        # 3. listings
        ref = "big@master"
        some_dir = path_of(n // 2, per_dir).rsplit("/", 1)[0]
        ls_s, listed = timed_call(home, lambda p: p.list_file(ref, some_dir), 5)
        assert len(listed) == min(per_dir, n), len(listed)
        walk_s, walked = timed_call(home, lambda p: sum(1 for _ in p.walk_files(ref)), 1)
        assert walked == n, walked
        rows.append(
            Row(
                "list_file one dir vs walk_files all",
                ls_s,
                walk_s,
                "s",
                walk_s / ls_s,
                ">= 100x",
                walk_s >= 100 * ls_s,
            )
        )
        if not args.no_glob:
            glob_s, globbed = timed_call(home, lambda p: len(p.glob_file(ref, "**")), 1)
            rows.append(
                Row(
                    "list_file one dir vs glob_file '**'",
                    ls_s,
                    glob_s,
                    "s",
                    glob_s / ls_s,
                    ">= 100x",
                    glob_s >= 100 * ls_s,
                )
            )
            notes.append(f"glob_file('**') returned {globbed:,} entries")
        notes.append(f"list_file({some_dir!r}) returned {len(listed)} entries (median of 5)")

    return print_table("big_commit: 1M-file commit, 1-file commit, listings", rows, notes)


if __name__ == "__main__":
    sys.exit(main())
