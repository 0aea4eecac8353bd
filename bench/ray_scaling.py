"""Scaling on Ray: 64 datums sleeping 0.25 s at parallelism 1..16 on a two-node Ray cluster.

Starts a real two-node cluster on loopback (:mod:`tests.raycluster`, 8 logical CPUs per
node so that 16 sets can run at once) and drives the Ray executor directly, with the
datum sets the job driver makes by default (``parallelism x 4`` sets). Each datum is a
command (``sleep 0.25``) over one small input file in a local store, under the same
sandbox a pipeline gets. Two figures:

- **speedup**: time at parallelism 1 / time at parallelism N (goal: >= 0.85 x N);
- **per-datum overhead** with the default datum sets at parallelism 1, Ray vs the local
  executor measured in the same run on the same datums (goal: <= 2x): a datum's wall
  time minus its 0.25 s of sleep, and the same for a no-op command (``true``), where all
  of a datum's time is overhead.

Every timed run follows a warm-up run, so both executors have their workers started. The
same speedups are measured for a Python transform (``time.sleep`` in a warm worker) and,
for reference, for the local executor on this same machine.

Run: ``python bench/ray_scaling.py [--quick] [--datums 64] [--sleep 0.25] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import Row, print_table, scratch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.raycluster and tests.execution.builders

if TYPE_CHECKING:  # the Ray workers import this module for nap(): keep it light
    from tests.execution.builders import Datums

    from loxo.execution.executor import Executor
    from loxo.execution.task import TaskSet, Transform

SETS_PER_WORKER = 4  # the job driver's default datum_set_spec


def nap(datum: Any) -> None:
    """The Python transform of the benchmark: sleep ``$NAP`` seconds."""
    time.sleep(float(datum.env["NAP"]))


def default_sets(d: Datums, transform: Transform, n: int, parallelism: int) -> list[TaskSet]:
    """``n`` datums cut into sets as the job driver cuts them by default."""
    tasks = [d.simple(f"d{i:04d}", f"{i}\n".encode()) for i in range(n)]
    per_set = max(1, math.ceil(n / (parallelism * SETS_PER_WORKER)))
    return [d.set(transform, tasks[i : i + per_set]) for i in range(0, n, per_set)]


def timed(executor: Executor, sets: list[TaskSet], parallelism: int) -> float:
    from loxo.execution.task import DatumState

    start = time.perf_counter()
    results = list(executor.run(sets, parallelism=parallelism))
    elapsed = time.perf_counter() - start
    bad = [r for r in results if r.state != DatumState.SUCCESS]
    expected = sum(len(ts.datums) for ts in sets)
    if bad or len(results) != expected:
        raise SystemExit(f"{len(bad)} of {len(results)}/{expected} datums failed: {bad[:1]}")
    return elapsed


def speedups(
    executor: Executor, d: Datums, t: Transform, n: int, levels: list[int], repeats: int
) -> dict[int, float]:
    """Wall time at each parallelism level, after a warm-up run at that level: the median
    of ``repeats`` runs from parallelism 4 on (a run of ~1 s takes one hiccup of this
    machine in full), one run below (8 s and more)."""
    times: dict[int, float] = {}
    for p in levels:
        sets = default_sets(d, t, n, p)
        timed(executor, sets, p)  # warm-up: workers started for this parallelism
        times[p] = statistics.median(
            timed(executor, sets, p) for _ in range(repeats if p >= 4 else 1)
        )
    return times


def show(times: dict[int, float]) -> str:
    return ", ".join(f"p{p} {x:.2f}s" for p, x in times.items())


def main() -> int:
    from tests.execution.builders import Datums
    from tests.raycluster import RayCluster, connected

    from loxo.execution.local import LocalExecutor
    from loxo.execution.ray_executor import RayExecutor
    from loxo.execution.task import Transform
    from loxo.storage.local import LocalStore

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="parallelism 1, 4, 16 only")
    ap.add_argument("--datums", type=int, default=64)
    ap.add_argument("--sleep", type=float, default=0.25)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per figure (median)")
    args = ap.parse_args()
    repeats = max(1, args.repeats)
    n, nap = args.datums, args.sleep
    levels = [1, 4, 16] if args.quick else [1, 2, 4, 8, 16]
    command = Transform(cmd=("sleep", f"{nap:g}"))
    python = Transform(python="ray_scaling:nap", env=(("NAP", f"{nap:g}"),))
    noop = Transform(cmd=("true",))
    rows: list[Row] = []
    notes: list[str] = []
    with scratch("ray") as tmp, RayCluster(nodes=2, cpus=8) as cluster, connected(cluster):
        os.environ["LOXO_SCRATCH"] = str(tmp / "scratch")
        d = Datums(LocalStore(tmp / "store"), tmp)
        ray_ex = RayExecutor(cluster.address, forward_env=("LOXO_SCRATCH",))
        local_ex = LocalExecutor(workers=max(levels))
        with ray_ex, local_ex:
            for label, t in (("command", command), ("python", python)):
                times = speedups(ray_ex, d, t, n, levels, repeats)
                notes.append(f"Ray, {label}: {show(times)}")
                for p in levels[1:]:
                    speedup = times[levels[0]] / times[p]
                    rows.append(
                        Row(
                            f"Ray: {n} x {label} sleep {nap:g}s, parallelism {p}: speedup",
                            speedup, float(p), "x", ratio=speedup / p, goal=">= 0.85",
                            ok=speedup >= 0.85 * p,
                        )
                    )  # fmt: skip
            times = speedups(local_ex, d, command, n, levels, repeats)
            notes.append(f"local, command: {show(times)}")
            for p in levels[1:]:
                speedup = times[levels[0]] / times[p]
                rows.append(
                    Row(
                        f"(reference) local executor, command, parallelism {p}: speedup",
                        speedup, float(p), "x", ratio=speedup / p,
                    )
                )  # fmt: skip
            for label, t, work in (("sleep", command, nap), ("no-op", noop, 0.0)):
                sets = default_sets(d, t, n, 1)
                runs: dict[str, list[float]] = {"local": [], "ray": []}
                for executor in (local_ex, ray_ex):
                    timed(executor, sets, 1)  # warm-up
                for _ in range(repeats):  # alternating, so a slow spell hits both
                    for name, executor in (("local", local_ex), ("ray", ray_ex)):
                        runs[name].append(timed(executor, sets, 1) / n - work)
                per = {name: statistics.median(x) for name, x in runs.items()}
                rows.append(
                    Row(
                        f"per-datum overhead ({label} command), default sets, parallelism 1",
                        per["ray"] * 1000, per["local"] * 1000, "ms",
                        ratio=per["ray"] / per["local"], goal="<= 2",
                        ok=per["ray"] <= 2 * per["local"],
                    )
                )  # fmt: skip
    notes = [
        f"two Ray nodes on loopback, 8 logical CPUs each, sharing this machine's "
        f"{os.cpu_count()} CPUs; the local executor runs up to {max(levels)} workers",
        "speedup: baseline column = N (ideal); ratio = speedup / N; from parallelism 4 "
        f"on, times are medians of {repeats} runs",
        f"overhead: medians of {repeats} alternating runs of each executor",
        "overhead: loxo column = Ray, baseline = local executor: wall time per datum minus "
        "its sleep",
        *notes,
    ]
    return print_table("Ray executor scaling", rows, notes)


if __name__ == "__main__":
    sys.exit(main())
