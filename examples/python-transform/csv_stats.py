"""Pipeline `stats`: per-station statistics, as a Python function in a warm worker.

``transform.python: "csv_stats:run"`` makes loxo import this module ONCE per worker
process and call :func:`run` once per datum, in that process: no interpreter start, no
re-import, and module-level state (a loaded model, a lookup table, a connection) is kept
across datums and jobs. The module-level code below stands for such an expensive setup;
the log lines show the worker's pid and how many datums it has already served.

Each datum is one CSV file (glob ``/*``); the output is ``/pfs/out/<station>.json`` with
count, min, max and mean of every numeric column, rounded to 2 decimals.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loxo.execution.pyfunc import Datum

_started = time.monotonic()
time.sleep(0.2)  # stands for loading a model or a big table: paid once per worker
print(f"csv_stats imported by worker pid {os.getpid()} (setup done once per worker)")
_calls = 0


def summarize(rows: list[dict[str, str]]) -> dict[str, dict[str, float]]:
    """count, min, max and mean of every column except ``hour``."""
    columns = [c for c in rows[0] if c != "hour"] if rows else []
    stats = {}
    for column in columns:
        values = [float(row[column]) for row in rows]
        stats[column] = {
            "count": len(values),
            "min": round(min(values), 2),
            "max": round(max(values), 2),
            "mean": round(statistics.fmean(values), 2),
        }
    return stats


def run(datum: Datum) -> None:
    global _calls
    _calls += 1
    path = datum.inputs["readings"]
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    (datum.out / f"{path.stem}.json").write_text(json.dumps(summarize(rows), indent=2) + "\n")
    age = time.monotonic() - _started
    print(f"pid {os.getpid()}: datum #{_calls} of this worker ({path.name}, module age {age:.2f}s)")
