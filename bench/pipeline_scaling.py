"""Parallel scaling: 64 datums that each ``sleep 0.25`` at parallelism 1, 2, 4, 8 and 16.

Local executor, one client for the whole run (so its worker pool stays warm: a first job
at the highest parallelism starts the workers, reported apart). For each parallelism N a
fresh pipeline over the same 64-file input commit is created and its job timed
(``client.drive()``); the baseline is the parallelism-1 job of the same repeat. Goal:
speedup >= 0.9 x N. Sleeping datums need no CPU, so the goal holds on any machine whose
executor really runs N datums at once; the number of workers the executor started and
how many datums overlapped at most (from the datums' start/finish times) are printed too.

Run: ``python bench/pipeline_scaling.py [--quick] [--datums 64] [--sleep 0.25]
[--parallelism 1,2,4,8,16] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys

from _harness import Row, check_job, pipeline_doc, print_table, put_files, scratch, timed_drive

import loxo


def max_overlap(spans: list[tuple[float, float]]) -> int:
    """The largest number of ``(start, finish)`` spans open at one instant."""
    events = sorted([(s, 1) for s, _ in spans] + [(f, -1) for _, f in spans])
    return max(itertools.accumulate(e for _, e in events), default=0)


def worker_count(client: loxo.Client) -> int:
    executor = client.service.executor()
    pids = getattr(executor, "worker_pids", None)
    return len(pids()) if pids is not None else -1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="16 datums of 0.1 s, 1 repeat")
    ap.add_argument("--datums", type=int, default=None, help="number of datums (default 64)")
    ap.add_argument("--sleep", type=float, default=None, help="seconds per datum (0.25)")
    ap.add_argument("--parallelism", default="1,2,4,8,16", help="comma-separated levels")
    ap.add_argument("--repeats", type=int, default=None, help="runs per level (default 3)")
    args = ap.parse_args()
    n = args.datums or (16 if args.quick else 64)
    sleep = args.sleep or (0.1 if args.quick else 0.25)
    repeats = args.repeats or (1 if args.quick else 3)
    levels = sorted({int(x) for x in args.parallelism.split(",")} | {1})
    transform = {"cmd": ["sleep", f"{sleep:g}"]}
    times: dict[int, list[float]] = {p: [] for p in levels}
    overlap: dict[int, int] = {}
    with scratch("pipeline-scaling") as d, loxo.Client(d / "home") as c:
        c.create_repo("in")
        put_files(c, "in@master", ((f"/f{i:04d}", b"x") for i in range(n)))
        top = max(levels)
        c.create_pipeline(pipeline_doc("warm", "in", transform, top))
        cold = timed_drive(c)  # starts up to `top` workers
        check_job(c, "warm", n, n)
        workers = worker_count(c)
        for r, p in itertools.product(range(repeats), levels):
            name = f"p{p}-r{r}"
            c.create_pipeline(pipeline_doc(name, "in", transform, p))
            times[p].append(timed_drive(c))
            check_job(c, name, n, n)
            spans = [(x.started or 0.0, x.finished or 0.0) for x in c.list_datum(name)]
            overlap[p] = max(overlap.get(p, 0), max_overlap(spans))
        workers_after = worker_count(c)

    med = statistics.median
    serial = med(times[1])
    rows: list[Row] = [Row("parallelism 1: job wall", serial, n * sleep, "s", serial / (n * sleep))]
    for p in levels[1:]:
        t = med(times[p])
        speedup = serial / t
        rows.append(
            Row(f"parallelism {p}: speedup vs parallelism 1", speedup, p, "x", speedup / p,
                f">= {0.9 * p:g}x", speedup >= 0.9 * p)
        )  # fmt: skip
    rows.append(Row(f"first job at parallelism {top} (workers start)", cold, None, "s"))
    notes = [
        f"{n} datums of `sleep {sleep:g}`, local executor, {os.cpu_count()} CPUs; medians "
        f"of {repeats} runs per level; baseline = the parallelism-1 job (ideal {n * sleep:g} s)",
        f"workers running: {workers} after the first job, {workers_after} at the end",
        "most datums running at once: " + ", ".join(f"P{p}: {overlap[p]}" for p in levels),
    ]
    for p in levels:
        notes.append(f"parallelism {p} job walls (s): " + ", ".join(f"{x:.2f}" for x in times[p]))
    return print_table("pipeline_scaling: sleeping datums at growing parallelism", rows, notes)


if __name__ == "__main__":
    sys.exit(main())
