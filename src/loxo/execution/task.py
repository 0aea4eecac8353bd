"""The executor contract: datum tasks in, datum results out, in domain terms.

``pps`` decides *what* runs (which datums, with which inputs and transform); an executor
decides *where* (this process, a local process pool, a Ray cluster). Everything here is a
plain, picklable value: a task carries references to input content in the object store
(never the bytes), and a result carries a reference to the datum's output fileset plus
small stats and log lines. Tasks are idempotent and may run more than once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from loxo.storage.blobs import DataRef


class DatumState(StrEnum):
    STARTING = "STARTING"
    SUCCESS = "SUCCESS"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    RECOVERED = "RECOVERED"


class InputFile(NamedTuple):
    """One file a datum reads: its original path in the input commit and its content.

    A named tuple, like :class:`DatumInput`: a job builds one per datum, and a tuple costs
    a fraction of a frozen dataclass to make."""

    path: str
    size: int
    hash: str
    refs: tuple[DataRef, ...]


class DatumInput(NamedTuple):
    """One input's part of a datum: appears at ``/pfs/<name>/<original path>``."""

    name: str
    repo: str
    branch: str
    commit: str
    path: str  # the glob match: a file, or a directory whose files are all in ``files``
    hash: str  # content hash of ``path`` (a file's hash, or the directory's hash)
    files: tuple[InputFile, ...]
    project: str = "default"
    join_on: str = ""
    group_by: str = ""
    empty_files: bool = False
    lazy: bool = False


@dataclass(frozen=True)
class Transform:
    """What to run for each datum: a command (argv, no shell) or a Python function."""

    cmd: tuple[str, ...] = ()
    stdin: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    err_cmd: tuple[str, ...] = ()
    err_stdin: tuple[str, ...] = ()
    accept_return_code: tuple[int, ...] = ()
    working_dir: str = ""
    user: str = ""
    image: str = ""
    python: str = ""  # "module:function", called once per datum in a warm worker


@dataclass(frozen=True)
class DatumTask:
    datum_id: str
    inputs: tuple[DatumInput, ...]
    env: tuple[tuple[str, str], ...] = ()  # PACH_DATUM_ID, <name>, <name>_COMMIT, ...


@dataclass(frozen=True)
class TaskSet:
    """A datum set: datums a worker runs one after another with the same transform."""

    job_id: str
    pipeline: str
    project: str
    output_commit: str
    transform: Transform
    store_url: str
    datums: tuple[DatumTask, ...]
    datum_tries: int = 3
    datum_timeout: float | None = None
    env: tuple[tuple[str, str], ...] = ()  # job-wide: PACH_JOB_ID, PPS_PIPELINE_NAME, ...
    resources: tuple[tuple[str, float], ...] = ()  # cpu, memory (bytes), gpu, disk
    private: tuple[str, ...] = ()  # host paths user code must not see (the loxo home)


@dataclass(frozen=True)
class LogLine:
    time: float
    stream: str  # "stdout" | "stderr" | "system"
    line: str


@dataclass
class DatumResult:
    """What a worker reports for one datum (after all its attempts)."""

    job_id: str
    datum_id: str
    state: DatumState
    attempts: int = 1
    output_root: list[object] | None = None  # NodeRef.to_list() of the output fileset
    output_files: int = 0
    upload_bytes: int = 0
    download_bytes: int = 0
    download_seconds: float = 0.0
    process_seconds: float = 0.0
    upload_seconds: float = 0.0
    started: float = 0.0
    finished: float = 0.0
    worker: str = ""
    error: str = ""  # why the last failed attempt failed (exit code, timeout, traceback tail)
    logs: list[LogLine] = field(default_factory=list)
