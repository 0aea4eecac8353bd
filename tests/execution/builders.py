"""Hand-built datum tasks over a real local store, and helpers to inspect what ran."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loxo.execution.executor import Executor
from loxo.execution.output import output_entries, parse_root
from loxo.execution.task import (
    DatumInput,
    DatumResult,
    DatumTask,
    InputFile,
    TaskSet,
    Transform,
)
from loxo.storage.blobs import BlobReader, BlobWriter, MemoryChunkIndex
from loxo.storage.fileset import FileEntry, NodeCache
from loxo.storage.local import LocalStore


@dataclass
class Datums:
    """Builds inputs, tasks and sets whose content lives in ``store``."""

    store: LocalStore
    tmp: Path
    _ids: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))

    def file(self, path: str, data: bytes) -> InputFile:
        content = BlobWriter(self.store, MemoryChunkIndex()).write(io.BytesIO(data))
        return InputFile(path, content.size, content.hash, tuple(content.refs))

    def input(self, name: str, path: str, files: dict[str, bytes], **options: object) -> DatumInput:
        infiles = tuple(self.file(p, d) for p, d in sorted(files.items()))
        return DatumInput(name, name, "master", "c0ffee", path, "h", infiles, **options)  # type: ignore[arg-type]

    def task(self, datum_id: str, *inputs: DatumInput) -> DatumTask:
        env = [("PACH_DATUM_ID", datum_id)]
        for i in inputs:
            env += [(i.name, f"/pfs/{i.name}{i.path}"), (f"{i.name}_COMMIT", i.commit)]
        return DatumTask(datum_id, inputs, tuple(env))

    def simple(self, datum_id: str, data: bytes = b"hello\n") -> DatumTask:
        """A datum of one input ``in`` holding one file ``/a.txt``."""
        return self.task(datum_id, self.input("in", "/a.txt", {"/a.txt": data}))

    def set(
        self,
        transform: Transform,
        tasks: Iterable[DatumTask],
        job_id: str = "job1",
        **options: object,
    ) -> TaskSet:
        env = (
            ("PACH_JOB_ID", job_id),
            ("PPS_PIPELINE_NAME", "pipe"),
            ("PPS_PROJECT_NAME", "default"),
            ("PACH_OUTPUT_COMMIT_ID", "out-commit"),
        )
        return TaskSet(
            job_id,
            "pipe",
            "default",
            "out-commit",
            transform,
            self.store.url,
            tuple(tasks),
            env=env,
            **options,  # type: ignore[arg-type]
        )

    def output(self, result: DatumResult) -> dict[str, bytes]:
        """The datum's output files, read back through the fileset (verified reads)."""
        return self.output_of(result.output_root)

    def output_of(self, output_root: list[object] | None) -> dict[str, bytes]:
        """The files of an output root, read back through the fileset (verified reads)."""
        if output_root is None:
            return {}
        root = parse_root(output_root)
        blobs = BlobReader(self.store)
        return {e.path: blobs.read_all(e.refs) for e in output_entries(NodeCache(self.store), root)}

    def entries(self, result: DatumResult) -> dict[str, FileEntry]:
        """The datum's output entries by path (size, hash and chunk refs)."""
        assert result.output_root is not None
        root = parse_root(result.output_root)
        return {e.path: e for e in output_entries(NodeCache(self.store), root)}

    def unique(self, prefix: str) -> str:
        return f"{prefix}{os.getpid()}{next(self._ids)}"


def sh(script: str, **options: object) -> Transform:
    return Transform(cmd=("sh", "-c", script), **options)  # type: ignore[arg-type]


def by_id(results: Iterable[DatumResult]) -> dict[str, DatumResult]:
    out: dict[str, DatumResult] = {}
    for r in results:
        assert r.datum_id not in out, f"two results for datum {r.datum_id}"
        out[r.datum_id] = r
    return out


def lines(result: DatumResult, stream: str | None = None) -> list[str]:
    return [x.line for x in result.logs if stream is None or x.stream == stream]


class Background:
    """Consumes ``executor.run(...)`` in a thread, recording results and their times."""

    def __init__(self, executor: Executor, sets: list[TaskSet], parallelism: int = 1) -> None:
        self.results: list[DatumResult] = []
        self.error: BaseException | None = None
        self.start = time.monotonic()
        self._thread = threading.Thread(target=self._consume, args=(executor, sets, parallelism))
        self._thread.start()

    def _consume(self, executor: Executor, sets: list[TaskSet], parallelism: int) -> None:
        try:
            for r in executor.run(sets, parallelism=parallelism):
                self.results.append(r)
        except BaseException as e:
            self.error = e

    def join(self, timeout: float) -> float:
        """Seconds the run took; fails if it is still going after ``timeout``."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"run() still going after {timeout}s"
        if self.error is not None:
            raise self.error
        return time.monotonic() - self.start


def wait_for(path: Path, timeout: float = 10.0) -> str:
    """The content of ``path`` once it exists and is non-empty."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and (text := path.read_text()):
            return text
        time.sleep(0.02)
    raise AssertionError(f"{path} did not appear within {timeout}s")


def wait_glob(root: Path, pattern: str, timeout: float = 10.0) -> None:
    """Until some path matches ``root/pattern``."""
    end = time.monotonic() + timeout
    while not list(root.glob(pattern)):
        assert time.monotonic() < end, f"no {root}/{pattern} within {timeout}s"
        time.sleep(0.02)


def live_processes_matching(token: str) -> list[int]:
    """Pids of non-zombie processes whose command line contains ``token``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if token.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def descendants(pid: int | None = None) -> list[int]:
    """Live (non-zombie) descendants of ``pid`` (default: this process), without
    multiprocessing's shared helpers themselves (the forkserver and the resource tracker,
    one per interpreter) but with the workers the forkserver started for us."""
    parents: dict[int, list[tuple[int, bytes, str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append((int(entry), cmdline, fields[0]))
    found: list[int] = []
    todo = [os.getpid() if pid is None else pid]
    while todo:
        for child, cmdline, state in parents.get(todo.pop(), []):
            todo.append(child)
            helper = b"forkserver" in cmdline or b"resource_tracker" in cmdline
            if not helper and state != "Z":
                found.append(child)
    return found


def wait_no_descendants(timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while (left := descendants()) and time.monotonic() < end:
        time.sleep(0.05)
    assert not left, f"processes left behind: {left}"


def wait_sandboxes_gone(scratch: Path, timeout: float = 5.0) -> None:
    """Until no process (a worker's bwrap or agent) names a path under ``scratch``."""
    end = time.monotonic() + timeout
    while (left := live_processes_matching(str(scratch))) and time.monotonic() < end:
        time.sleep(0.05)
    assert not left, f"sandbox processes left behind: {left}"
