"""Per-datum overhead: a trivial copy pipeline over 2,000 x 1 KiB files vs ``xargs -P 2``.

One datum per file (glob ``/*``), parallelism 2, local executor with warm workers. Timed:
the job only, i.e. ``client.drive()`` after the input commit is finished (the pipeline
exists already; ingest is reported apart). Variants:

- ``transform.cmd = ["sh", "-c", "cp /pfs/in/* /pfs/out/"]`` vs
  ``xargs -0 -P 2 -n 1 sh -c 'cp "$1" DST/' sh`` (goal: loxo <= 1.3x);
- ``transform.cmd = ["cp", "-r", "/pfs/in/.", "/pfs/out/"]`` (no shell) vs
  ``xargs -0 -P 2 -n 1 cp -r -t DST`` (goal <= 1.3x);

each with the bubblewrap sandbox (the default where ``bwrap`` works) and with
``LOXO_SANDBOX=0``; and ``transform.python`` (:func:`copy_datum`) vs
``ProcessPoolExecutor(2).map`` of the same file copy (:func:`copy_file`), goal <= 1.5x.
Informational rows: ``xargs`` running the same ``cp`` under loxo's bwrap arguments (the
sandbox's own floor), the first job of a client (worker start), and ingest.

Each loxo run is paired with a run of its baseline right beside it (baseline first in
even repeats, loxo first in odd ones), and a variant's ratio is the median of its pairs'
ratios: the machine's speed drifts by +-10% over minutes here, and a pair shares it.
Times are medians. Needs ``if __name__ == "__main__"``: local workers import this script
(and the Python transform lives here).

Run: ``python bench/pipeline_overhead.py [--quick] [--files 2000] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

from _harness import (
    Row,
    check_job,
    drop_nothing,
    env_var,
    parse_size,
    pipeline_doc,
    print_table,
    put_files,
    random_bytes,
    scratch,
    timed_drive,
)

import loxo

SH_COPY = ["sh", "-c", "cp /pfs/in/* /pfs/out/"]
CP_COPY = ["cp", "-r", "/pfs/in/.", "/pfs/out/"]
PYTHON_COPY = "pipeline_overhead:copy_datum"


def copy_file(src: str, out_dir: str) -> None:
    """The work of one datum: copy ``src`` into ``out_dir``."""
    shutil.copyfile(src, os.path.join(out_dir, os.path.basename(src)))


def copy_datum(datum: Any) -> None:
    """The Python transform: :func:`copy_file` for each input of the datum."""
    for path in datum.inputs.values():
        copy_file(str(path), str(datum.out))


def _noop(_: object) -> None:
    pass


# --- loxo ----------------------------------------------------------------------------------


@dataclass
class LoxoRun:
    drive: float
    ingest: float
    cold: float  # first job of the client: 2 x parallelism datums, workers starting
    stages: dict[str, float] = field(default_factory=dict)  # median per-datum seconds


def time_loxo(
    home: Path, files: list[tuple[str, bytes]], transform: dict[str, object], par: int
) -> LoxoRun:
    with loxo.Client(home) as c:
        for repo in ("warm", "in"):
            c.create_repo(repo)
            c.create_pipeline(pipeline_doc(f"p-{repo}", repo, transform, par))
        warm = files[: 2 * par]
        put_files(c, "warm@master", warm)
        cold = timed_drive(c)  # starts the workers
        check_job(c, "p-warm", len(warm), len(warm))
        ingest = put_files(c, "in@master", files)
        drop_nothing()
        drive = timed_drive(c)
        check_job(c, "p-in", len(files), len(files))
        datums = c.list_datum("p-in")
        stages = {
            "download": statistics.median(d.download_seconds for d in datums),
            "process": statistics.median(d.process_seconds for d in datums),
            "upload": statistics.median(d.upload_seconds for d in datums),
            "datum wall": statistics.median((d.finished or 0) - (d.started or 0) for d in datums),
        }
    return LoxoRun(drive, ingest, cold, stages)


# --- baselines -----------------------------------------------------------------------------


def time_xargs(paths: list[str], argv: list[str], par: int) -> float:
    """``xargs -0 -P par -n 1 argv...`` over ``paths`` (failing loudly)."""
    data = "\0".join(paths).encode()
    drop_nothing()
    t = time.perf_counter()
    proc = subprocess.run(
        ["xargs", "-0", "-P", str(par), "-n", "1", *argv], input=data, capture_output=True
    )
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"xargs {argv} failed: {proc.stderr.decode()[-2000:]}")
    return elapsed


def time_pool(paths: list[str], dst: str, par: int) -> float:
    """``ProcessPoolExecutor(par).map(copy_file, ...)`` with a warm pool."""
    with ProcessPoolExecutor(par) as pool:
        list(pool.map(_noop, range(4 * par)))  # start the workers
        drop_nothing()
        t = time.perf_counter()
        list(pool.map(copy_file, paths, repeat(dst)))
        return time.perf_counter() - t


def bwrap_argv(pfs: Path, src: Path) -> list[str]:
    """loxo's sandbox arguments (``pfs`` at ``/pfs``, ``src`` in sight) around
    ``cp -r -t /pfs/out``."""
    from loxo.execution.sandbox import Layout, needed_paths

    (pfs / "out").mkdir(parents=True, exist_ok=True)
    visible = (*needed_paths(os.getcwd(), sys.path), str(src))
    return Layout(str(pfs), True).wrap(["cp", "-r", "-t", "/pfs/out"], "/", (), visible)


# --- main ----------------------------------------------------------------------------------


@dataclass
class Variant:
    label: str
    transform: dict[str, object]
    sandbox: str | None  # LOXO_SANDBOX value; None = default
    baseline: str  # key of the baseline it is compared with
    goal: float
    runs: list[LoxoRun] = field(default_factory=list)
    base: list[float] = field(default_factory=list)  # its baseline, run beside each run

    def ratios(self) -> list[float]:
        """loxo / baseline of each pair of runs."""
        return [r.drive / b for r, b in zip(self.runs, self.base, strict=True)]


def _loxo_run(home: Path, files: list[tuple[str, bytes]], v: Variant, par: int) -> LoxoRun:
    with env_var("LOXO_SANDBOX", v.sandbox):
        return time_loxo(home, files, v.transform, par)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 files, 1 repeat")
    ap.add_argument("--files", type=int, default=None, help="number of files (default 2000)")
    ap.add_argument("--file-size", default="1K", help="bytes per file (default 1K)")
    ap.add_argument("--parallelism", type=int, default=2, help="pipeline and xargs -P (2)")
    ap.add_argument("--repeats", type=int, default=None, help="pairs of runs (default 5)")
    ap.add_argument("--only", default="", help="run only the variants whose label has this")
    args = ap.parse_args()
    n = args.files or (200 if args.quick else 2000)
    repeats = args.repeats or (1 if args.quick else 5)
    size, par = parse_size(args.file_size), args.parallelism
    blob = random_bytes("overhead", n * size)
    files = [(f"/f{i:06d}", blob[i * size : (i + 1) * size]) for i in range(n)]
    from loxo.execution.sandbox import probe

    sandbox_ok, why_not = probe()
    sb = "bwrap" if sandbox_ok else "default (no bwrap)"
    variants = [
        Variant(f"cmd sh -c cp, {sb}", {"cmd": SH_COPY}, None, "xargs sh -c cp", 1.3),
        Variant("cmd sh -c cp, LOXO_SANDBOX=0", {"cmd": SH_COPY}, "0", "xargs sh -c cp", 1.3),
        Variant(f"cmd cp -r, {sb}", {"cmd": CP_COPY}, None, "xargs cp", 1.3),
        Variant("cmd cp -r, LOXO_SANDBOX=0", {"cmd": CP_COPY}, "0", "xargs cp", 1.3),
        Variant("python copy", {"python": PYTHON_COPY}, None, "ProcessPoolExecutor", 1.5),
    ]
    variants = [v for v in variants if args.only in v.label]
    if not variants:
        raise SystemExit(f"no variant's label contains {args.only!r}")
    wanted = {v.baseline for v in variants}
    base: dict[str, list[float]] = {}
    with scratch("pipeline-overhead") as d:
        src = d / "src"
        src.mkdir()
        for path, data in files:
            (src / path[1:]).write_bytes(data)
        paths = sorted(str(p) for p in src.iterdir())
        bwrap = bwrap_argv(d / "bw-pfs", src) if sandbox_ok else None
        baselines: dict[str, Callable[[str], float]] = {
            "xargs sh -c cp": lambda dst: time_xargs(
                paths, ["sh", "-c", f'cp "$1" {dst}/', "sh"], par
            ),
            "xargs cp": lambda dst: time_xargs(paths, ["cp", "-r", "-t", dst], par),
            "ProcessPoolExecutor": lambda dst: time_pool(paths, dst, par),
        }
        if bwrap is not None:
            bw = bwrap  # the argv already names its destination
            baselines["xargs bwrap cp"] = lambda dst: time_xargs(paths, bw, par)
        k = 0
        for r in range(repeats):
            # each variant next to its own baseline run, in alternating order, so that
            # the machine's drift (seconds to minutes) falls on both sides of a pair
            if r == 0 and bwrap is not None and "xargs cp" in wanted:  # the floor, once
                base.setdefault("xargs bwrap cp", []).append(baselines["xargs bwrap cp"](""))
            for v in variants:
                dst = d / f"dst-{k}"
                dst.mkdir()
                k += 1
                first_loxo = r % 2 == 1
                if first_loxo:
                    v.runs.append(_loxo_run(d / f"home-{k}", files, v, par))
                v.base.append(baselines[v.baseline](str(dst)))
                if not first_loxo:
                    v.runs.append(_loxo_run(d / f"home-{k}", files, v, par))
                base.setdefault(v.baseline, []).append(v.base[-1])
            print(f"  repeat {r + 1}/{repeats} done", file=sys.stderr, flush=True)

    med = statistics.median
    rows: list[Row] = []
    notes = [
        f"{n:,} files of {size} B, glob /*, parallelism {par}, local executor (warm "
        f"workers), {os.cpu_count()} CPUs; {repeats} pairs of runs (loxo beside its "
        "baseline); ratio = median of the pairs' ratios",
        "timed: client.drive() after the input commit finished (the job only)",
    ]
    if not sandbox_ok:
        notes.append(f"bubblewrap sandbox unusable ({why_not}): default = rewritten paths")
    for v in variants:
        lx, bl = med(r.drive for r in v.runs), med(v.base)
        ratio = med(v.ratios())  # of pairs: the machine's drift cancels within a pair
        rows.append(
            Row(f"{v.label}: job vs {v.baseline}", lx, bl, "s", ratio, f"<= {v.goal}x",
                ratio <= v.goal)
        )  # fmt: skip
    if "xargs bwrap cp" in base:
        bw_s, cp_s = med(base["xargs bwrap cp"]), med(base["xargs cp"])
        rows.append(Row("sandbox floor: xargs bwrap cp vs xargs cp", bw_s, cp_s, "s", bw_s / cp_s))
    for v in variants:
        per = 1e3 * med(r.drive for r in v.runs) / n
        st = {k: 1e3 * med(r.stages[k] for r in v.runs) for k in v.runs[0].stages}
        notes.append(
            f"{v.label}: {per:.2f} ms/datum of job wall; per datum (median ms): "
            + ", ".join(f"{k} {x:.2f}" for k, x in st.items())
        )
        notes.append(f"{v.label}: pair ratios " + ", ".join(f"{x:.2f}" for x in v.ratios()))
    for name, xs in base.items():
        notes.append(f"{name}: {1e3 * med(xs) / n:.2f} ms/file; runs (s): "
                     + ", ".join(f"{x:.2f}" for x in xs))  # fmt: skip
    all_runs = [r for v in variants for r in v.runs]
    ingest = med(r.ingest for r in all_runs)
    rows.append(Row(f"ingest {n:,} files (one modify_file)", ingest, None, "s"))
    rows.append(Row(f"first job of a client ({2 * par} datums, workers start)",
                    med(r.cold for r in all_runs), None, "s"))  # fmt: skip
    return print_table("pipeline_overhead: trivial copy pipeline vs xargs / process pool",
                       rows, notes)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
