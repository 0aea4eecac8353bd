"""Pipeline, job and datum records as returned to callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from loxo.pfs.model import Record


class JobState(StrEnum):
    CREATED = "CREATED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    EGRESSING = "EGRESSING"
    FINISHING = "FINISHING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    KILLED = "KILLED"
    UNRUNNABLE = "UNRUNNABLE"

    @property
    def done(self) -> bool:
        return self in (JobState.SUCCESS, JobState.FAILURE, JobState.KILLED, JobState.UNRUNNABLE)


class PipelineState(StrEnum):
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    RESTARTING = "RESTARTING"
    FAILURE = "FAILURE"
    PAUSED = "PAUSED"
    STANDBY = "STANDBY"
    CRASHING = "CRASHING"


@dataclass(frozen=True)
class InputCommit(Record):
    name: str
    repo: str
    branch: str
    commit: str | None
    project: str = "default"


@dataclass(frozen=True)
class JobInfo(Record):
    pipeline: str
    project: str
    id: str
    version: int
    state: JobState
    reason: str
    output_commit: str
    inputs: list[InputCommit]
    created: float
    started: float | None
    finished: float | None
    data_total: int
    data_processed: int
    data_skipped: int
    data_failed: int
    data_recovered: int
    download_bytes: int
    upload_bytes: int
    download_seconds: float
    process_seconds: float
    upload_seconds: float


@dataclass(frozen=True)
class PipelineInfo(Record):
    name: str
    project: str
    version: int
    state: PipelineState
    description: str
    created: float
    updated: float
    last_job_state: JobState | None
    last_job_id: str | None
    spec: dict[str, Any]
    salt: str
    inputs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PipelineVersion(Record):
    """One version of a pipeline: the spec it ran with from ``created`` on."""

    pipeline: str
    project: str
    version: int
    spec: dict[str, Any]
    salt: str
    created: float


@dataclass(frozen=True)
class DatumInfo(Record):
    id: str
    job_id: str
    pipeline: str
    state: str
    hash: str
    inputs: list[dict[str, str]]
    attempts: int
    error: str
    started: float | None
    finished: float | None
    worker: str
    download_seconds: float
    process_seconds: float
    upload_seconds: float
    download_bytes: int
    upload_bytes: int


@dataclass(frozen=True)
class LogRecord(Record):
    pipeline: str
    job_id: str
    datum_id: str
    time: float
    stream: str
    worker: str
    line: str


@dataclass(frozen=True)
class JobProgress(Record):
    """A running job's counters, for live displays."""

    pipeline: str
    job_id: str
    total: int
    processed: int
    skipped: int
    failed: int
    recovered: int
    started: float
    state: JobState
