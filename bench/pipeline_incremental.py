"""Incremental jobs: one changed file among 10,000 runs one datum; skipping is cheap.

1. **One change.** A 10,000-file input (glob ``/*``), the trivial copy command
   ``sh -c 'cp /pfs/in/* /pfs/out/'``, local executor at parallelism 2 (sandbox as the
   machine's default). The first job runs every datum; then one file changes, several
   times in a row: each of those jobs must run exactly 1 datum and skip the rest (checked
   from the job's counts) and take <= 2% of the first job's wall time (median).
2. **Skip cost.** 100,000 one-byte files put in one ``modify_file`` session
   (``put_file(path, bytes)``, nothing on disk), a base job over all of them (a Python
   transform copying its file, local executor, parallelism 2, not timed against a goal),
   then one more file: the job over 100,000 unchanged datums plus the new one is timed
   (``client.drive()``) and divided by the skipped datums. Goal: <= 20 us per skipped
   datum. It includes running the one new datum on a warm worker (a few ms), so it
   slightly overstates the engine's per-skip cost.

Jobs are timed as ``client.drive()`` after the input commit is finished. ``--profile
FILE`` writes a cProfile of the skip-cost job's drive (``python -m pstats FILE``).

Run: ``python bench/pipeline_incremental.py [--quick] [--files 10000] [--skip-files 100000]``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _harness import (
    Row,
    check_job,
    pipeline_doc,
    print_table,
    put_files,
    random_bytes,
    scratch,
    timed_drive,
)

import loxo

COPY = {"cmd": ["sh", "-c", "cp /pfs/in/* /pfs/out/"]}
PYTHON_COPY = {"python": "pipeline_incremental:copy_datum"}


def copy_datum(datum: Any) -> None:
    """The skip-cost base job's transform: copy each input file to the output."""
    for path in datum.inputs.values():
        shutil.copyfile(path, datum.out / path.name)


def one_change(home: Path, n: int, changes: int, par: int) -> tuple[float, list[float], float]:
    """(first job, jobs after one change each, ingest) wall times in seconds."""
    blob = random_bytes("incremental", n * 1024)
    with loxo.Client(home) as c:
        c.create_repo("in")
        c.create_pipeline(pipeline_doc("copy", "in", COPY, par))
        ingest = put_files(c, "in@master", ((f"/f{i:06d}", blob[i * 1024 : (i + 1) * 1024])
                                            for i in range(n)))  # fmt: skip
        first = timed_drive(c)
        check_job(c, "copy", n, n)
        again: list[float] = []
        for k in range(changes):
            put_files(c, "in@master", [(f"/f{(k * 7919) % n:06d}", f"change {k}".encode())])
            again.append(timed_drive(c))
            check_job(c, "copy", n, 1, n - 1)
    return first, again, ingest


def skip_cost(
    home: Path, n: int, par: int, profile: str | None
) -> tuple[float, float, float, float]:
    """(skip job, base job, ingest, one-datum job) wall times in seconds."""
    with loxo.Client(home) as c:
        c.create_repo("in")
        c.create_repo("one")
        c.create_pipeline(pipeline_doc("copy", "in", PYTHON_COPY, par))
        c.create_pipeline(pipeline_doc("single", "one", PYTHON_COPY, par))
        ingest = put_files(c, "in@master", ((f"/f{i:07d}", b"%d" % (i % 10)) for i in range(n)))
        base = timed_drive(c)
        check_job(c, "copy", n, n)
        # the same warm workers running one datum alone: what the skip job spends on it
        put_files(c, "one@master", [("/x", b"1")])
        single = timed_drive(c)
        check_job(c, "single", 1, 1)
        put_files(c, "in@master", [("/new", b"new")])
        prof = cProfile.Profile() if profile else None
        t = time.perf_counter()
        if prof is not None:
            prof.runcall(c.drive)
        else:
            c.drive()
        skip = time.perf_counter() - t
        if prof is not None and profile:
            prof.dump_stats(profile)
        check_job(c, "copy", n + 1, 1, n)
    return skip, base, ingest, single


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 and 10,000 files")
    ap.add_argument("--files", type=int, default=None, help="one-change input (10000)")
    ap.add_argument("--changes", type=int, default=5, help="one-file changes timed (5)")
    ap.add_argument("--skip-files", type=int, default=None, help="skip-cost input (100000)")
    ap.add_argument("--parallelism", type=int, default=2, help="pipelines' parallelism (2)")
    ap.add_argument("--profile", default=None, help="write a cProfile of the skip job here")
    ap.add_argument("--only", choices=("change", "skip"), default=None, help="run one part")
    args = ap.parse_args()
    n = args.files or (1_000 if args.quick else 10_000)
    m = args.skip_files or (10_000 if args.quick else 100_000)
    par = args.parallelism
    rows: list[Row] = []
    sandbox = os.environ.get("LOXO_SANDBOX") or "default"
    notes = [
        f"local executor, parallelism {par}, {os.cpu_count()} CPUs; LOXO_SANDBOX={sandbox}",
        "jobs timed as client.drive() after the input commit finished",
    ]
    with scratch("pipeline-incremental") as d:
        if args.only != "skip":
            first, again, ingest = one_change(d / "change", n, args.changes, par)
            second = statistics.median(again)
            ratio = second / first
            rows.append(Row(f"first job, {n:,} datums (sh -c cp)", first, None, "s"))
            rows.append(
                Row("job after a 1-file change (1 datum run)", second, first, "s", ratio,
                    "<= 0.02x", ratio <= 0.02)
            )  # fmt: skip
            notes.append(f"ingest of {n:,} x 1 KiB files: {ingest:.2f} s")
            notes.append("1-change job walls (s): " + ", ".join(f"{x:.3f}" for x in again))
            print(f"  one-change part done ({first:.1f} s first job)", file=sys.stderr)
        if args.only != "change":
            skip, base, ingest, single = skip_cost(d / "skip", m, par, args.profile)
            per = skip / m
            rows.append(Row(f"base job, {m:,} datums (python copy)", base, None, "s"))
            rows.append(
                Row(f"skip job: {m:,} skipped + 1 run, per skipped datum", per * 1e6, 20.0,
                    "us", per * 1e6 / 20.0, "<= 20 us", per * 1e6 <= 20.0)
            )  # fmt: skip
            rows.append(Row(f"skip job wall ({m + 1:,} datums)", skip, None, "s"))
            rows.append(Row("a 1-datum job alone (same workers)", single, None, "s"))
            notes.append(f"ingest of {m:,} files in one modify_file: {ingest:.2f} s")
            notes.append("skip-cost baseline column: the 20 us goal itself")
            if args.profile:
                notes.append(f"cProfile of the skip job's drive(): {args.profile}")
    return print_table("pipeline_incremental: one change, and the cost of skipping", rows, notes)


if __name__ == "__main__":
    sys.exit(main())
