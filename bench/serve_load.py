"""Server load: 32 concurrent remote clients put and get small and 10 MiB files for 30 s.

Starts one real ``loxo serve`` process on loopback and drives it with ``--clients``
concurrent ``loxo.Client(address=...)`` clients, each in its own thread with its own
connection, spread over ``--procs`` worker processes. Each client loops: put a file (1 HTTP
request, one commit) on a branch it shares with other clients, then get it back at the
commit it got and compare the bytes; every ``--large-every``-th file is 10 MiB, the others
1-64 KiB. Then checks that nothing was lost: every commit a client got back exists and is in
its branch's history, every file reads back right at its commit, and every branch head holds
every file put to it. Goals (issue 5): zero errors, zero lost commits.

The baseline, measured in the same run before the load: the same loop with one thread on
the embedded client in this process (no HTTP, no concurrency), and a bare ``GET /healthz``
rate from one thread.

Why threads in a few processes: on a small machine the clients share the cores with the
server, so 32 processes would mostly add memory and scheduling noise, while one process of
32 threads could make the clients' GIL (making and comparing 10 MiB buffers) the limit;
``--procs 4`` x 8 threads keeps the clients at a fraction of a core (the table's CPU note
says how much) and the server, one Python process, is what saturates.

Run: ``python bench/serve_load.py [--quick] [--clients 32] [--seconds 30] [--procs 4]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _harness import KiB, MiB, Row, parse_size, print_table, random_bytes, scratch

import loxo
import loxo.errors

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, for tests/
from tests.serverproc import running_server

KINDS = ("put small", "get small", "put large", "get large")


@dataclass(frozen=True)
class Mix:
    """What each client does, and where."""

    targets: tuple[tuple[str, str], ...]  # (repo, branch); client i writes to targets[i % n]
    small_min: int
    small_max: int
    large: int
    large_every: int


@dataclass
class Put:
    """One file a client put, and the commit it got back."""

    repo: str
    branch: str
    path: str
    size: int
    seed: str
    commit: str


@dataclass
class Tally:
    """What one or more clients measured."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    puts: list[Put] = field(default_factory=list)
    bytes_moved: int = 0
    first: float = float("inf")  # wall-clock start of the first request
    last: float = 0.0  # wall-clock end of the last request
    cpu: float = 0.0  # client-side CPU seconds

    def add(self, other: Tally) -> None:
        for k, xs in other.latencies.items():
            self.latencies[k].extend(xs)
        self.errors.extend(other.errors)
        self.puts.extend(other.puts)
        self.bytes_moved += other.bytes_moved
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)
        self.cpu += other.cpu

    @property
    def requests(self) -> int:
        return sum(len(xs) for xs in self.latencies.values()) + len(self.errors)

    @property
    def elapsed(self) -> float:
        return max(self.last - self.first, 1e-9)


# --- one client --------------------------------------------------------------------------


def client_loop(client: Any, index: int, mix: Mix, start: float, stop: float) -> Tally:
    """Put then get-and-verify files until ``stop`` (wall clock); every exception is an
    error (recorded with its message), and the loop goes on."""
    tally = Tally()
    rng = random.Random(index)
    repo, branch = mix.targets[index % len(mix.targets)]
    while time.time() < start:
        time.sleep(0.001)
    i = 0
    while time.time() < stop:
        large = (i + index) % mix.large_every == 0
        size = mix.large if large else rng.randint(mix.small_min, mix.small_max)
        kind = "large" if large else "small"
        seed, path = f"c{index}/{i}", f"/c{index:02d}/f{i:06d}.bin"
        data = random_bytes(seed, size)
        i += 1
        step = "put"
        t0 = time.time()
        tally.first = min(tally.first, t0)
        try:
            info = client.put_file(f"{repo}@{branch}", path, data)
            t1 = time.time()
            tally.latencies[f"put {kind}"].append(t1 - t0)
            tally.puts.append(Put(repo, branch, path, size, seed, str(info.id)))
            step = "get"
            got = client.get_file(f"{repo}@{info.id}", path)
            t2 = time.time()
            tally.last = t2
            tally.latencies[f"get {kind}"].append(t2 - t1)
            tally.bytes_moved += 2 * size
            if got != data:
                tally.errors.append(
                    f"{step} {kind} {repo}@{info.id}:{path}: read {len(got)} bytes that differ "
                    f"from the {size} put"
                )
        except Exception as err:  # any failure is an error of the run; keep going
            tally.last = time.time()
            tally.errors.append(
                f"{step} {kind} {repo}@{branch}:{path}: {type(err).__name__}: {err}"
            )
    return tally


def remote_worker(address: str, indexes: list[int], mix: Mix, start: float, stop: float) -> Tally:
    """One worker process: a thread and a remote client per index."""
    clients = [loxo.Client(address=address) for _ in indexes]
    try:
        with ThreadPoolExecutor(len(indexes)) as pool:
            futures = [
                pool.submit(client_loop, c, i, mix, start, stop)
                for c, i in zip(clients, indexes, strict=True)
            ]
            total = Tally()
            for f in futures:
                total.add(f.result())
    finally:
        for c in clients:
            c.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total.cpu = usage.ru_utime + usage.ru_stime
    return total


# --- the checks ----------------------------------------------------------------------------


def verify(address: str, puts: list[Put]) -> dict[str, Any]:
    """Lost commits (missing, or not in their branch's history) and bad files (wrong bytes
    at their commit, or missing or wrong size at their branch's head)."""
    lost: list[str] = []
    bad: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def client() -> Any:
        if not hasattr(local, "c"):
            local.c = loxo.Client(address=address)
        return local.c

    def check(p: Put) -> None:
        c = client()
        try:
            c.inspect_commit(f"{p.repo}@{p.commit}")
        except loxo.errors.NotFoundError as err:
            with lock:
                lost.append(f"{p.repo}@{p.commit} ({p.path}): {err}")
            return
        try:
            ok = c.get_file(f"{p.repo}@{p.commit}", p.path) == random_bytes(p.seed, p.size)
            why = "wrong bytes"
        except loxo.errors.LoxoError as err:
            ok, why = False, f"{type(err).__name__}: {err}"
        if not ok:
            with lock:
                bad.append(f"{p.repo}@{p.commit}:{p.path}: {why}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(check, puts))

    with loxo.Client(address=address) as c:
        commits = 0
        for repo, branch in sorted({(p.repo, p.branch) for p in puts}):
            mine = [p for p in puts if (p.repo, p.branch) == (repo, branch)]
            history = {str(ci.id) for ci in c.list_commit(f"{repo}@{branch}")}
            commits += len(history)
            lost.extend(
                f"{repo}@{p.commit} ({p.path}): not in the history of {branch}"
                for p in mine
                if p.commit not in history
            )
            head = {e.path: e.size for e in c.walk_files(f"{repo}@{branch}")}
            bad.extend(
                f"{repo}@{branch}:{p.path}: {'missing' if p.path not in head else 'wrong size'}"
                " at the branch head"
                for p in mine
                if head.get(p.path) != p.size
            )
    return {"lost": lost, "bad": bad, "commits": commits}


# --- baselines -----------------------------------------------------------------------------


def embedded_baseline(home: Path, mix: Mix, seconds: float) -> Tally:
    """The same loop, one thread, on the embedded client (no server, no HTTP)."""
    with loxo.Client(home) as c:
        for repo in sorted({r for r, _ in mix.targets}):
            c.create_repo(repo)
        now = time.time()
        tally = client_loop(c, 0, mix, now, now + seconds)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        tally.cpu = usage.ru_utime + usage.ru_stime
    return tally


def healthz_rate(address: str, seconds: float) -> float:
    """Bare ``GET /healthz`` per second from one thread (the door's floor cost)."""
    n = 0
    with httpx.Client(base_url=address) as http:
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            http.get("/healthz").raise_for_status()
            n += 1
    return n / seconds


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


# --- the report ----------------------------------------------------------------------------


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def latency_rows(load: Tally, base: Tally) -> list[Row]:
    rows: list[Row] = []
    for kind in KINDS:
        xs, bs = load.latencies.get(kind, []), base.latencies.get(kind, [])
        rate, brate = len(xs) / load.elapsed, (len(bs) / base.elapsed if bs else None)
        rows.append(Row(f"{kind} req/s", rate, brate, "req/s", rate / brate if brate else None))
        for name, q in (("p50", 0.5), ("p99", 0.99)):
            v, b = pct(xs, q), pct(bs, q)
            if v is None:
                continue
            ratio = v / b if b else None
            if v < 1:  # milliseconds read better below a second
                v, b, unit = v * 1000, (None if b is None else b * 1000), "ms"
            else:
                unit = "s"
            rows.append(Row(f"{kind} {name} latency", v, b, unit, ratio))
    return rows


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 clients for 5 s (a smoke check)")
    ap.add_argument("--clients", type=int, default=None, help="concurrent clients (default 32)")
    ap.add_argument("--seconds", type=float, default=None, help="load duration (default 30)")
    ap.add_argument("--procs", type=int, default=4, help="client processes (default 4)")
    ap.add_argument("--repos", type=int, default=4, help="repos written (default 4)")
    ap.add_argument("--branches", type=int, default=2, help="branches per repo (default 2)")
    ap.add_argument("--small", default="1K-64K", help="small file sizes (default 1K-64K)")
    ap.add_argument("--large", default="10M", help="large file size (default 10M)")
    ap.add_argument("--large-every", type=int, default=20, help="1 file in N is large")
    ap.add_argument("--baseline-seconds", type=float, default=None, help="(default 10)")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    clients = args.clients or (4 if args.quick else 32)
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    base_seconds = args.baseline_seconds or (3.0 if args.quick else 10.0)
    procs = max(1, min(args.procs, clients))
    lo, _, hi = args.small.partition("-")
    targets = tuple(
        (f"load{r}", "master" if b == 0 else f"b{b}")
        for r in range(args.repos)
        for b in range(args.branches)
    )[:clients]
    mix = Mix(
        targets, parse_size(lo), parse_size(hi or lo), parse_size(args.large), args.large_every
    )

    with scratch("serve-load") as d:
        base = embedded_baseline(d / "embedded", mix, base_seconds)
        with running_server(d / "server", "--grpc-port", "-1") as server:
            address = server.http_url
            health = healthz_rate(address, min(3.0, base_seconds))
            with loxo.Client(address=address) as c:
                for repo in sorted({r for r, _ in targets}):
                    c.create_repo(repo)
            load, server_cpu = run_load(address, clients, procs, mix, seconds, server.proc.pid)
            t = time.perf_counter()
            checked = verify(address, load.puts)
            verify_s = time.perf_counter() - t

    return report(
        args, clients, procs, seconds, mix, load, base, health, server_cpu, checked, verify_s
    )


def run_load(
    address: str, clients: int, procs: int, mix: Mix, seconds: float, server_pid: int
) -> tuple[Tally, float]:
    """The load, from ``procs`` processes of ``clients / procs`` threads; its tally and the
    server's CPU seconds meanwhile."""
    groups = [list(range(clients))[p::procs] for p in range(procs)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(procs, mp_context=ctx) as pool:
        # warm the workers (imports) before the clock starts
        list(pool.map(_noop, range(procs * 4)))
        start = time.time() + 1.0
        cpu0 = cpu_seconds(server_pid)
        futures = [
            pool.submit(remote_worker, address, g, mix, start, start + seconds) for g in groups
        ]
        load = Tally()
        for f in futures:
            load.add(f.result())
        server_cpu = cpu_seconds(server_pid) - cpu0
    return load, server_cpu


def _noop(_: int) -> None:
    time.sleep(0.05)


def report(
    args: argparse.Namespace,
    clients: int,
    procs: int,
    seconds: float,
    mix: Mix,
    load: Tally,
    base: Tally,
    health: float,
    server_cpu: float,
    checked: dict[str, Any],
    verify_s: float,
) -> int:
    rate, brate = load.requests / load.elapsed, base.requests / base.elapsed
    mbs, bmbs = load.bytes_moved / load.elapsed / 1e6, base.bytes_moved / base.elapsed / 1e6
    rows = [
        Row("requests/s (all)", rate, brate, "req/s", rate / brate),
        *latency_rows(load, base),
        Row("throughput (put + get)", mbs, bmbs, "MB/s", mbs / bmbs),
        Row("GET /healthz req/s (1 client)", health, None, "req/s"),
        Row("requests", load.requests, base.requests, ""),
        Row("errors", len(load.errors), len(base.errors), "", None, "0", not load.errors),
        Row("commits got back", len(load.puts), len(base.puts), ""),
        Row("lost commits", len(checked["lost"]), None, "", None, "0", not checked["lost"]),
        Row("files wrong or missing", len(checked["bad"]), None, "", None, "0", not checked["bad"]),
    ]
    per_branch = clients / len(mix.targets)
    notes = [
        f"load: {clients} remote clients (threads, one connection each) in {procs} processes, "
        f"{seconds:.0f} s, on {len(mix.targets)} branches of {args.repos} repos "
        f"(~{per_branch:.0f} writers per branch)",
        f"mix: put_file (1 request, 1 commit) then get_file at that commit, verified; "
        f"1 in {mix.large_every} files {mix.large // MiB} MiB, others "
        f"{mix.small_min // KiB}-{mix.small_max // KiB} KiB",
        f"baseline: the same loop, 1 thread, embedded client in-process, {base.elapsed:.0f} s",
        f"CPU: server {server_cpu:.1f} s, clients {load.cpu:.1f} s over {load.elapsed:.1f} s "
        f"wall on {os.cpu_count()} cores (shared with other work: figures are noisy)",
        f"verified {len(load.puts):,} puts in {verify_s:.1f} s; the branches hold "
        f"{checked['commits']:,} commits",
    ]
    for e in _first_distinct(load.errors, 8):
        notes.append(f"error: {e}")
    for e in checked["lost"][:5] + checked["bad"][:5]:
        notes.append(f"check: {e}")
    return print_table("serve_load: concurrent remote put/get against one loxo serve", rows, notes)


def _first_distinct(messages: list[str], n: int) -> list[str]:
    """Up to ``n`` messages, one per distinct error (the text after the file name)."""
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    for m in messages:
        k = m.split(": ", 1)[-1][:120]
        counts[k] = counts.get(k, 0) + 1
        first.setdefault(k, m)
    return [f"{m}  (x{counts[k]})" for k, m in list(first.items())[:n]]


if __name__ == "__main__":
    sys.exit(main())
