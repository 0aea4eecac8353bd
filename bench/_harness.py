"""Shared plumbing for the benchmarks in ``bench/`` (not a benchmark itself).

Each ``bench/<name>.py`` is run as a script (``python bench/<name>.py [--quick]``), so this
directory is on ``sys.path`` and the scripts import this module as ``_harness``. It knows how
to make deterministic random data fast, drive the ``loxo`` CLI in a subprocess, measure a
store on disk, set up and time pipeline jobs through ``loxo.Client``, and print the result
table: metric, loxo, baseline, ratio, goal, PASS/MISS.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

# --- data ----------------------------------------------------------------------------------


def random_bytes(seed: str, n: int) -> bytes:
    """``n`` incompressible, deterministic bytes (BLAKE3 XOF: ~1.4 GB/s, 5x os.urandom)."""
    return blake3.blake3(seed.encode()).digest(length=n)


def write_random_file(path: Path, size: int, seed: str, block: int = 64 * MiB) -> None:
    """A file of ``size`` random bytes, every ``block`` different (so no chunk repeats)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        for i, off in enumerate(range(0, size, block)):
            f.write(random_bytes(f"{seed}/{i}", min(block, size - off)))


# --- processes and disks ---------------------------------------------------------------


@contextlib.contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A temp directory under /tmp, removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix=f"loxo-bench-{name}-", dir="/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


_SHIM = r"""
import sys
from loxo import Client

home, args = sys.argv[1], sys.argv[2:]
with Client(home) as c:
    if args[:2] == ["put", "file"]:
        rest = args[2:]
        recursive = "-r" in rest
        rest = [a for a in rest if a != "-r"]
        target, src = rest[0], rest[rest.index("-f") + 1]
        ref, _, path = target.partition(":")
        with c.modify_file(ref) as mf:
            if recursive:
                mf.put_dir(path or "/", src)
            else:
                mf.put_file_path(path, src)
    elif args[:2] == ["get", "file"]:
        ref, _, path = args[2].partition(":")
        out = args[args.index("-o") + 1]
        with open(out, "wb") as f:
            for chunk in c.iter_file(ref, path):
                f.write(chunk)
    else:
        sys.exit(f"shim: unsupported command {args}")
"""


def cli_available() -> bool:
    """Whether the real ``loxo`` CLI (``loxo.cli.main``) is importable yet."""
    try:
        return importlib.util.find_spec("loxo.cli.main") is not None
    except ModuleNotFoundError:
        return False


def loxo_argv(home: Path, *args: str) -> list[str]:
    """argv running ``loxo --home HOME args...``; a stand-in script over the same API while
    the CLI is not built (``cli_label()`` says which one ran)."""
    if cli_available():
        return [sys.executable, "-m", "loxo.cli.main", "--home", str(home), *args]
    return [sys.executable, "-c", _SHIM, str(home), *args]


def cli_label() -> str:
    return "loxo CLI" if cli_available() else "CLI stand-in (loxo.cli.main missing): python -c"


def run(argv: list[str]) -> float:
    """Run ``argv`` (failing loudly); its wall time in seconds."""
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {argv}\n{proc.stderr[-4000:]}")
    return elapsed


TIME = "/usr/bin/time"


def run_peak_rss(argv: list[str]) -> tuple[float, int]:
    """Run ``argv``; its wall time and peak RSS in bytes.

    Measured by GNU ``/usr/bin/time -f %M``, not by this process's ``wait4``: Linux bills a
    child's ``ru_maxrss`` with the peak RSS of the process that forked it (the exec'd mm
    inherits the parent's high-water mark when ``subprocess`` uses ``vfork``), so a parent
    that once held a 64 MiB buffer would see every child at >= 64 MiB. ``time`` is tiny."""
    if not os.access(TIME, os.X_OK):
        raise SystemExit(f"{TIME} (GNU time) is needed to measure a child's peak RSS")
    with tempfile.NamedTemporaryFile("r") as rep, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.run(
            [TIME, "-f", "%M", "-o", rep.name, *argv], stdout=subprocess.DEVNULL, stderr=err
        )
        elapsed = time.perf_counter() - t
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-4000:]
            raise SystemExit(f"command failed ({proc.returncode}): {argv}\n{tail}")
        kib = int(rep.read().split()[-1])
    return elapsed, kib * KiB


def disk_usage(path: Path) -> int:
    """Bytes allocated under ``path``, like ``du -s`` (blocks, not apparent sizes)."""
    total = 0
    for dirpath, _, names in os.walk(path):
        for n in names:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, n)).st_blocks * 512
    return total


def count_objects(path: Path) -> int:
    """Number of files under ``path`` (objects of a local store)."""
    return sum(len(names) for _, _, names in os.walk(path))


def drop_nothing() -> None:
    """Both loxo and the baseline run with warm caches: flush dirty pages first so one
    run's writeback does not bill the next."""
    os.sync()


def parse_size(text: str) -> int:
    """``"64M"``, ``"1G"``, ``"4096"`` -> bytes (binary units)."""
    units = {"K": KiB, "M": MiB, "G": GiB}
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


# --- pipelines -----------------------------------------------------------------------------


@contextlib.contextmanager
def env_var(name: str, value: str | None) -> Iterator[None]:
    """``os.environ[name] = value`` (unset for None) while the block runs.

    Local workers copy this process's environment when they start (lazily, at a client's
    first job), so settings such as ``LOXO_SANDBOX`` must be in place before that."""
    old = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def pipeline_doc(
    name: str, repo: str, transform: dict[str, object], parallelism: int = 1, glob: str = "/*"
) -> str:
    """A pipeline spec (JSON text) with one pfs input named ``in``."""
    return json.dumps(
        {
            "pipeline": {"name": name},
            "transform": transform,
            "input": {"pfs": {"repo": repo, "glob": glob, "name": "in"}},
            "parallelism_spec": {"constant": parallelism},
        }
    )


def put_files(client: Any, ref: str, files: Iterable[tuple[str, bytes]]) -> float:
    """One ``modify_file`` session putting every ``(path, bytes)``; its wall time."""
    t = time.perf_counter()
    with client.modify_file(ref) as mf:
        for path, data in files:
            mf.put_file(path, data)
    return time.perf_counter() - t


def timed_drive(client: Any) -> float:
    """Run every runnable job to the end (``client.drive()``); its wall time."""
    t = time.perf_counter()
    client.drive()
    return time.perf_counter() - t


def check_job(client: Any, pipeline: str, total: int, processed: int, skipped: int = 0) -> Any:
    """The pipeline's latest job, which must have succeeded with these datum counts."""
    job = client.list_job(pipeline)[0]
    got = (str(job.state), job.data_total, job.data_processed, job.data_skipped)
    want = ("SUCCESS", total, processed, skipped)
    if got != want:
        raise SystemExit(
            f"job {pipeline}@{job.id}: (state, total, processed, skipped) = {got}, "
            f"expected {want}; reason: {job.reason}"
        )
    return job


# --- reporting -----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table; ``ok`` is None for informational rows."""

    metric: str
    loxo: float
    baseline: float | None
    unit: str
    ratio: float | None = None
    goal: str = "-"
    ok: bool | None = None


def fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "s":
        return f"{v:.3f} s"
    if unit == "MB/s":
        return f"{v:.0f} MB/s"
    if unit == "MiB":
        return f"{v:.1f} MiB"
    if unit == "":
        return f"{v:,.0f}"
    return f"{v:.3g} {unit}"


def print_table(title: str, rows: list[Row], notes: Sequence[str] = ()) -> int:
    """Print the table; the number of MISS rows (the exit status)."""
    head = ("metric", "loxo", "baseline", "ratio", "goal", "result")
    body = [
        (
            r.metric,
            fmt(r.loxo, r.unit),
            fmt(r.baseline, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.3g}x",
            r.goal,
            "-" if r.ok is None else ("PASS" if r.ok else "MISS"),
        )
        for r in rows
    ]
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(f"\n== {title}")
    print(line.format(*head))
    print(line.format(*("-" * w for w in widths)))
    for b in body:
        print(line.format(*b))
    import loxo

    for n in [*notes, f"loxo {loxo.__version__} imported from {Path(loxo.__file__).parent}"]:
        print(f"  note: {n}")
    sys.stdout.flush()
    return sum(1 for r in rows if r.ok is False)
