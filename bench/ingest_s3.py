"""Ingest into the S3 store on loopback vs the local store: 1 GiB and 100,000 small files.

The S3 server is moto's (``tests/s3server.py``, a child process on 127.0.0.1), so the
figures measure loxo's S3 path (boto3 requests, multipart uploads of 16 MiB packs,
conditional puts of fileset nodes) plus moto's request handling, not a network or AWS.
Each run ``put_dir``s a tree through the in-process API into a fresh home: one with its
objects in a local ``objects/`` directory (the baseline), one on ``s3://bucket/run-N``.
Runs are interleaved and medians compared; each S3 run's objects are deleted afterwards.

1. 1 GiB as 16 x 64 MiB random files (``--quick``: 64 MiB, 4 files);
2. 100,000 x 1 KiB files in 100 directories (``--quick``: 10,000).

Informational (no goal): the ratio S3 / local throughput, the objects each ingest left
in the store, and a second baseline on the same server: what the plain AWS client does
with the same files -- boto3's ``upload_file`` (s3transfer: multipart with 8 MiB parts,
10 threads per file) over 10 files at a time, as ``aws s3 cp --recursive`` does -- so
the S3 figure can be told apart from the server's own speed. For the small files that
baseline uploads the first ``--raw-small`` files only (default 2,000) and compares rates.

Run: ``python bench/ingest_s3.py [--quick] [--size 1G] [--files 16] [--small 100000]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _harness import MiB, Row, parse_size, print_table, random_bytes, scratch, write_random_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.s3server

from tests.s3server import CREDENTIALS, S3Server

from loxo.pfs.api import PFS


def make_large(src: Path, total: int, files: int) -> None:
    for i in range(files):
        write_random_file(src / f"f{i:02d}.bin", total // files, f"ingest-large/{i}")


def make_small(src: Path, files: int, dirs: int = 100, size: int = 1024) -> None:
    data = random_bytes("ingest-small", files * size)
    for i in range(files):
        d = src / f"d{i % dirs:03d}"
        if i < dirs:
            d.mkdir(parents=True)
        (d / f"f{i:06d}").write_bytes(data[i * size : (i + 1) * size])


def ingest(home: Path, store_url: str | None, src: Path) -> tuple[float, int]:
    """Seconds to ``put_dir`` ``src`` into a new repo of a new home; objects stored."""
    pfs = PFS.open(home, store_url)
    try:
        pfs.create_repo("r")
        t = time.perf_counter()
        with pfs.modify_file("r@master") as mf:
            mf.put_dir("/", src)
        elapsed = time.perf_counter() - t
        objects = list(pfs.store.list())
        if store_url:  # free the server's memory and disk for the next run
            for info in objects:
                pfs.store.delete(info.key)
        return elapsed, len(objects)
    finally:
        pfs.close()


def raw_upload(server: S3Server, bucket: str, prefix: str, root: Path, paths: list[Path]) -> float:
    """Seconds for boto3's ``upload_file`` of ``paths`` (10 at a time); then deleted."""
    client = server.client()

    def one(path: Path) -> None:
        client.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(root)}")

    t = time.perf_counter()
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(one, paths))
    elapsed = time.perf_counter() - t
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="64 MiB in 4 files; 10,000 small")
    ap.add_argument("--size", default=None, help="bytes of the large tree (default 1G)")
    ap.add_argument("--files", type=int, default=None, help="files in the large tree (16)")
    ap.add_argument("--small", type=int, default=None, help="small files (default 100000)")
    ap.add_argument("--repeats", type=int, default=None, help="interleaved runs (3; quick 1)")
    ap.add_argument("--raw-small", type=int, default=2_000, help="small files boto3 uploads")
    args = ap.parse_args()
    total = parse_size(args.size or ("64M" if args.quick else "1G"))
    files = args.files or (4 if args.quick else 16)
    small = args.small or (10_000 if args.quick else 100_000)
    repeats = args.repeats or (1 if args.quick else 3)
    os.environ.update(CREDENTIALS)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(name, None)
    rows: list[Row] = []
    notes = [
        f"large: {files} files, {total / MiB:.0f} MiB; small: {small:,} x 1 KiB in 100 dirs",
        "S3: moto server in a child process on 127.0.0.1 (baseline: local store, same disk)",
        f"medians of {repeats} interleaved run(s); API put_dir into a fresh home each",
    ]
    with scratch("ingest-s3") as work, S3Server() as server:
        bucket = server.create_bucket(f"bench-{uuid.uuid4().hex[:8]}")
        s3 = f"s3://{bucket}"
        endpoint = f"?endpoint={server.endpoint}"
        large, small_src = work / "large", work / "small"
        make_large(large, total, files)
        make_small(small_src, small)
        for name, src, nbytes, nfiles, sample in (
            ("1 GiB" if not args.quick else "large", large, total, files, files),
            ("small files", small_src, small * 1024, small, min(small, args.raw_small)),
        ):
            r, n, s3_seconds = compare(name, src, nbytes, nfiles, work, s3, endpoint, repeats)
            rows += r
            notes += n
            paths = sorted(p for p in src.rglob("*") if p.is_file())[:sample]
            raw = statistics.median(
                raw_upload(server, bucket, f"raw-{i}", src, paths) for i in range(repeats)
            )
            loxo_rate, raw_rate = nfiles / s3_seconds, sample / raw
            rows.append(
                Row(f"{name}: files/s (S3 loxo vs boto3 upload_file, same server)",
                    loxo_rate, raw_rate, "", loxo_rate / raw_rate)
            )  # fmt: skip
            notes.append(f"{name}: boto3 upload_file of {sample:,} files: {raw:.2f} s")
    return print_table("ingest_s3: put_dir into S3 (moto on loopback) vs local", rows, notes)


def compare(
    name: str,
    src: Path,
    nbytes: int,
    nfiles: int,
    work: Path,
    s3: str,
    endpoint: str,
    repeats: int,
) -> tuple[list[Row], list[str], float]:
    """Interleaved ingests of ``src`` into local and S3 homes: table rows, a note, and the
    median seconds of the S3 ingests."""
    tag = name.replace(" ", "-")
    local: list[float] = []
    remote: list[float] = []
    counts = (0, 0)
    for i in range(repeats):
        t_local, n_local = ingest(work / f"{tag}-local-{i}", None, src)
        t_s3, n_s3 = ingest(work / f"{tag}-s3-{i}", f"{s3}/{tag}-{i}{endpoint}", src)
        local.append(t_local)
        remote.append(t_s3)
        counts = (n_local, n_s3)
    lo, re = statistics.median(local), statistics.median(remote)
    mb = nbytes / 1e6
    rows = [
        Row(f"{name}: MB/s (S3 vs local)", mb / re, mb / lo, "MB/s", lo / re),
        Row(f"{name}: files/s (S3 vs local)", nfiles / re, nfiles / lo, "", lo / re),
        Row(f"{name}: objects stored (S3, local)", counts[1], counts[0], "", None),
    ]
    runs = "local " + ", ".join(f"{x:.2f}" for x in local)
    runs += "; S3 " + ", ".join(f"{x:.2f}" for x in remote)
    return rows, [f"{name} runs (s): {runs}"], re


if __name__ == "__main__":
    sys.exit(main())
