"""Memory: peak RSS of ``loxo put file`` and ``loxo get file -o`` of a 4 GiB file.

The file is random data written in 64 MiB blocks, each block different, so every chunk is
new and the whole file flows through the writer. Each command runs as a CLI subprocess and
its peak RSS comes from ``wait4``'s rusage (goal: <= 300 MiB each). Baselines: ``cp`` of the
same file, and a bare ``python -c 'import loxo.cli.main'`` (the interpreter's own floor).
The file read back is checked byte for byte against the original (by BLAKE3).

Run: ``python bench/rss.py [--quick] [--size 4G]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import blake3
from _harness import (
    MiB,
    Row,
    cli_label,
    loxo_argv,
    parse_size,
    print_table,
    run_peak_rss,
    scratch,
    write_random_file,
)

from loxo.pfs.api import PFS

GOAL = 300 * MiB


def file_hash(path: Path) -> str:
    h = blake3.blake3()
    with open(path, "rb") as f:
        while block := f.read(16 * MiB):
            h.update(block)
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 256 MiB file")
    ap.add_argument("--size", default=None, help="file size (default 4G)")
    args = ap.parse_args()
    size = parse_size(args.size or ("256M" if args.quick else "4G"))
    rows: list[Row] = []
    notes = [f"loxo run via {cli_label()}", f"file: {size / MiB:,.0f} MiB of random data"]

    with scratch("rss") as d:
        src, home = d / "big.bin", d / "home"
        write_random_file(src, size, "rss")
        pfs = PFS.open(home)
        try:
            pfs.create_repo("r")
        finally:
            pfs.close()

        _, floor = run_peak_rss([sys.executable, "-c", "import loxo.cli.main"])
        cp_s, cp_rss = run_peak_rss(["cp", str(src), str(d / "copy.bin")])
        (d / "copy.bin").unlink()
        put_s, put_rss = run_peak_rss(
            loxo_argv(home, "put", "file", "r@master:/big.bin", "-f", str(src))
        )
        out = d / "out.bin"
        get_s, get_rss = run_peak_rss(
            loxo_argv(home, "get", "file", "r@master:/big.bin", "-o", str(out))
        )
        same = out.stat().st_size == size and file_hash(out) == file_hash(src)

        for label, rss in (("peak RSS, put file", put_rss), ("peak RSS, get file -o", get_rss)):
            rows.append(
                Row(label, rss / MiB, cp_rss / MiB, "MiB", rss / cp_rss, "<= 300 MiB", rss <= GOAL)
            )
        rows.append(Row("peak RSS, python + import loxo.cli", floor / MiB, None, "MiB"))
        rows.append(Row("put file wall time (vs cp)", put_s, cp_s, "s", put_s / cp_s))
        rows.append(Row("get file wall time (vs cp)", get_s, cp_s, "s", get_s / cp_s))
        rows.append(Row("get output identical", float(same), 1.0, "", None, "1", same))

    return print_table("rss: peak memory of put/get of one big file", rows, notes)


if __name__ == "__main__":
    sys.exit(main())
