"""PPS records <-> pachyderm_sdk's ``pps`` messages.

Pipelines, jobs, datums and log lines become ``PipelineInfo``, ``JobInfo``, ``DatumInfo`` and
``LogMessage``; a binary ``CreatePipelineRequest`` becomes the pipeline-spec document loxo
parses (snake_case keys, durations as ``"30s"``), so it gets the same strict validation as a
spec file. Spec details (transform, input) are rebuilt from loxo's canonical spec.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import betterproto
from pachyderm_sdk.api import pfs, pps

from loxo.errors import InvalidArgumentError
from loxo.pps.model import DatumInfo, JobInfo, JobState, LogRecord, PipelineInfo, PipelineState
from loxo.pps.spec import parse_duration

from .convert_pfs import commit_msg, project_name, timestamp

JOB_STATES = {state: pps.JobState[f"JOB_{state.value}"] for state in JobState}
PIPELINE_STATES = {state: pps.PipelineState[f"PIPELINE_{state.value}"] for state in PipelineState}
DATUM_STATES = {s.name: s for s in pps.DatumState}
REQUEST_FLAGS = ("update", "reprocess", "dry_run")


def pipeline_ref(pipeline: pps.Pipeline | None) -> tuple[str, str]:
    """``(project, name)`` of a Pipeline message."""
    if pipeline is None or not pipeline.name:
        raise InvalidArgumentError("the request names no pipeline (set pipeline.name)")
    return project_name(pipeline.project), pipeline.name


def pipeline_msg(project: str, name: str) -> pps.Pipeline:
    return pps.Pipeline(name=name, project=pfs.Project(name=project))


def job_msg(project: str, pipeline: str, job_id: str) -> pps.Job:
    return pps.Job(pipeline=pipeline_msg(project, pipeline), id=job_id)


def _seconds(value: Any) -> timedelta | None:
    try:
        return timedelta(seconds=parse_duration(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _stats(x: JobInfo | DatumInfo) -> pps.ProcessStats:
    return pps.ProcessStats(
        download_time=timedelta(seconds=x.download_seconds),
        process_time=timedelta(seconds=x.process_seconds),
        upload_time=timedelta(seconds=x.upload_seconds),
        download_bytes=x.download_bytes,
        upload_bytes=x.upload_bytes,
    )


def _from_dict(cls: type[betterproto.Message], value: Any) -> Any:
    """A message read from part of loxo's spec (keys the proto lacks are left out)."""
    try:
        return cls().from_dict(value) if isinstance(value, dict) else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def job_info(info: JobInfo, spec: dict[str, Any] | None = None) -> pps.JobInfo:
    out_repo = commit_msg(info.project, info.pipeline, info.output_commit)
    msg = pps.JobInfo(
        job=job_msg(info.project, info.pipeline, info.id),
        pipeline_version=info.version,
        output_commit=out_repo,
        data_processed=info.data_processed,
        data_skipped=info.data_skipped,
        data_total=info.data_total,
        data_failed=info.data_failed,
        data_recovered=info.data_recovered,
        stats=_stats(info),
        state=JOB_STATES[info.state],
        reason=info.reason,
        created=timestamp(info.created),
    )
    if info.started is not None:
        msg.started = timestamp(info.started)
    if info.finished is not None:
        msg.finished = timestamp(info.finished)
    if spec is not None:
        msg.details = pps.JobInfoDetails(
            transform=_from_dict(pps.Transform, spec.get("transform")),
            parallelism_spec=_from_dict(pps.ParallelismSpec, spec.get("parallelism_spec")),
            input=_from_dict(pps.Input, spec.get("input")),
            datum_tries=spec.get("datum_tries", 0),
            datum_timeout=_seconds(spec.get("datum_timeout")),
            job_timeout=_seconds(spec.get("job_timeout")),
        )
    return msg


def _pipeline_type(spec: dict[str, Any]) -> pps.PipelineInfoPipelineType:
    if "spout" in spec:
        return pps.PipelineInfoPipelineType.PIPELINE_TYPE_SPOUT
    if "service" in spec:
        return pps.PipelineInfoPipelineType.PIPELINE_TYPE_SERVICE
    return pps.PipelineInfoPipelineType.PIPELINE_TYPE_TRANSFORM


def pipeline_info(info: PipelineInfo) -> pps.PipelineInfo:
    spec = info.spec
    parallelism = int((spec.get("parallelism_spec") or {}).get("constant", 1) or 1)
    details = pps.PipelineInfoDetails(
        transform=_from_dict(pps.Transform, spec.get("transform")),
        parallelism_spec=pps.ParallelismSpec(constant=parallelism),
        created_at=timestamp(info.created),
        updated_at=timestamp(info.updated),
        workers_requested=parallelism,
        output_branch=spec.get("output_branch", "master"),
        input=_from_dict(pps.Input, spec.get("input")),
        description=info.description,
        salt=info.salt,
        datum_timeout=_seconds(spec.get("datum_timeout")),
        job_timeout=_seconds(spec.get("job_timeout")),
        datum_tries=spec.get("datum_tries", 0),
        reprocess_spec=spec.get("reprocess_spec", ""),
        autoscaling=bool(spec.get("autoscaling")),
    )
    if spec.get("egress"):
        details.egress = pps.Egress(url=spec["egress"].get("url", ""))
    text = json.dumps(spec)
    msg = pps.PipelineInfo(
        pipeline=pipeline_msg(info.project, info.name),
        version=info.version,
        stopped=info.state == PipelineState.PAUSED,
        state=PIPELINE_STATES[info.state],
        parallelism=parallelism,
        type=_pipeline_type(spec),
        details=details,
        user_spec_json=text,
        effective_spec_json=text,
    )
    if info.last_job_state is not None:
        msg.last_job_state = JOB_STATES[info.last_job_state]
    return msg


def datum_info(info: DatumInfo, project: str) -> pps.DatumInfo:
    data = [
        pfs.FileInfo(
            file=pfs.File(
                commit=commit_msg(
                    project, i.get("repo", ""), i.get("commit") or "", i.get("branch")
                ),
                path=i.get("path", ""),
            )
        )
        for i in info.inputs
    ]
    return pps.DatumInfo(
        datum=pps.Datum(job=job_msg(project, info.pipeline, info.job_id), id=info.id),
        state=DATUM_STATES.get(info.state, pps.DatumState.UNKNOWN),
        stats=_stats(info),
        data=data,
    )


def log_message(record: LogRecord, project: str) -> pps.LogMessage:
    return pps.LogMessage(
        project_name=project,
        pipeline_name=record.pipeline,
        job_id=record.job_id,
        worker_id=record.worker,
        datum_id=record.datum_id,
        user=True,
        ts=timestamp(record.time),
        message=record.line,
    )


# --- requests -> spec documents ----------------------------------------------------------


def plain(value: Any) -> Any:
    """A betterproto ``to_pydict`` value as JSON-able data (durations as ``"30s"``)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.name
    return value


def message_doc(msg: betterproto.Message) -> dict[str, Any]:
    """The fields set in ``msg``, snake_case, as plain data."""
    snake: Any = betterproto.Casing.SNAKE
    doc: dict[str, Any] = plain(msg.to_pydict(casing=snake))
    return doc


def spec_document(req: pps.CreatePipelineRequest) -> dict[str, Any]:
    """The pipeline spec a CreatePipelineRequest carries (without its request flags)."""
    doc = message_doc(req)
    for flag in REQUEST_FLAGS:
        doc.pop(flag, None)
    return doc
